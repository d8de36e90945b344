package store

import (
	"os"
	"testing"
	"time"
)

// BenchmarkSort sorts a capture of samplegen's mix (200,000 packets;
// 1,000,000 with PKTTAP_BENCH_BIG=1, the goal being under 2 s) by
// the packet number (the anchor: keys read from the index alone), the
// source and the Info column (keys read from the summaries), descending,
// and reports the seconds a sort takes and rows sorted per second.
func BenchmarkSort(b *testing.B) {
	n := 200_000
	if os.Getenv("PKTTAP_BENCH_BIG") == "1" {
		n = 1_000_000
	}
	s := openCapture(b, newTestPool(b, Config{}), n)
	for _, col := range []string{ColumnNo, ColumnSource, ColumnInfo} {
		b.Run(col, func(b *testing.B) {
			var total time.Duration
			for b.Loop() {
				spec := SortSpec{Column: col, Descending: true}
				s.CancelSort(spec, "")
				t0 := time.Now()
				so, err := s.StartSort(spec, nil)
				if err != nil {
					b.Fatal(err)
				}
				waitSort(b, so)
				total += time.Since(t0)
				if st := so.Status(); st.Keyed != n {
					b.Fatalf("%+v, want %d keyed", st, n)
				}
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/sort")
			b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "rows/s")
		})
	}
}
