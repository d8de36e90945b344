//go:build unix

package web

import (
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// TestRowsWhileIndexing feeds a capture through a FIFO in two halves and
// checks that the first half's rows and filter matches are served while the
// index pass still waits for the second.
func TestRowsWhileIndexing(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	const n = 4000
	data := synthetic(t, pcapio.FormatPcapNg, n)
	fifo := filepath.Join(t.TempDir(), "live.pcapng.gz")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("mkfifo in the test's temporary directory: %v", err)
	}
	c, err := s.OpenFile(fifo)
	if err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	zw := gzip.NewWriter(w)
	half := len(data) / 2
	zw.Write(data[:half])
	if err := zw.Flush(); err != nil {
		t.Fatal(err)
	}
	base := ts.URL + "/api/captures/" + c.ID()
	var r RowsResponse
	deadline := time.Now().Add(20 * time.Second)
	for len(r.Rows) == 0 || r.Total < 1000 {
		if time.Now().After(deadline) {
			t.Fatalf("no rows while indexing: %+v", r)
		}
		time.Sleep(10 * time.Millisecond)
		do(t, "GET", base+"/rows?count=10", nil, &r)
	}
	if !r.Indexing || r.Total >= n || r.Rows[0].No != 1 {
		t.Fatalf("rows while indexing: indexing %v, total %d, first %+v", r.Indexing, r.Total, r.Rows[0])
	}
	var info CaptureInfo
	do(t, "GET", base, nil, &info)
	if info.State != store.StateIndexing {
		t.Fatalf("state %s before the end of the stream", info.State)
	}
	// A filter follows the index: once it has scanned what is indexed, it
	// has matched the ARP packets there (counted from the bytes) and serves
	// them as rows, while the index pass still waits for the second half.
	var fr RowsResponse
	deadline = time.Now().Add(20 * time.Second)
	for {
		do(t, "GET", base+"/rows?filter=arp&count=1000", nil, &fr)
		if fr.Progress != nil && fr.Progress.Scanned >= 1000 && fr.Progress.Scanned == fr.Total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the arp filter did not catch up with the index: %d indexed, %+v", fr.Total, fr.Progress)
		}
		time.Sleep(10 * time.Millisecond)
	}
	wantARP := 0
	for _, p := range readCapture(t, data)[:fr.Progress.Scanned] {
		if len(p.Data) >= 14 && p.Data[12] == 0x08 && p.Data[13] == 0x06 {
			wantARP++
		}
	}
	st := *fr.Progress
	if !fr.Indexing || st.Done || st.Matched != wantARP || wantARP == 0 || fr.Displayed != wantARP {
		t.Fatalf("arp filter while indexing: indexing %v, %+v, displayed %d; want %d matches of the %d packets indexed, not done", fr.Indexing, st, fr.Displayed, wantARP, st.Scanned)
	}
	if len(fr.Rows) != wantARP {
		t.Fatalf("arp filter while indexing: %d rows, want %d", len(fr.Rows), wantARP)
	}
	for _, row := range fr.Rows {
		if row.Protocol != "ARP" || row.No > st.Scanned {
			t.Fatalf("arp filter while indexing: row %+v", row)
		}
	}
	t.Logf("while indexing: %d packets indexed, arp filter %+v", fr.Total, st)

	zw.Write(data[half:])
	zw.Close()
	w.Close()
	info = waitIndexed(t, ts, c.ID())
	if info.State != store.StateReady || info.Packets != n {
		t.Fatalf("after the stream: %+v", info)
	}
	st = waitFilter(t, ts, c.ID(), "arp")
	if st.Matched != n/10 || st.Scanned != n {
		t.Errorf("arp filter over the whole stream: %+v, want %d matches", st, n/10)
	}
	do(t, "GET", fmt.Sprintf("%s/rows?start=%d&count=10", base, n-10), nil, &r)
	if len(r.Rows) != 10 || r.Rows[9].No != n {
		t.Errorf("last rows: %+v", r.Rows)
	}
}
