//go:build unix

package platform

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// bpfPair is a bpfReader reading the far end of a datagram socket pair:
// each write of a BPF buffer to dev is what one read of a /dev/bpf device
// returns (a datagram keeps the buffer whole, as the device does).
type bpfPair struct {
	r     *bpfReader
	dev   int          // the writer's end
	stats atomic.Int64 // how often readStats ran
}

// newBPFPair opens a pair and a reader on it with the given link type,
// snap length, buffer size and read timeout. The reader's end is moved to
// descriptor minFD or above when minFD is not zero.
func newBPFPair(t testing.TB, lt pcapio.LinkType, snaplen, bufSize int, timeout time.Duration, minFD int) *bpfPair {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	rfd := fds[0]
	if minFD > 0 {
		hi, err := unix.FcntlInt(uintptr(rfd), unix.F_DUPFD_CLOEXEC, minFD)
		if err != nil {
			t.Fatalf("move the descriptor to %d or above: %v", minFD, err)
		}
		unix.Close(rfd)
		rfd = hi
	}
	// A big send buffer, so the writer of a benchmark runs ahead.
	_ = unix.SetsockoptInt(fds[1], unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	p := &bpfPair{dev: fds[1]}
	p.r, err = newBPFReader(bpfReaderConfig{
		fd: rfd, bufSize: bufSize, timeout: timeout, lt: lt, snaplen: snaplen, ifindex: 7, ifname: "en0",
		readStats: func(fd int) (Stats, error) {
			n := p.stats.Add(1)
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
				return Stats{}, err // the device must still be open
			}
			return Stats{Received: uint64(100 * n), Dropped: uint64(n)}, nil
		},
	})
	if err != nil {
		unix.Close(rfd)
		unix.Close(fds[1])
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.r.Close()
		unix.Close(p.dev)
	})
	return p
}

// send writes one BPF buffer holding recs.
func (p *bpfPair) send(t testing.TB, recs ...bpfRec) {
	t.Helper()
	var buf []byte
	for _, r := range recs {
		buf = appendBPFRecord(buf, r)
	}
	p.sendRaw(t, buf)
}

func (p *bpfPair) sendRaw(t testing.TB, buf []byte) {
	t.Helper()
	if _, err := unix.Write(p.dev, buf); err != nil {
		t.Fatal(err)
	}
}

// frames returns Ethernet frames carrying UDP datagrams of the given
// payload sizes.
func frames(sizes ...int) [][]byte {
	var out [][]byte
	for i, n := range sizes {
		ip := testpkt.IPv4(testpkt.ProtoUDP, testpkt.IPv4A, testpkt.IPv4B, testpkt.UDP(40000, uint16(1000+i), bytes.Repeat([]byte{byte(i)}, n)))
		out = append(out, netnstest.EthFrame(testpkt.MACB, testpkt.MACA, testpkt.EtherTypeIPv4, ip))
	}
	return out
}

