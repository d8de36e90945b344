package store

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/pkttap/pkttap/coloring"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/pcapio"
)

// BenchmarkRows reads the packet list of a 50,000-packet capture a page of
// 100 rows at a time, as the page scrolls (rows/s); BenchmarkDownload
// writes the capture as pcapng (packets/s). Both read each row's marks and
// comment; run them on a branch without notes for the anchor.
func BenchmarkRows(b *testing.B) {
	const n = 50_000
	s := openCapture(b, newTestPool(b, Config{}), n)
	b.ResetTimer()
	rows := 0
	for i := 0; i < b.N; i++ {
		for start := 0; start < n; start += 100 {
			page, err := s.Rows(start, 100, nil, dissect.Options{})
			if err != nil {
				b.Fatal(err)
			}
			rows += len(page.Rows)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkDownload(b *testing.B) {
	const n = 50_000
	s := openCapture(b, newTestPool(b, Config{}), n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := s.Download(context.Background(), nil, pcapio.FormatPcapNg)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.WriteTo(context.Background(), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkRowsColored is BenchmarkRows with each page colored by
// Wireshark's default coloring rules (compare its rows/s with
// BenchmarkRows'); BenchmarkFind searches the whole capture for bytes no
// packet holds, as Find Packet does (packets/s).
func BenchmarkRowsColored(b *testing.B) {
	const n = 50_000
	s := openCapture(b, newTestPool(b, Config{}), n)
	var exprs []string
	for _, r := range coloring.Defaults() {
		exprs = append(exprs, r.Filter)
	}
	set := coloring.Compile(exprs)
	b.ResetTimer()
	rows := 0
	for i := 0; i < b.N; i++ {
		for start := 0; start < n; start += 100 {
			page, err := s.Rows(start, 100, nil, dissect.Options{})
			if err == nil {
				err = s.Colorize(page.Rows, set, dissect.Options{})
			}
			if err != nil {
				b.Fatal(err)
			}
			rows += len(page.Rows)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkFind(b *testing.B) {
	const n = 50_000
	s := openCapture(b, newTestPool(b, Config{}), n)
	pat := []byte("\xde\xad\xbe\xef\xca\xfe")
	match := func(p *FindPacket) (FindMatch, bool) { return FindMatch{}, bytes.Contains(p.Data, pat) }
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.Find(context.Background(), nil, NewFindCursor(-1, true, n), time.Now().Add(time.Hour), false, match)
		if err != nil || res.Found || !res.Done || res.Cursor.Checked != n {
			b.Fatalf("find: %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "packets/s")
}
