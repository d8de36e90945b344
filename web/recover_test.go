package web

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// TestRecover checks what a server lists from a data dir left in each
// state a crash can leave a capture folder in (made here by editing the
// files a cleanly stopped server kept): a whole index is reused, one cut
// short is made again, a partial upload is removed, a live spool cut in
// the middle of a block is cut back to its last whole block, and a folder
// pkttap-web did not write is left alone.
func TestRecover(t *testing.T) {
	data := synthetic(t, pcapio.FormatPcap, 3000)
	meta := func(t *testing.T, dir string, edit func(m map[string]any)) {
		m := readMetaFile(t, dir)
		edit(m)
		writeMetaFile(t, dir, m)
	}
	truncate := func(t *testing.T, path string, keep float64) {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, int64(float64(st.Size())*keep)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		gzip    bool
		crash   func(t *testing.T, dir string) // dir: the capture's folder
		reindex bool                           // the index is made again
		gone    bool                           // the capture is not listed, its folder removed
	}{
		{name: "whole", crash: func(t *testing.T, dir string) {}},
		{name: "index cut short", reindex: true, crash: func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, "index"), 0.5)
		}},
		{name: "summaries cut short", reindex: true, crash: func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, "summaries"), 0.9)
		}},
		{name: "killed while indexing", reindex: true, crash: func(t *testing.T, dir string) {
			meta(t, dir, func(m map[string]any) { delete(m, "index") })
			truncate(t, filepath.Join(dir, "index"), 0.3)
			truncate(t, filepath.Join(dir, "summaries"), 0.2)
		}},
		{name: "gzip spool cut short", gzip: true, reindex: true, crash: func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, "spool"), 0.5)
		}},
		{name: "partial upload", gone: true, crash: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "meta.json"))
			os.Remove(filepath.Join(dir, "index"))
			os.Remove(filepath.Join(dir, "summaries"))
			truncate(t, filepath.Join(dir, "upload"), 0.5)
		}},
		{name: "upload file gone", gone: true, crash: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "upload"))
		}},
		{name: "index of another version", reindex: true, crash: func(t *testing.T, dir string) {
			meta(t, dir, func(m map[string]any) { m["index"].(map[string]any)["version"] = 1e6 })
		}},
		{name: "leftover temporary metadata", crash: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "meta.json.tmp"), []byte("{"), 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := data
			if tt.gzip {
				data = gzipped(t, data)
			}
			dataDir := t.TempDir()
			s1, ts1 := newTestServer(t, Config{DataDir: dataDir})
			info := waitIndexed(t, ts1, upload(t, ts1, "x.pcap", data).ID)
			ts1.Close()
			s1.Close()
			dir := filepath.Join(dataDir, info.ID)
			tt.crash(t, dir)

			s2, ts2 := newTestServer(t, Config{DataDir: dataDir})
			list := s2.Captures()
			if tt.gone {
				if len(list) != 0 {
					t.Fatalf("listed %+v, want none", list)
				}
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Errorf("folder of the broken capture still there: %v", err)
				}
				return
			}
			if len(list) != 1 || list[0].ID != info.ID || list[0].Name != "x.pcap" {
				t.Fatalf("listed %+v, want %s", list, info.ID)
			}
			if reindexing := list[0].State == store.StateIndexing; reindexing != tt.reindex {
				t.Errorf("state %s just after the restart, want reindexing %v", list[0].State, tt.reindex)
			}
			got := waitIndexed(t, ts2, info.ID)
			got.Filters, info.Filters = nil, nil
			if got.Packets != 3000 || got.State != store.StateReady || got.First != info.First || got.Last != info.Last ||
				got.Format != info.Format || got.Gzip != tt.gzip || got.Size != info.Size || got.Created != info.Created || strings.Join(got.LinkTypes, ",") != "EN10MB" {
				t.Errorf("after the restart %+v\nbefore %+v", got, info)
			}
			var rows RowsResponse
			do(t, "GET", ts2.URL+"/api/captures/"+info.ID+"/rows?start=2990&count=10", nil, &rows)
			if len(rows.Rows) != 10 || rows.Rows[9].No != 3000 || rows.Rows[9].Protocol == "" {
				t.Errorf("last rows %+v", rows.Rows)
			}
			if _, err := os.Stat(filepath.Join(dir, "meta.json.tmp")); !os.IsNotExist(err) {
				t.Errorf("temporary metadata left: %v", err)
			}
			// Its files count against the disk budget, as they did
			// before the restart.
			if used, onDisk := s2.pool.DiskUsed(), diskUse(t, dir); used != onDisk {
				t.Errorf("disk budget charged %d bytes after the restart, the capture's files hold %d", used, onDisk)
			}
			// Deleting it removes its folder.
			if res := do(t, "DELETE", ts2.URL+"/api/captures/"+info.ID, nil, nil); res.StatusCode != 204 {
				t.Fatalf("delete: status %d", res.StatusCode)
			}
			if used := s2.pool.DiskUsed(); used != 0 {
				t.Errorf("disk budget still charged %d bytes after the delete", used)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("deleted capture's folder still there: %v", err)
			}
		})
	}
}