// TestBPFReaderRecords reads buffers as macOS's BPF writes them: several
// records a read, reads shorter than the buffer, the header lengths of
// Ethernet (18) and NULL (20) devices, records cut by the snap length,
// and a buffer whose last record is cut short, which is an error that
// ends that buffer only.
func TestBPFReaderRecords(t *testing.T) {
	p := newBPFPair(t, pcapio.LinkTypeEthernet, 100, 64<<10, time.Second, 0)
	fs := frames(10, 200, 0, 31)
	type want struct {
		data      []byte
		length    int
		sec, usec uint32
	}
	var wants []want
	// One read, three records (the second longer than the snap length).
	var recs []bpfRec
	for i, f := range fs[:3] {
		recs = append(recs, bpfRec{sec: 1700000000 + uint32(i), usec: 999999 - uint32(i), datalen: uint32(len(f) + 4), data: f})
		wants = append(wants, want{data: f, length: len(f) + 4, sec: 1700000000 + uint32(i), usec: 999999 - uint32(i)})
	}
	p.send(t, recs...)
	// One read, one record with a NULL device's header length.
	null := append([]byte{2, 0, 0, 0}, fs[3][14:]...)
	p.send(t, bpfRec{sec: 5, usec: 6, datalen: uint32(len(null)), hdrlen: bpfKernelHdrLen(4), data: null})
	wants = append(wants, want{data: null, length: len(null), sec: 5, usec: 6})
	for i, w := range wants {
		pkt, err := p.r.NextZeroCopy()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		wantData := w.data
		if len(wantData) > 100 {
			wantData = wantData[:100]
		}
		if !bytes.Equal(pkt.Data, wantData) || pkt.Length != w.length || pkt.LinkType != pcapio.LinkTypeEthernet || pkt.InterfaceIndex != 7 ||
			!pkt.Timestamp.Equal(time.Unix(int64(w.sec), int64(w.usec)*1000)) {
			t.Errorf("packet %d = %d bytes %x, length %d, %v, if %d;\nwant %d bytes %x, length %d, %v",
				i, len(pkt.Data), pkt.Data, pkt.Length, pkt.Timestamp, pkt.InterfaceIndex,
				len(wantData), wantData, w.length, time.Unix(int64(w.sec), int64(w.usec)*1000))
		}
	}

	// A buffer whose second record runs past the end: the first is
	// delivered, then an error, then the next read carries on.
	good := appendBPFRecord(nil, bpfRec{sec: 9, datalen: uint32(len(fs[0])), data: fs[0]})
	cut := appendBPFRecord(bytes.Clone(good), bpfRec{sec: 10, datalen: 60, data: fs[1]})
	p.sendRaw(t, cut[:len(good)+30])
	p.send(t, bpfRec{sec: 11, datalen: uint32(len(fs[2])), data: fs[2]})
	if pkt, err := p.r.NextZeroCopy(); err != nil || !bytes.Equal(pkt.Data, fs[0]) {
		t.Fatalf("first record of a cut buffer: %x, %v", pkt.Data, err)
	}
	_, err := p.r.NextZeroCopy()
	var pe *PlatformError
	if !errors.As(err, &pe) || pe.Op != "read" || !strings.Contains(err.Error(), "does not fit") {
		t.Fatalf("cut record: %v, want a read error saying the record does not fit", err)
	}
	if pkt, err := p.r.NextZeroCopy(); err != nil || pkt.Timestamp.Unix() != 11 || !bytes.Equal(pkt.Data, fs[2]) {
		t.Fatalf("the buffer after a cut one: %v, %x, %v", pkt.Timestamp, pkt.Data, err)
	}
	// NextInto copies into the caller's buffer.
	p.send(t, bpfRec{sec: 12, datalen: uint32(len(fs[3])), data: fs[3]})
	mine := make([]byte, 0, 128)
	if pkt, err := p.r.NextInto(mine); err != nil || !bytes.Equal(pkt.Data, fs[3]) || &pkt.Data[0] != &mine[:1][0] {
		t.Fatalf("NextInto: %x, %v; want the packet in the caller's buffer", pkt.Data, err)
	}
}

