package web

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/dirlock"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// diskUse adds up the sizes of the files under dir that the disk budget
// counts: all but the captures' metadata files and the data dir's lock
// file, a few hundred bytes each.
func diskUse(t *testing.T, dir string) int64 {
	t.Helper()
	var size int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		switch d.Name() {
		case "meta.json", "meta.json.tmp", dirlock.FileName:
			return nil
		}
		if fi, err := d.Info(); err == nil && !d.IsDir() {
			size += fi.Size()
		}
		return nil
	})
	return size
}

// TestDiskBudget checks the server-wide disk budget (Config.MaxDisk): it
// accounts for every byte the captures' files hold, refuses uploads that do
// not fit (507), stops a gzip bomb while it is decompressed and indexed,
// leaving nothing of it on disk, and gives back what a deleted capture
// held.
func TestDiskBudget(t *testing.T) {
	const budget = 4 << 20
	dir := t.TempDir()
	s, ts := newTestServer(t, Config{MaxDisk: budget, DataDir: dir})

	// Exact accounting: what a capture's files hold, upload, decompressed
	// spool, index and summaries.
	small := synthetic(t, pcapio.FormatPcap, 1000)
	info := waitIndexed(t, ts, upload(t, ts, "small.pcap.gz", gzipped(t, small)).ID)
	if info.State != store.StateReady {
		t.Fatalf("small capture: %+v", info)
	}
	if used, on := s.pool.DiskUsed(), diskUse(t, dir); used != on {
		t.Errorf("budget says %d bytes are used, the data dir holds %d", used, on)
	}
	do(t, "DELETE", ts.URL+"/api/captures/"+info.ID, nil, nil)
	if used := s.pool.DiskUsed(); used != 0 {
		t.Errorf("%d bytes still charged after the capture was deleted", used)
	}

	// A gzip bomb: one packet, then zeros, which read as packets of 0
	// bytes: 64 MiB decompressed, ~64 KB compressed, far under
	// --max-upload.
	bomb := gzipped(t, append(synthetic(t, pcapio.FormatPcap, 1), make([]byte, 64<<20)...))
	info = waitIndexed(t, ts, upload(t, ts, "bomb.pcap.gz", bomb).ID)
	if info.State != store.StateError || !strings.Contains(info.Error, "--max-disk") || info.Packets != 0 {
		t.Errorf("gzip bomb: state %s, %d packets, error %q: want an error naming --max-disk and its packets dropped", info.State, info.Packets, info.Error)
	}
	t.Logf("gzip bomb of %d bytes: %s", len(bomb), info.Error)
	if on := diskUse(t, dir); on > 0 {
		t.Errorf("%d bytes on disk after the gzip bomb", on)
	}
	if used := s.pool.DiskUsed(); used != 0 {
		t.Errorf("%d bytes still charged after the gzip bomb", used)
	}
	var r RowsResponse
	if res := do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/rows", nil, &r); res.StatusCode != http.StatusOK || len(r.Rows) != 0 {
		t.Errorf("rows of the dropped bomb: status %d, %d rows", res.StatusCode, len(r.Rows))
	}
	do(t, "DELETE", ts.URL+"/api/captures/"+info.ID, nil, nil)

	// Uploads larger than the budget: refused before anything is stored
	// when the length is declared, as soon as it is exceeded when not.
	big := synthetic(t, pcapio.FormatPcap, 12_000) // about 6 MB
	for _, tt := range []struct {
		name string
		body io.Reader
	}{
		{"declared length", bytes.NewReader(big)},
		{"chunked", io.MultiReader(bytes.NewReader(big))},
	} {
		var e apiError
		res := do(t, "POST", ts.URL+"/api/captures?name=big.pcap", tt.body, &e)
		if res.StatusCode != http.StatusInsufficientStorage || !strings.Contains(e.Error, "--max-disk") {
			t.Errorf("%s upload over the budget: status %d %+v, want 507 naming --max-disk", tt.name, res.StatusCode, e)
		}
		if on, used := diskUse(t, dir), s.pool.DiskUsed(); on != 0 || used != 0 {
			t.Errorf("%s upload over the budget: %d bytes left on disk, %d charged", tt.name, on, used)
		}
	}

	// The budget is whole again: a capture that fits is accepted.
	if info := waitIndexed(t, ts, upload(t, ts, "again.pcap", small).ID); info.State != store.StateReady || info.Packets != 1000 {
		t.Errorf("upload after the refusals: %+v", info)
	}
}

// TestDiskBudgetFault checks that a capture with a fault keeps the packets
// before it, on purpose, and that a decompressed spool is cut after the
// last of them.
func TestDiskBudgetFault(t *testing.T) {
	dir := t.TempDir()
	s, ts := newTestServer(t, Config{DataDir: dir, MaxDisk: 64 << 20})
	good := synthetic(t, pcapio.FormatPcap, 100)
	// 100 good packets, then a record claiming 2 GiB: a fault.
	bad := append(bytes.Clone(good), make([]byte, 16)...)
	copy(bad[len(good)+8:], []byte{0xff, 0xff, 0xff, 0x7f})
	bad = append(bad, make([]byte, 1<<20)...)
	info := waitIndexed(t, ts, upload(t, ts, "bad.pcap.gz", gzipped(t, bad)).ID)
	if info.State != store.StateError || info.Packets != 100 {
		t.Fatalf("faulty capture: %+v", info)
	}
	st, err := os.Stat(filepath.Join(dir, info.ID, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(good)); st.Size() != want {
		t.Errorf("spool of %d bytes kept, want %d (the file up to its last good packet)", st.Size(), want)
	}
	if used, on := s.pool.DiskUsed(), diskUse(t, dir); used != on {
		t.Errorf("budget says %d bytes are used, the data dir holds %d", used, on)
	}
	res := do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/download", nil, nil)
	if pkts := readCapture(t, must(io.ReadAll(res.Body))); len(pkts) != 100 {
		t.Errorf("download of the faulty capture: %d packets", len(pkts))
	}
}

// TestDiskBudgetLive checks that a live capture stops at the disk budget
// as it does at --max-live, keeping its packets.
func TestDiskBudgetLive(t *testing.T) {
	b := &fakeBackend{ifaces: fakeInterfaces(), frame: 100, every: 100 * time.Microsecond}
	const budget = 256 << 10
	dir := t.TempDir()
	s, ts := newTestServer(t, Config{Live: b, MaxDisk: budget, DataDir: dir})
	res, info, e := startLive(t, ts, `{"interface": "veth0"}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start: status %d, %+v", res.StatusCode, e)
	}
	info = waitInfo(t, ts, info.ID, "the disk budget", func(i CaptureInfo) bool { return !i.Live.Running })
	if info.State != store.StateReady || info.Packets == 0 || !strings.Contains(info.Live.Stopped, "--max-disk") {
		t.Errorf("live capture at the budget: state %s, %d packets, stopped %q", info.State, info.Packets, info.Live.Stopped)
	}
	t.Logf("live capture: %d packets, %s", info.Packets, info.Live.Stopped)
	if used, on := s.pool.DiskUsed(), diskUse(t, dir); used != on || used > budget {
		t.Errorf("budget says %d bytes are used, the data dir holds %d, the budget is %d", used, on, budget)
	}
	var r RowsResponse
	do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/rows?count=2000", nil, &r)
	if int64(len(r.Rows)) != min(info.Packets, 2000) {
		t.Errorf("%d rows of %d packets", len(r.Rows), info.Packets)
	}
}
