package pcapio

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/pkttap/pkttap/internal/testenv"
)

// The read benchmarks compare pcapio with gopacket's pcapgo and with
// libpcap's pcap_next_ex over the same generated capture, in one run.
//
// Size: by default the capture has 20,000 packets so that
// `go test -bench . -benchtime=1x` sets up in a second. PKTTAP_BENCH_BIG=1
// makes it 1,000,000 packets (about 680 MB per format), the realistic size
// the figures in the package's history are measured on;
// PKTTAP_BENCH_PACKETS=N sets any other count. Each benchmark iteration
// reads the whole file; the packets/s and speedup metrics are what to
// compare.
//
// The file is read from the page cache (it was just written). pcapgo's
// readers get a 1 MiB bufio.Reader, as they read each header and packet
// with a separate io.ReadFull. libpcap's figure is timed inside the C
// program, around pcap_open_offline and the pcap_next_ex loop.

func benchPacketCount() int {
	if s := os.Getenv("PKTTAP_BENCH_PACKETS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	if os.Getenv("PKTTAP_BENCH_BIG") == "1" {
		return 1_000_000
	}
	return 20_000
}

var bench struct {
	once  sync.Once
	dir   string
	n     int
	files map[string]string // format name -> path
	err   error
}

func removeBenchFiles() {
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
}

// benchFiles writes the benchmark capture as pcap and pcapng, once per
// process.
func benchFiles(b *testing.B) (map[string]string, int) {
	bench.once.Do(func() {
		bench.n = benchPacketCount()
		bench.dir, bench.err = os.MkdirTemp("", "pcapio-bench-")
		if bench.err != nil {
			return
		}
		bench.files = map[string]string{}
		for _, f := range []Format{FormatPcap, FormatPcapNg} {
			path := filepath.Join(bench.dir, "bench."+f.String())
			if bench.err = writeBenchFile(path, f, bench.n); bench.err != nil {
				return
			}
			bench.files[f.String()] = path
		}
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.files, bench.n
}

// writeBenchFile writes n packets with a realistic size mix: 45% of
// 54–73 bytes (ACKs), 30% of 1514 (full MTU), 25% spread between; one in
// ten truncated on the wire.
func writeBenchFile(path string, f Format, n int) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	w, err := NewWriter(out, WriterOptions{Format: f, LinkType: LinkTypeEthernet, Snaplen: 65535})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(42, 42))
	pattern := make([]byte, 1514)
	for i := range pattern {
		pattern[i] = byte(rng.Uint32())
	}
	t := time.Unix(1_700_000_000, 0)
	for i := range n {
		size := mixedFrameSize(rng)
		wire := size
		if rng.IntN(10) == 0 {
			wire += rng.IntN(500)
		}
		t = t.Add(time.Duration(rng.IntN(100_000)))
		pattern[20], pattern[21], pattern[22] = byte(i), byte(i>>8), byte(i>>16)
		p := Packet{Timestamp: t, Data: pattern[:size], Length: wire}
		if err := w.WritePacket(&p); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return out.Close()
}

// libpcapReader is the C program timing pcap_next_ex over a file. It
// prints the packet count, a byte sum, and the wall-clock and CPU
// nanoseconds taken.
const libpcapReader = `#include <pcap/pcap.h>
#include <stdio.h>
#include <time.h>
int main(int argc, char **argv) {
	char err[PCAP_ERRBUF_SIZE];
	struct timespec t0, t1;
	struct timespec c0, c1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	pcap_t *p = pcap_open_offline(argv[1], err);
	if (!p) { fprintf(stderr, "%s\n", err); return 1; }
	struct pcap_pkthdr *h; const u_char *d;
	unsigned long long n = 0, sum = 0;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) { n++; sum += h->caplen + d[0]; }
	if (rc == PCAP_ERROR) { fprintf(stderr, "%s\n", pcap_geterr(p)); return 1; }
	pcap_close(p);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%llu %llu %lld %lld\n", n, sum,
		(long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec),
		(long long)(c1.tv_sec - c0.tv_sec) * 1000000000LL + (c1.tv_nsec - c0.tv_nsec));
	return 0;
}
`

// libpcapProgram builds the C reader with testenv.BuildWithLibpcap, which
// skips the benchmark without cc or libpcap's headers.
func libpcapProgram(b *testing.B) string {
	src := filepath.Join(b.TempDir(), "libpcap_read.c")
	if err := os.WriteFile(src, []byte(libpcapReader), 0o644); err != nil {
		b.Fatal(err)
	}
	return testenv.BuildWithLibpcap(b, src)
}

// readerFunc reads the whole file at path and returns its packet count.
type readerFunc func(b *testing.B, path string) int

// How pkttapRead calls the Reader.
const (
	readNext         = iota // Next: memory the reader allocates, owned by the caller
	readNextInto            // NextInto with the previous packet's Data: the caller's memory, reused
	readNextZeroCopy        // NextZeroCopy: the reader's buffer, valid until the next call
)

func pkttapRead(mode int) readerFunc {
	return func(b *testing.B, path string) int {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		r, err := NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		n, sum := 0, 0
		var buf []byte
		for {
			var p Packet
			switch mode {
			case readNext:
				p, err = r.Next()
			case readNextInto:
				p, err = r.NextInto(buf)
				buf = p.Data
			default:
				p, err = r.NextZeroCopy()
			}
			if err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				benchSum = sum
				return n
			}
			n++
			sum += len(p.Data) + int(p.Data[0])
		}
	}
}

