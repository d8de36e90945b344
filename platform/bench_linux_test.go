//go:build linux

package platform

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/sys/unix"

	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/internal/testpkt"
)

// The live capture benchmark. A goroutine in the peer namespace blasts
// 60-byte UDP frames (sendmmsg on a packet socket, addressed to a MAC no
// host owns so no stack answers them) for a bounded time while three
// capturers read the same frames at the same time on the other end of the
// veth: pkttap, tcpdump (libpcap's TPACKET_V3, "tcpdump -i IF -w
// /dev/null") and gopacket's afpacket (pure Go), each with its default
// ring. Running them together means they see exactly the same traffic at
// the same rate: CPU per packet depends on the rate, since a reader that is
// woken for fewer packets pays its wake-ups over fewer of them. Each reports
// packets captured, kernel drops, and its CPU time per packet captured: the
// reading thread's (RUSAGE_THREAD) for the in-process readers, the tcpdump
// process's rusage minus that of an idle tcpdump run (start-up and shutdown)
// for tcpdump.
//
// The blast lasts 200 ms by default, so that "go test -bench . -benchtime=1x"
// finishes in a few seconds; PKTTAP_BENCH_BIG=1 makes it 2 s for figures
// worth reporting.

// benchBlast returns how long each capturer is blasted.
func benchBlast() time.Duration {
	if os.Getenv("PKTTAP_BENCH_BIG") != "" {
		return 2 * time.Second
	}
	return 200 * time.Millisecond
}

// capResult is one capturer's figures.
type capResult struct {
	captured, received, dropped uint64
	cpu                         time.Duration
}

func (r capResult) nsPerPacket() float64 {
	if r.captured == 0 {
		return 0
	}
	return float64(r.cpu.Nanoseconds()) / float64(r.captured)
}

func BenchmarkLiveCapture(b *testing.B) {
	v := newVethNet(b)
	tcpdump := testenv.LookPath(b, "tcpdump", "tcpdump")
	frame := udpFrame(v)
	d := benchBlast()
	blaster := netnstest.NewRawSender(b, v.NSB, v.IfB)

	var pk, td, gp capResult
	var sent uint64
	for b.Loop() {
		idle := startTcpdump(b, v, tcpdump).finish(b, time.Time{})
		pkc := startPkttap(b, v)
		tdc := startTcpdump(b, v, tcpdump)
		gpc := startGopacket(b, v)
		var err error
		if sent, err = blast(blaster, frame, d); err != nil {
			b.Fatal(err)
		}
		end := time.Now()
		time.Sleep(settle)
		pk = pkc.finish(b)
		gp = gpc.finish(b)
		td = tdc.finish(b, end.Add(1100*time.Millisecond))
		td.cpu -= idle.cpu
	}
	for _, r := range []struct {
		name string
		res  capResult
	}{{"pkttap", pk}, {"tcpdump", td}, {"gopacket", gp}} {
		b.Logf("%-8s sent %8d (%.2f Mpps) captured %8d received %8d dropped %6d cpu %7.1f ms = %5.1f ns/pkt",
			r.name, sent, float64(sent)/d.Seconds()/1e6, r.res.captured, r.res.received, r.res.dropped,
			float64(r.res.cpu.Microseconds())/1000, r.res.nsPerPacket())
		b.ReportMetric(r.res.nsPerPacket(), r.name+"-ns/pkt")
		b.ReportMetric(float64(r.res.dropped), r.name+"-drops")
	}
	if td.nsPerPacket() > 0 {
		b.ReportMetric(pk.nsPerPacket()/td.nsPerPacket(), "pkttap/tcpdump")
	}
	if gp.nsPerPacket() > 0 {
		b.ReportMetric(pk.nsPerPacket()/gp.nsPerPacket(), "pkttap/gopacket")
	}
	b.ReportMetric(float64(sent)/d.Seconds()/1e6, "sent-Mpps")
}

// udpFrame builds a 60-byte Ethernet/IPv4/UDP frame from B to a MAC address
// nobody owns, so it is captured on A but answered by no one.
func udpFrame(v *netnstest.Pair) []byte {
	src, _, _ := net.ParseCIDR(v.CIDRB)
	dst, _, _ := net.ParseCIDR(v.CIDRA)
	ip := testpkt.IPv4(testpkt.ProtoUDP, src.To4(), dst.To4(), testpkt.UDP(9, 9, make([]byte, 18)))
	return netnstest.EthFrame(net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}, v.MACB, testpkt.EtherTypeIPv4, ip)
}

// mmsghdr is struct mmsghdr.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// blast sends frame as fast as sendmmsg allows for d and returns how many
// frames the kernel took.
func blast(s *netnstest.RawSender, frame []byte, d time.Duration) (uint64, error) {
	const batch = 256
	iov := unix.Iovec{Base: &frame[0]}
	iov.SetLen(len(frame))
	msgs := make([]mmsghdr, batch)
	for i := range msgs {
		msgs[i].hdr.Iov = &iov
		msgs[i].hdr.SetIovlen(1)
	}
	var sent uint64
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(s.FD()), uintptr(unsafe.Pointer(&msgs[0])), batch, 0, 0, 0)
		switch errno {
		case 0:
			sent += uint64(n)
		case unix.EINTR, unix.EAGAIN, unix.ENOBUFS:
		default:
			return sent, fmt.Errorf("sendmmsg: %w", errno)
		}
	}
	runtime.KeepAlive(frame)
	return sent, nil
}