// TestBPFReaderClose blocks a reader on an idle device, closes it from
// another goroutine, and checks that the reader returns ErrClosed at once,
// that the counters were read from the device before it was closed, and
// that the descriptors are closed.
func TestBPFReaderClose(t *testing.T) {
	for _, timeout := range []time.Duration{0, 20 * time.Millisecond} {
		p := newBPFPair(t, pcapio.LinkTypeEthernet, 1500, 4096, timeout, 0)
		fds := []int{p.r.fd, p.r.wakeR, p.r.wakeW}
		if st, err := p.r.Stats(); err != nil || st.Received != 100 {
			t.Fatalf("Stats = %+v, %v", st, err)
		}
		errc := make(chan error, 1)
		go func() {
			_, err := p.r.NextZeroCopy()
			errc <- err
		}()
		time.Sleep(50 * time.Millisecond) // let it block in poll (and time out, for 20 ms)
		select {
		case err := <-errc:
			t.Fatalf("timeout %v: NextZeroCopy returned %v on an idle device", timeout, err)
		default:
		}
		start := time.Now()
		if err := p.r.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		select {
		case err := <-errc:
			if !errors.Is(err, ErrClosed) {
				t.Errorf("NextZeroCopy after Close = %v, want ErrClosed", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Close did not wake the blocked reader")
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Close took %v", d)
		}
		st, err := p.r.Stats()
		if err != nil || st.Received != 200 || st.Dropped != 2 {
			t.Errorf("Stats after Close = %+v, %v; want the counters read at Close (200, 2)", st, err)
		}
		if n := p.stats.Load(); n != 2 {
			t.Errorf("the device's counters were read %d times, want 2 (Stats, Close)", n)
		}
		for _, fd := range fds {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
				t.Errorf("descriptor %d still open after Close (%v)", fd, err)
			}
		}
		if err := p.r.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
		if _, err := p.r.NextZeroCopy(); !errors.Is(err, ErrClosed) {
			t.Errorf("NextZeroCopy after Close = %v, want ErrClosed", err)
		}
	}
}

// TestBPFReaderHighDescriptor reads a device whose descriptor is above
// select's FD_SETSIZE (1024), which a long-running pkttap-web reaches.
func TestBPFReaderHighDescriptor(t *testing.T) {
	raiseFileLimit(t, 1100)
	p := newBPFPair(t, pcapio.LinkTypeEthernet, 1500, 4096, 50*time.Millisecond, 1050)
	if p.r.fd < 1024 {
		t.Fatalf("descriptor %d, want one above 1024", p.r.fd)
	}
	f := frames(20)[0]
	go func() {
		time.Sleep(20 * time.Millisecond) // the reader waits first
		unix.Write(p.dev, appendBPFRecord(nil, bpfRec{sec: 1, datalen: uint32(len(f)), data: f}))
	}()
	pkt, err := p.r.NextZeroCopy()
	if err != nil || !bytes.Equal(pkt.Data, f) {
		t.Fatalf("descriptor %d: %x, %v", p.r.fd, pkt.Data, err)
	}
}

// TestBPFReaderEOF: a device that reads 0 bytes (its interface detached)
// is an error, not an endless loop of empty buffers.
func TestBPFReaderEOF(t *testing.T) {
	p := newBPFPair(t, pcapio.LinkTypeEthernet, 1500, 4096, 0, 0)
	p.sendRaw(t, nil) // an empty datagram reads as 0 bytes
	_, err := p.r.NextZeroCopy()
	if err == nil || !strings.Contains(err.Error(), "end of file") {
		t.Fatalf("NextZeroCopy on a device at end of file = %v", err)
	}
}

// TestBPFReaderWarnings: a warning recorded while opening (macOS records
// a refused BIOCPROMISC) reaches the caller through Warnings, naming the
// interface.
func TestBPFReaderWarnings(t *testing.T) {
	p := newBPFPair(t, pcapio.LinkTypeEthernet, 1500, 4096, 0, 0)
	if w := Warnings(p.r); w != nil {
		t.Fatalf("Warnings of a clean open = %v", w)
	}
	p.r.warn("en0", errors.New("promiscuous mode refused"))
	w := Warnings(p.r)
	if len(w) != 1 || w[0].Error() != "platform: open en0: promiscuous mode refused" {
		t.Fatalf("Warnings = %v", w)
	}
}

// BenchmarkBPFReader measures the user-space cost per packet of reading a
// BPF device with one record a read, as immediate mode delivers packets
// when the reader keeps up (a wake-up, a poll and a read each), against
// 32 records a read, as a read timeout batches them under load. A writer
// goroutine plays the device over a socket pair; ns/op is per packet.
func BenchmarkBPFReader(b *testing.B) {
	f := frames(60)[0]
	for _, per := range []int{1, 32} {
		b.Run("records="+strconv.Itoa(per), func(b *testing.B) {
			p := newBPFPair(b, pcapio.LinkTypeEthernet, 1500, 64<<10, 50*time.Millisecond, 0)
			var buf []byte
			for range per {
				buf = appendBPFRecord(buf, bpfRec{sec: 1, datalen: uint32(len(f)), data: f})
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for sent := 0; sent < b.N; sent += per {
					if _, err := unix.Write(p.dev, buf); err != nil {
						return
					}
				}
			}()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := p.r.NextZeroCopy(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			<-done
		})
	}
}

// raiseFileLimit raises the soft limit on open descriptors to at least n
// for the rest of the test, raising the hard limit too where it is lower
// (which needs CAP_SYS_RESOURCE): where that is refused, the prerequisite
// "fdlimit" is missing.
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatalf("getrlimit RLIMIT_NOFILE: %v", err)
	}
	if old.Cur >= n {
		return
	}
	lim := unix.Rlimit{Cur: n, Max: max(old.Max, n)}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		testenv.Missing(t, "fdlimit", fmt.Sprintf("the descriptor limit (soft %d, hard %d) is below the %d the test needs, and raising it failed: %v", old.Cur, old.Max, n, err))
	}
	t.Cleanup(func() {
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
			t.Errorf("restore RLIMIT_NOFILE: %v", err)
		}
	})
}