// benchSum receives the byte sum each read function computes, so that the
// bytes it reads are used.
var benchSum int

// floorSink keeps each of freshBufferFloor's buffers reachable for a
// moment, as a caller would: without it the compiler would put the buffer
// on the stack.
var floorSink []byte

// freshBufferFloor reads the file into a newly allocated buffer of
// sharedBufSize bytes per read and parses nothing: what any reader costs
// that hands the caller memory of its own, freshly allocated, as Next and
// pcapgo's ReadPacketData must. It returns n, the count it was told, since
// it does not look at the packets.
func freshBufferFloor(n int) readerFunc {
	return func(b *testing.B, path string) int {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		sum := 0
		for {
			buf := make([]byte, sharedBufSize)
			floorSink = buf // on the heap, as a buffer handed to a caller is
			m, err := f.Read(buf)
			sum += m
			if err == io.EOF {
				benchSum = sum
				return n
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func pcapgoRead(ng, zeroCopy bool) readerFunc {
	return func(b *testing.B, path string) int {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		br := bufio.NewReaderSize(f, 1<<20)
		var read func() ([]byte, error)
		if ng {
			r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
			if err != nil {
				b.Fatal(err)
			}
			if zeroCopy {
				read = func() ([]byte, error) { d, _, err := r.ZeroCopyReadPacketData(); return d, err }
			} else {
				read = func() ([]byte, error) { d, _, err := r.ReadPacketData(); return d, err }
			}
		} else {
			r, err := pcapgo.NewReader(br)
			if err != nil {
				b.Fatal(err)
			}
			if zeroCopy {
				read = func() ([]byte, error) { d, _, err := r.ZeroCopyReadPacketData(); return d, err }
			} else {
				read = func() ([]byte, error) { d, _, err := r.ReadPacketData(); return d, err }
			}
		}
		n, sum := 0, 0
		for {
			d, err := read()
			if err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				benchSum = sum
				return n
			}
			n++
			sum += len(d) + int(d[0])
		}
	}
}

// BenchmarkRead reads the generated capture as pcap and as pcapng with
// pcapio (Next, NextInto reusing one buffer, NextZeroCopy), pcapgo (copying
// and zero-copy) and libpcap. Besides packets/s, the pcapgo and libpcap
// sub-benchmarks report <reader>-speedup: that reader's rate over theirs,
// measured moments before in the same run.
//
// fresh-buffer-floor is not a reader: it reads the file into a fresh
// buffer per read and parses nothing. Its speedup over pcapgo's
// ReadPacketData bounds what any reader can reach that returns freshly
// allocated memory, as Next and ReadPacketData do.
func BenchmarkRead(b *testing.B) {
	files, n := benchFiles(b)
	for _, format := range []string{"pcap", "pcapng"} {
		rates := map[string]rate{} // by reader, for the speedup metrics
		path := files[format]
		ng := format == "pcapng"
		readers := []struct {
			name string
			read readerFunc
		}{
			{"pkttap-safe", pkttapRead(readNext)},
			{"pkttap-into", pkttapRead(readNextInto)},
			{"pkttap-zerocopy", pkttapRead(readNextZeroCopy)},
			{"fresh-buffer-floor", freshBufferFloor(n)},
			{"pcapgo-ReadPacketData", pcapgoRead(ng, false)},
			{"pcapgo-ZeroCopyReadPacketData", pcapgoRead(ng, true)},
		}
		for _, rd := range readers {
			b.Run(format+"/"+rd.name, func(b *testing.B) {
				b.SetBytes(fileSize(b, path))
				cpu0 := processCPU()
				for b.Loop() {
					if got := rd.read(b, path); got != n {
						b.Fatalf("read %d packets, want %d", got, n)
					}
				}
				r := reportRates(b, rates, rd.name, n, b.Elapsed(), processCPU()-cpu0)
				switch rd.name {
				case "pcapgo-ReadPacketData":
					reportSpeedup(b, rates, "pkttap-safe", r)
					reportSpeedup(b, rates, "pkttap-into", r)
					reportSpeedup(b, rates, "fresh-buffer-floor", r)
				case "pcapgo-ZeroCopyReadPacketData":
					reportSpeedup(b, rates, "pkttap-zerocopy", r)
				}
			})
		}
		b.Run(format+"/libpcap-pcap_next_ex", func(b *testing.B) {
			prog := libpcapProgram(b)
			var wall, cpu time.Duration
			for b.Loop() {
				out, err := exec.Command(prog, path).Output()
				if err != nil {
					b.Fatalf("%s %s: %v", prog, path, err)
				}
				var cnt, sum, ns, cpuns int64
				if _, err := fmt.Sscan(string(out), &cnt, &sum, &ns, &cpuns); err != nil || cnt != int64(n) {
					b.Fatalf("libpcap reader said %q, want %d packets", out, n)
				}
				wall += time.Duration(ns)
				cpu += time.Duration(cpuns)
			}
			r := reportRates(b, rates, "libpcap", n, wall, cpu)
			reportSpeedup(b, rates, "pkttap-zerocopy", r)
			reportSpeedup(b, rates, "pkttap-safe", r)
			reportSpeedup(b, rates, "pkttap-into", r)
		})
	}
}

// rate is a reader's throughput by wall-clock and by CPU time.
type rate struct{ wall, cpu float64 }

// reportRates reports packets per second of wall-clock time ("pkts/s") and
// of CPU time ("pkts/cpu-s": less disturbed by other processes on a busy
// machine), and records them under name.
func reportRates(b *testing.B, rates map[string]rate, name string, n int, wall, cpu time.Duration) rate {
	r := rate{wall: float64(n) * float64(b.N) / wall.Seconds()}
	b.ReportMetric(r.wall, "pkts/s")
	if cpu > 0 {
		r.cpu = float64(n) * float64(b.N) / cpu.Seconds()
		b.ReportMetric(r.cpu, "pkts/cpu-s")
	}
	rates[name] = r
	return r
}

// reportSpeedup reports how many times faster the reader ours was than
// the one measured as theirs: "<ours>-speedup" by wall-clock time and
// "<ours>-cpu-speedup" by CPU time.
func reportSpeedup(b *testing.B, rates map[string]rate, ours string, theirs rate) {
	o := rates[ours]
	b.ReportMetric(o.wall/theirs.wall, ours+"-speedup")
	if o.cpu > 0 && theirs.cpu > 0 {
		b.ReportMetric(o.cpu/theirs.cpu, ours+"-cpu-speedup")
	}
}

func fileSize(b *testing.B, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}
