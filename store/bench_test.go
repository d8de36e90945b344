package store

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkFilterJob measures a filter job over a capture of samplegen's
// mix (200,000 packets; 1,000,000 with PKTTAP_BENCH_BIG=1) on one worker
// and on one worker per CPU, in the same run: the job scans its ranges on
// every worker when it has them to itself. It reports packets scanned per
// second; the ratio of the two is the scaling. On a busy machine the
// "paired" sub-benchmark says more: it runs the two one after the other in
// each iteration and reports the median of their ratios (speedup). The
// display sub-benchmarks run the issue's display filter, "tcp.port ==
// 443" (dfilter's fast path; a new job each time by the spaces after its
// ==), which matches the same packets, and "display-vs-bpf" the median
// ratio of the two languages' times on every worker (above 1: the display
// filter is slower).
func BenchmarkFilterJob(b *testing.B) {
	n := 200_000
	if os.Getenv("PKTTAP_BENCH_BIG") == "1" {
		n = 1_000_000
	}
	p := newTestPool(b, Config{})
	s := openCapture(b, p, n)
	if s.Count() != n {
		b.Fatalf("%d packets indexed, want %d", s.Count(), n)
	}
	k := 0
	bpf := func(k int) string { return fmt.Sprintf("tcp port 443 and len != %d", 100_000+k) }
	display := func(k int) string { return "tcp.port ==" + strings.Repeat(" ", k) + "443" }
	// run scans the capture with a new job of the filter made by filter
	// (bpf or display) on workers workers and returns how long it took.
	run := func(b *testing.B, workers int, filter func(k int) string) time.Duration {
		p.SetFilterWorkers(workers)
		k++
		expr := filter(k) // a new job each time
		t0 := time.Now()
		j := startJob(b, s, expr, "bench")
		waitDone(b, j)
		d := time.Since(t0)
		if st := j.status(); st.Scanned != n || st.Matched != n/2 || st.Error != "" {
			b.Fatalf("%q: %+v, want %d matches of %d", expr, st, n/2, n)
		}
		s.CancelFilter(expr)
		return d
	}
	all := runtime.GOMAXPROCS(0)
	for _, lang := range []struct {
		name   string
		filter func(int) string
	}{{"", bpf}, {"display/", display}} {
		for _, workers := range []int{1, all} {
			b.Run(fmt.Sprintf("%sworkers=%d", lang.name, workers), func(b *testing.B) {
				var total time.Duration
				for b.Loop() {
					total += run(b, workers, lang.filter)
				}
				b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "pkts/s")
			})
		}
	}
	b.Run("paired", func(b *testing.B) {
		var ratios []float64
		for b.Loop() {
			one, many := run(b, 1, bpf), run(b, all, bpf)
			ratios = append(ratios, one.Seconds()/many.Seconds())
		}
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], "speedup")
	})
	b.Run("display-vs-bpf", func(b *testing.B) {
		var ratios []float64
		for b.Loop() {
			ratios = append(ratios, run(b, all, display).Seconds()/run(b, all, bpf).Seconds())
		}
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], "ratio")
	})
}