// TestRecoverLeavesForeignFolders checks that a folder named like a
// capture but holding a file pkttap-web does not write, and any other
// entry of the data dir, is neither listed nor touched.
func TestRecoverLeavesForeignFolders(t *testing.T) {
	dataDir := t.TempDir()
	foreign := filepath.Join(dataDir, "0123456789abcdef")
	os.Mkdir(foreign, 0o700)
	os.WriteFile(filepath.Join(foreign, "upload"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o600)
	os.WriteFile(filepath.Join(dataDir, "README"), []byte("mine"), 0o600)
	os.Mkdir(filepath.Join(dataDir, "photos"), 0o700)
	s, _ := newTestServer(t, Config{DataDir: dataDir})
	if list := s.Captures(); len(list) != 0 {
		t.Errorf("listed %+v", list)
	}
	for _, p := range []string{"0123456789abcdef/upload", "0123456789abcdef/notes.txt", "README", "photos"} {
		if _, err := os.Stat(filepath.Join(dataDir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestDataDirInUse checks that a second server refuses a data dir another
// one holds (it would take the first one's uploads in progress for partial
// ones), and takes it once the first has closed.
func TestDataDirInUse(t *testing.T) {
	dataDir := t.TempDir()
	s1, _ := newTestServer(t, Config{DataDir: dataDir})
	_, err := New(Config{DataDir: dataDir, Addr: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "another pkttap-web") || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("second server on a held data dir: %v", err)
	}
	s1.Close()
	newTestServer(t, Config{DataDir: dataDir})
}

// TestRecoverLive checks a live capture's recovery: one the server was
// stopped with is listed as it was, and one whose run ended without
// saving (a crash) while a block was half written is listed with its
// whole blocks, its spool cut back to them.
func TestRecoverLive(t *testing.T) {
	for _, crashed := range []bool{false, true} {
		b := &fakeBackend{ifaces: fakeInterfaces(), frame: 70, every: 200 * time.Microsecond}
		dataDir := t.TempDir()
		s1, ts1 := newTestServer(t, Config{Live: b, DataDir: dataDir})
		_, info, _ := startLive(t, ts1, `{"interface": "veth0"}`)
		waitInfo(t, ts1, info.ID, "packets", func(i CaptureInfo) bool { return i.Packets >= 20 })
		ts1.Close()
		s1.Close()
		var stopped CaptureInfo
		dir := filepath.Join(dataDir, info.ID)
		m := readMetaFile(t, dir)
		ix, ok := m["index"].(map[string]any)
		if !ok {
			t.Fatalf("metadata after Close: %+v", m)
		}
		stopped.Packets, stopped.Size = int64(ix["packets"].(float64)), int64(ix["files"].(map[string]any)["spool"].(float64))
		if crashed {
			delete(m, "index")
			delete(m["live"].(map[string]any), "stopped")
			writeMetaFile(t, dir, m)
			f, _ := os.OpenFile(filepath.Join(dir, "spool"), os.O_WRONLY|os.O_APPEND, 0)
			f.Write(make([]byte, 30)) // half an EPB
			f.Close()
			os.Truncate(filepath.Join(dir, "index"), 100)
		}
		s2, ts2 := newTestServer(t, Config{DataDir: dataDir})
		if len(s2.Captures()) != 1 {
			t.Fatalf("listed %+v", s2.Captures())
		}
		got := waitIndexed(t, ts2, info.ID)
		wantStop := "pkttap-web stopped"
		if crashed {
			wantStop = "pkttap-web ended while capturing: recovered up to the last packets written to disk"
		}
		if got.Packets != stopped.Packets || got.Size != stopped.Size || got.State != store.StateReady || got.Format != "live" ||
			got.Live == nil || got.Live.Running || got.Live.Stopped != wantStop || got.Live.Interface != "veth0" || got.Live.SpoolBytes != 70*got.Packets {
			t.Errorf("crashed %v: after the restart %+v (live %+v), want %d packets in %d bytes", crashed, got, got.Live, stopped.Packets, stopped.Size)
		}
		pkts, _, _ := readSpool(t, filepath.Join(dir, "spool"))
		if int64(len(pkts)) != got.Packets {
			t.Errorf("spool holds %d packets, the capture %d", len(pkts), got.Packets)
		}
		// Stopping a recovered capture is harmless.
		if res := do(t, "POST", ts2.URL+"/api/captures/"+info.ID+"/stop", nil, nil); res.StatusCode != 200 {
			t.Errorf("stop a recovered capture: status %d", res.StatusCode)
		}
		res := do(t, "GET", ts2.URL+"/api/captures/"+info.ID+"/download?format=pcapng", nil, nil)
		body, _ := io.ReadAll(res.Body)
		if n := len(readCapture(t, body)); int64(n) != got.Packets {
			t.Errorf("download holds %d packets, want %d", n, got.Packets)
		}
	}
}

// readMetaFile reads a capture folder's metadata file as JSON.
func readMetaFile(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// writeMetaFile writes a capture folder's metadata file, as a crash or an
// older version could have left it.
func writeMetaFile(t *testing.T, dir string, m map[string]any) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}
