package store

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/pkttap/pkttap/follow"
	"github.com/pkttap/pkttap/pcapio"
)

// BenchmarkFollow measures Follow on an indexed capture of samplegen's mix
// (200,000 packets; 1,000,000 with PKTTAP_BENCH_BIG=1): finding the
// packets of a TCP stream in the middle of the capture (one read of the
// stream records) and making its map. It reports the median time of a
// follow ("ms/follow"), per packet of the capture ("ns/pkt"), and its
// ratio to the anchor measured in the same iteration, reading every
// packet's index record ("x-index-read").
func BenchmarkFollow(b *testing.B) {
	n := 200_000
	if os.Getenv("PKTTAP_BENCH_BIG") == "1" {
		n = 1_000_000
	}
	p := newTestPool(b, Config{})
	s := addCapture(b, p, "b.pcap", synthetic(b, pcapio.FormatPcap, n))
	mid, err := s.streamInfo(n / 2)
	if err != nil || mid == nil {
		b.Fatalf("stream record: %v", err)
	}
	stream := uint32(0)
	for i := n / 2; i < n; i++ {
		si, _ := s.streamInfo(i)
		if si.TCPStream != 0 {
			stream = si.TCPStream - 1
			break
		}
	}
	var times, ratios []float64
	recs := make([]record, 4096)
	for b.Loop() {
		t0 := time.Now()
		for start := 0; start < n; start += len(recs) {
			k := min(len(recs), n-start)
			if err := readRecords(s.index, start, recs[:k]); err != nil {
				b.Fatal(err)
			}
		}
		anchor := time.Since(t0)
		t0 = time.Now()
		m, err := s.Follow(context.Background(), follow.TCP, stream)
		d := time.Since(t0)
		if err != nil || m.StreamPackets == 0 {
			b.Fatalf("follow tcp.stream %d: %v, %+v", stream, err, m)
		}
		times = append(times, d.Seconds())
		ratios = append(ratios, d.Seconds()/anchor.Seconds())
	}
	slices.Sort(times)
	slices.Sort(ratios)
	b.ReportMetric(times[len(times)/2]*1e3, "ms/follow")
	b.ReportMetric(times[len(times)/2]*1e9/float64(n), "ns/pkt")
	b.ReportMetric(ratios[len(ratios)/2], "x-index-read")
}
