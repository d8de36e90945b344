package streams

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// BenchmarkTracker tracks samplegen's mix (100,000 packets) and reports
// the time per packet.
func BenchmarkTracker(b *testing.B) {
	pkts := samplegen.MustReadAll(b, samplegen.MustSynthetic(b, pcapio.FormatPcap, 100_000))
	b.ResetTimer()
	for b.Loop() {
		tr := New()
		for _, p := range pkts {
			tr.Add(p.LinkType, p.Data, p.Length, p.Timestamp)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pkts)), "ns/pkt")
}

// BenchmarkTrackerManyStreams tracks 1,000,000 TCP connections (a
// handshake, a request, its ACK and a FIN each: 5,000,000 packets, made
// as they are fed) and reports the heap the tracker keeps per stream
// after it, and the time per packet.
func BenchmarkTrackerManyStreams(b *testing.B) {
	const streams = 1_000_000
	payload := testpkt.TCP(0, 0, 0, 0, 0, make([]byte, 100))
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tr := New()
		ts := time.Unix(1700000000, 0)
		src := []byte{10, 0, 0, 0}
		dst := []byte{10, 1, 0, 1}
		pkt := func(from, to []byte, sport, dport uint16, seq, ack uint32, flags byte, n int) []byte {
			h := testpkt.TCP(sport, dport, seq, flags, 1000, payload[20:20+n])
			binary.BigEndian.PutUint32(h[8:], ack)
			return testpkt.IPv4(testpkt.ProtoTCP, from, to, h)
		}
		for i := range streams {
			binary.BigEndian.PutUint16(src[2:], uint16(i>>16))
			sport := uint16(i)
			ts = ts.Add(time.Microsecond)
			for _, d := range [][]byte{
				pkt(src, dst, sport, 80, 1000, 0, 0x02, 0),
				pkt(dst, src, 80, sport, 5000, 1001, 0x12, 0),
				pkt(src, dst, sport, 80, 1001, 5001, 0x18, 100),
				pkt(dst, src, 80, sport, 5001, 1101, 0x10, 0),
				pkt(src, dst, sport, 80, 1101, 5001, 0x11, 0),
			} {
				tr.Add(pcapio.LinkTypeRaw, d, len(d), ts)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if n, _ := tr.Streams(); n != streams {
			b.Fatalf("%d streams", n)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/streams, "B/stream")
		runtime.KeepAlive(tr)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*streams*5), "ns/pkt")
}
