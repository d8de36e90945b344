package store

import (
	"fmt"
	"os"
	"runtime"
	"testing"
)

// BenchmarkFilterJob measures a filter job over a capture of samplegen's
// mix (200,000 packets; 1,000,000 with PKTTAP_BENCH_BIG=1) on one worker
// and on one worker per CPU, in the same run: the job scans its ranges on
// every worker when it has them to itself. It reports packets scanned per
// second; the ratio of the two is the scaling.
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
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			p.SetFilterWorkers(workers)
			k := 0
			for b.Loop() {
				k++
				expr := fmt.Sprintf("tcp port 443 and len != %d", 100_000+k) // a new job each time
				j := startJob(b, s, expr, "bench")
				waitDone(b, j)
				if st := j.status(); st.Scanned != n || st.Matched != n/2 || st.Error != "" {
					b.Fatalf("%q: %+v, want %d matches of %d", expr, st, n/2, n)
				}
				b.StopTimer()
				s.CancelFilter(expr)
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}
