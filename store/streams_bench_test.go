package store

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// BenchmarkIndexStreams measures the full index pass of a capture of
// samplegen's mix (200,000 packets; 1,000,000 with PKTTAP_BENCH_BIG=1)
// with stream tracking and without, one after the other in each
// iteration, and reports the median ratio of the two times ("tracking":
// 1.2 is 20% more), each time per packet, and (on Linux) the median ratio
// of the CPU time the process used ("tracking-cpu"), which a loaded
// machine distorts less.
func BenchmarkIndexStreams(b *testing.B) {
	n := 200_000
	if os.Getenv("PKTTAP_BENCH_BIG") == "1" {
		n = 1_000_000
	}
	data := synthetic(b, pcapio.FormatPcap, n)
	p := newTestPool(b, Config{})
	var cpu []float64
	index := func(track bool, k int) (time.Duration, time.Duration) {
		streamTracking = track
		defer func() { streamTracking = true }()
		c0, _ := processCPU()
		t0 := time.Now()
		s := addCapture(b, p, fmt.Sprintf("b%d.pcap", k), data)
		d := time.Since(t0)
		c1, _ := processCPU()
		if s.Count() != n {
			b.Fatalf("%d packets indexed, want %d", s.Count(), n)
		}
		if err := p.Remove(s.ID()); err != nil {
			b.Fatal(err)
		}
		return d, c1 - c0
	}
	var ratios []float64
	var with, without time.Duration
	k := 0
	for b.Loop() {
		k += 2
		w, wc := index(true, k)
		wo, woc := index(false, k+1)
		with, without = with+w, without+wo
		ratios = append(ratios, w.Seconds()/wo.Seconds())
		if woc > 0 {
			cpu = append(cpu, wc.Seconds()/woc.Seconds())
		}
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "tracking")
	if len(cpu) > 0 {
		slices.Sort(cpu)
		b.ReportMetric(cpu[len(cpu)/2], "tracking-cpu")
	}
	b.ReportMetric(float64(with.Nanoseconds())/float64(n*b.N), "ns/pkt-tracked")
	b.ReportMetric(float64(without.Nanoseconds())/float64(n*b.N), "ns/pkt-plain")
}