// threadCPU returns the calling thread's user+system CPU time.
func threadCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readerFunc reads one packet; it returns false when the reader must stop.
type readerFunc func() bool

// runReader counts packets on a locked thread until it has target of them
// (set once the blast is over) or read says stop, measuring its CPU time.
func runReader(read readerFunc, target *atomic.Uint64, done chan<- capResult) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	var n uint64
	for n < target.Load() && read() {
		n++
	}
	done <- capResult{captured: n, cpu: threadCPU() - start}
}

// settle waits for the last partly filled ring block to be handed over.
const settle = 100 * time.Millisecond

// readerCapture is an in-process capturer counting packets on its own
// thread.
type readerCapture struct {
	target atomic.Uint64
	done   chan capResult
	stats  func() (received, dropped uint64)
	stop   func() // makes a blocked reader return
	close  func() // releases the capture once the reader has returned
}

func newReaderCapture(read readerFunc, stats func() (uint64, uint64), stop, close func()) *readerCapture {
	c := &readerCapture{done: make(chan capResult, 1), stats: stats, stop: stop, close: close}
	c.target.Store(^uint64(0))
	go runReader(read, &c.target, c.done)
	return c
}

// finish tells the reader how many packets reached its ring and waits for
// it to read them all (or gives up after 2 s).
func (c *readerCapture) finish(b *testing.B) capResult {
	rcv, drop := c.stats()
	c.target.Store(rcv - drop)
	var r capResult
	select {
	case r = <-c.done:
	case <-time.After(2 * time.Second):
		c.stop()
		r = <-c.done
	}
	r.received, r.dropped = c.stats()
	c.stop()
	c.close()
	return r
}

func startPkttap(b *testing.B, v *netnstest.Pair) *readerCapture {
	src := openIn(b, v.NSA, Config{Interface: v.IfA})
	return newReaderCapture(func() bool {
		_, err := src.NextZeroCopy()
		return err == nil
	}, func() (uint64, uint64) {
		st, err := src.Stats()
		if err != nil {
			b.Fatal(err)
		}
		return st.Received, st.Dropped
	}, func() { src.Close() }, func() {})
}

func startGopacket(b *testing.B, v *netnstest.Pair) *readerCapture {
	var tp *afpacket.TPacket
	var err error
	netnstest.Run(b, v.NSA, func() {
		tp, err = afpacket.NewTPacket(afpacket.OptInterface(v.IfA), afpacket.OptPollTimeout(50*time.Millisecond))
	})
	if err != nil {
		b.Fatalf("gopacket afpacket: %v", err)
	}
	var stop atomic.Bool
	return newReaderCapture(func() bool {
		for {
			_, _, err := tp.ZeroCopyReadPacketData()
			if err == nil {
				return true
			}
			if !errors.Is(err, afpacket.ErrTimeout) || stop.Load() {
				return false
			}
		}
	}, func() (uint64, uint64) {
		_, st, err := tp.SocketStats()
		if err != nil {
			b.Fatal(err)
		}
		return uint64(st.Packets()), uint64(st.Drops())
	}, func() { stop.Store(true) }, tp.Close)
}

// tcpdump's closing statistics.
var (
	tcpdumpCaptured = regexp.MustCompile(`(\d+) packets? captured`)
	tcpdumpReceived = regexp.MustCompile(`(\d+) packets? received by filter`)
	tcpdumpDropped  = regexp.MustCompile(`(\d+) packets? dropped by kernel`)
)

// tcpdumpCapture is a running tcpdump.
type tcpdumpCapture struct {
	cmd *exec.Cmd
	sc  *bufio.Scanner
	out strings.Builder
}

// startTcpdump starts tcpdump on A and waits until it listens.
func startTcpdump(b *testing.B, v *netnstest.Pair, tcpdump string) *tcpdumpCapture {
	c := &tcpdumpCapture{cmd: exec.Command("ip", "netns", "exec", v.NSA, tcpdump, "-i", v.IfA, "-w", "/dev/null", "-n")}
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		b.Fatalf("start tcpdump: %v", err)
	}
	c.sc = bufio.NewScanner(stderr)
	for c.sc.Scan() {
		c.out.WriteString(c.sc.Text() + "\n")
		if strings.Contains(c.sc.Text(), "listening on") {
			return c
		}
	}
	c.cmd.Wait()
	b.Fatalf("tcpdump did not start:\n%s", c.out.String())
	return nil
}

// finish stops tcpdump at the given time (for the last ring block:
// libpcap's block timeout is tcpdump's 1 s read timeout) and reads its
// closing statistics and CPU time.
func (c *tcpdumpCapture) finish(b *testing.B, at time.Time) capResult {
	time.Sleep(time.Until(at))
	c.cmd.Process.Signal(os.Interrupt)
	for c.sc.Scan() {
		c.out.WriteString(c.sc.Text() + "\n")
	}
	if err := c.cmd.Wait(); err != nil {
		b.Fatalf("tcpdump: %v\n%s", err, c.out.String())
	}
	ru := c.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	num := func(re *regexp.Regexp) uint64 {
		m := re.FindStringSubmatch(c.out.String())
		if m == nil {
			b.Fatalf("no %q in tcpdump's output:\n%s", re, c.out.String())
		}
		n, _ := strconv.ParseUint(m[1], 10, 64)
		return n
	}
	return capResult{
		captured: num(tcpdumpCaptured), received: num(tcpdumpReceived), dropped: num(tcpdumpDropped),
		cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
	}
}
