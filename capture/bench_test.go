package capture_test

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/pcapio"
)

// Benchmark data: the test packets repeated into a file of benchPackets()
// packets, made once per run in a folder TestMain removes. By default the
// file is small (20,000 packets) so that the CI smoke run
// (-benchtime=1x) takes a moment; PKTTAP_BENCH_BIG=1 makes it 1,000,000.
var (
	benchDir   string
	benchOnce  sync.Once
	benchFiles map[string]string
	benchErr   error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func benchPackets() int {
	if os.Getenv("PKTTAP_BENCH_BIG") == "1" {
		return 1_000_000
	}
	return 20_000
}

// benchFile returns the path of the benchmark capture in format ext.
func benchFile(b *testing.B, ext string) string {
	b.Helper()
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "pkttap-capture-bench")
		if benchErr != nil {
			return
		}
		benchFiles = map[string]string{}
		pkts := ethernetPackets()
		for _, e := range []string{"pcap", "pcapng"} {
			path := filepath.Join(benchDir, "bench."+e)
			d, err := capture.ToFile(path).Open()
			if err != nil {
				benchErr = err
				return
			}
			for i := range benchPackets() {
				p := pkts[i%len(pkts)]
				p.Timestamp = baseTime.Add(time.Duration(i) * time.Microsecond)
				if err := d.WritePacket(p); err != nil {
					benchErr = err
					return
				}
			}
			if benchErr = d.Close(); benchErr != nil {
				return
			}
			benchFiles[e] = path
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchFiles[ext]
}

// How BenchmarkFileRead reads packets.
const (
	readZeroCopy = iota // NextZeroCopy
	readNext            // Next
	readNextInto        // NextInto, reusing the previous packet's Data
)

// BenchmarkFileRead reads the benchmark file through capture in several
// ways, next to pcapio's zero-copy reader alone (the anchor): the cost of
// the capture layer, the copy of Next and the userspace filter.
func BenchmarkFileRead(b *testing.B) {
	for _, ext := range []string{"pcap", "pcapng"} {
		b.Run(ext+"/pcapio-anchor", func(b *testing.B) {
			path := benchFile(b, ext)
			n := 0
			cpu0 := cpuTime()
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				r, err := pcapio.NewReader(f)
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := r.NextZeroCopy(); err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						break
					}
					n++
				}
				f.Close()
			}
			reportPerPacket(b, n, cpu0)
		})
		for _, bc := range []struct {
			name string
			expr string
			mode int
		}{
			{"zerocopy", "", readZeroCopy},
			{"next", "", readNext},
			{"nextinto", "", readNextInto},
			{"zerocopy-filter", "tcp port 80 or udp port 53", readZeroCopy},
		} {
			b.Run(ext+"/"+bc.name, func(b *testing.B) {
				path := benchFile(b, ext)
				n := 0
				cpu0 := cpuTime()
				for b.Loop() {
					c, err := capture.FromFile(path).Filter(bc.expr).Open()
					if err != nil {
						b.Fatal(err)
					}
					var buf []byte
					for {
						var err error
						switch bc.mode {
						case readNext:
							_, err = c.Next()
						case readNextInto:
							var p pcapio.Packet
							p, err = c.NextInto(buf)
							buf = p.Data
						default:
							_, err = c.NextZeroCopy()
						}
						if err != nil {
							if err != io.EOF {
								b.Fatal(err)
							}
							break
						}
					}
					st, err := c.Stats()
					if err != nil {
						b.Fatal(err)
					}
					n += int(st.Received)
					c.Close()
				}
				reportPerPacket(b, n, cpu0)
			})
		}
	}
}

// reportPerPacket reports the wall time and the process's CPU time (since
// cpu0) per packet for n packets read.
func reportPerPacket(b *testing.B, n int, cpu0 time.Duration) {
	if n == 0 {
		return
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/pkt")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/pkt")
	}
}
