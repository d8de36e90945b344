package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/dirlock"
	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
	"github.com/pkttap/pkttap/streams"
)

func TestUploadFormats(t *testing.T) {
	const n = 500
	pcap := synthetic(t, pcapio.FormatPcap, n)
	pcapng := synthetic(t, pcapio.FormatPcapNg, n)
	tests := []struct {
		name, file string
		data       []byte
		format     string
		gzip       bool
	}{
		{"pcap", "a.pcap", pcap, "pcap", false},
		{"pcapng", "b.pcapng", pcapng, "pcapng", false},
		{"pcap.gz", "c.pcap.gz", gzipped(t, pcap), "pcap", true},
		{"pcapng.gz", "d.pcapng.gz", gzipped(t, pcapng), "pcapng", true},
	}
	_, ts := newTestServer(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := upload(t, ts, tt.file, tt.data)
			if info.Name != tt.file || !store.ValidID(info.ID) {
				t.Fatalf("upload answer %+v", info)
			}
			info = waitIndexed(t, ts, info.ID)
			if info.State != store.StateReady || info.Packets != n || info.Format != tt.format || info.Gzip != tt.gzip {
				t.Errorf("indexed: %+v, want %d packets, format %s, gzip %v", info, n, tt.format, tt.gzip)
			}
			if len(info.LinkTypes) != 1 || info.LinkTypes[0] != "EN10MB" {
				t.Errorf("link types %v, want [EN10MB]", info.LinkTypes)
			}
			if want := samplegen.SyntheticStart.Format(time.RFC3339Nano); info.First != want {
				t.Errorf("first %s, want %s", info.First, want)
			}
			if want := float64(n-1) * 100e-6; info.SpanSeconds < want-1e-9 || info.SpanSeconds > want+1e-9 {
				t.Errorf("span %v s, want %v", info.SpanSeconds, want)
			}
		})
	}
	var list []CaptureInfo
	do(t, "GET", ts.URL+"/api/captures", nil, &list)
	if len(list) != len(tests) {
		t.Fatalf("list has %d captures, want %d", len(list), len(tests))
	}
	for i, c := range list {
		if c.Name != tests[i].file {
			t.Errorf("list[%d] = %s, want %s (oldest first)", i, c.Name, tests[i].file)
		}
	}
}

func TestUploadMultipart(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("comment", "ignored")
	fw, _ := mw.CreateFormFile("file", `C:\Users\me\trace.pcapng`)
	fw.Write(synthetic(t, pcapio.FormatPcapNg, 20))
	mw.Close()
	var info CaptureInfo
	res := do(t, "POST", ts.URL+"/api/captures", &body, &info, "Content-Type", mw.FormDataContentType())
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("status %d", res.StatusCode)
	}
	if info.Name != "trace.pcapng" {
		t.Errorf("name %q, want trace.pcapng", info.Name)
	}
	if info = waitIndexed(t, ts, info.ID); info.Packets != 20 {
		t.Errorf("packets %d, want 20", info.Packets)
	}

	// A multipart body without a "file" part.
	body.Reset()
	mw = multipart.NewWriter(&body)
	mw.WriteField("other", "x")
	mw.Close()
	var e apiError
	res = do(t, "POST", ts.URL+"/api/captures", &body, &e, "Content-Type", mw.FormDataContentType())
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(e.Error, `"file"`) {
		t.Errorf("no file part: status %d, %+v", res.StatusCode, e)
	}
}

// dirEntries lists what is left in the data dir, but the server's lock
// file.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if p != dir && p != filepath.Join(dir, dirlock.FileName) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestUploadTooLarge(t *testing.T) {
	dir := t.TempDir()
	_, ts := newTestServer(t, Config{MaxUpload: 10_000, DataDir: dir})
	big := synthetic(t, pcapio.FormatPcap, 200) // about 100 KB
	bomb := gzipped(t, append(synthetic(t, pcapio.FormatPcap, 1), make([]byte, 1<<20)...))
	tests := []struct {
		name    string
		body    func() io.Reader // wrapped so Content-Length is unknown
		length  bool
		status  int
		capture bool // a capture is created (the gzip bomb: the limit hits while indexing)
	}{
		{"declared length", func() io.Reader { return bytes.NewReader(big) }, true, http.StatusRequestEntityTooLarge, false},
		{"chunked", func() io.Reader { return io.MultiReader(bytes.NewReader(big)) }, false, http.StatusRequestEntityTooLarge, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			res := do(t, "POST", ts.URL+"/api/captures?name=big.pcap", tt.body(), &e)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%+v)", res.StatusCode, tt.status, e)
			}
			if !strings.Contains(e.Error, "limit") {
				t.Errorf("error %q does not mention the limit", e.Error)
			}
			if left := dirEntries(t, dir); len(left) != 0 {
				t.Errorf("files left behind: %v", left)
			}
		})
	}
	t.Run("gzip bomb", func(t *testing.T) {
		if len(bomb) > 10_000 {
			t.Fatalf("bomb is %d bytes compressed; the test needs it under the limit", len(bomb))
		}
		info := waitIndexed(t, ts, upload(t, ts, "bomb.pcap.gz", bomb).ID)
		if info.State != store.StateError || !strings.Contains(info.Error, "limit") {
			t.Errorf("gzip bomb: %+v, want an error naming the limit", info)
		}
		var size int64
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if fi, err := d.Info(); err == nil && !d.IsDir() {
				size += fi.Size()
			}
			return nil
		})
		if size > 3*10_000+(2<<20) {
			t.Errorf("%d bytes on disk after a gzip bomb", size)
		}
	})
}

func TestUploadBadInput(t *testing.T) {
	dir := t.TempDir()
	_, ts := newTestServer(t, Config{DataDir: dir})
	pcap := synthetic(t, pcapio.FormatPcap, 3)
	badVersion := bytes.Clone(pcap)
	badVersion[4] = 9 // version 9.4
	pcapng := synthetic(t, pcapio.FormatPcapNg, 3)
	badOrder := bytes.Clone(pcapng)
	copy(badOrder[8:], []byte{1, 2, 3, 4}) // the SHB's byte-order magic
	// A valid header followed by more than the server looks at before it
	// answers: the header is judged on what it has seen.
	long := synthetic(t, pcapio.FormatPcapNg, 2000)
	tests := []struct {
		name   string
		body   []byte
		status int
		reason string // in the error message
	}{
		{"empty", nil, http.StatusUnsupportedMediaType, "x.pcap: the file is empty"},
		{"text", []byte("GET / HTTP/1.1\r\n\r\n"), http.StatusUnsupportedMediaType, "magic"},
		{"short", []byte{0xd4}, http.StatusUnsupportedMediaType, "magic"},
		{"elf", []byte("\x7fELF\x02\x01\x01\x00"), http.StatusUnsupportedMediaType, "magic"},
		{"pcap header cut", pcap[:20], http.StatusUnsupportedMediaType, "truncated pcap file header"},
		{"pcap version 9.4", badVersion, http.StatusUnsupportedMediaType, "version"},
		{"pcapng bad byte-order magic", badOrder, http.StatusUnsupportedMediaType, "byte-order"},
		{"gzip of text", gzipped(t, []byte("hello, world\n")), http.StatusUnsupportedMediaType, "magic"},
		{"gzip of a cut pcap header", gzipped(t, pcap[:20]), http.StatusUnsupportedMediaType, "truncated pcap file header"},
		{"gzip corrupt", []byte("\x1f\x8b\x08\x00garbage, not deflate"), http.StatusUnsupportedMediaType, "gzip"},
		{"valid long pcapng", long, http.StatusCreated, ""},
		{"valid long pcapng.gz", gzipped(t, long), http.StatusCreated, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			res := do(t, "POST", ts.URL+"/api/captures?name=x.pcap", bytes.NewReader(tt.body), &e)
			if res.StatusCode == http.StatusCreated && tt.status == http.StatusCreated {
				var info CaptureInfo
				jsonUnmarshal(must(io.ReadAll(res.Body)), &info)
				if info = waitIndexed(t, ts, info.ID); info.State != store.StateReady {
					t.Errorf("valid upload: %+v", info)
				}
				do(t, "DELETE", ts.URL+"/api/captures/"+info.ID, nil, nil)
				return
			}
			if res.StatusCode != tt.status || !strings.Contains(e.Error, tt.reason) {
				t.Errorf("status %d %+v, want %d with a message naming %q", res.StatusCode, e, tt.status, tt.reason)
			}
			t.Logf("%d: %s", res.StatusCode, e.Error)
		})
	}
	if left := dirEntries(t, dir); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
}

func TestUploadNamesAreNotPaths(t *testing.T) {
	dir := t.TempDir()
	_, ts := newTestServer(t, Config{DataDir: dir})
	data := synthetic(t, pcapio.FormatPcap, 3)
	tests := []struct{ raw, want string }{
		{"..%2F..%2Fetc%2Fpasswd", "passwd"},
		{"%2Ftmp%2Fx.pcap", "x.pcap"},
		{"..", "capture"},
		{"a%5C..%5Cb.pcap", "b.pcap"},
		{"evil%00name.pcap", "evilname.pcap"},
		{"", "capture"},
	}
	for _, tt := range tests {
		info := upload(t, ts, tt.raw, data)
		if info.Name != tt.want {
			t.Errorf("name %q shown as %q, want %q", tt.raw, info.Name, tt.want)
		}
		waitIndexed(t, ts, info.ID)
	}
	for _, p := range dirEntries(t, dir) {
		rel, _ := filepath.Rel(dir, p)
		parts := strings.Split(rel, string(filepath.Separator))
		if !store.ValidID(parts[0]) || len(parts) > 2 || (len(parts) == 2 && !strings.Contains("upload index summaries spool streams reassembly meta.json", parts[1])) {
			t.Errorf("unexpected file %s in the data dir", rel)
		}
	}
}

// TestConcurrentUploads checks that many uploads at once are streamed to
// disk: the heap stays far below the bytes in flight.
func TestConcurrentUploads(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	data := synthetic(t, pcapio.FormatPcap, 40_000) // ~20 MB
	const clients = 12
	// Indexing keeps stream tracking state per TCP conversation while it
	// runs (package streams), and this mix opens a new conversation in
	// most of its TCP packets: that state is allowed for, measured on
	// one copy before the uploads start. An upload buffered whole would
	// still need its bytes on top of it.
	tracking := trackingState(t, data)
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	var wg sync.WaitGroup
	ids := make([]string, clients)
	for i := range clients {
		wg.Go(func() {
			// Each client streams the file from its own reader: nothing
			// but the one shared source slice is held by the test.
			req, _ := http.NewRequest("POST", ts.URL+"/api/captures?name=c.pcap", io.MultiReader(bytes.NewReader(data)))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				t.Errorf("upload %d: status %d", i, res.StatusCode)
				return
			}
			var info CaptureInfo
			b, _ := io.ReadAll(res.Body)
			if err := jsonUnmarshal(b, &info); err != nil {
				t.Error(err)
			}
			ids[i] = info.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != "" {
			if info := waitIndexed(t, ts, id); info.Packets != 40_000 {
				t.Errorf("capture %s: %d packets", id, info.Packets)
			}
		}
	}
	close(stop)
	sampler.Wait()
	inFlight := uint64(clients * len(data))
	t.Logf("%d uploads of %d bytes: peak heap in use %d MB (stream tracking state: %d MB per capture)", clients, len(data), peak.Load()>>20, tracking>>20)
	if limit := uint64(len(data)) + 96<<20 + clients*tracking; peak.Load() > limit {
		t.Errorf("peak heap %d MB for %d MB in flight: uploads are not streamed", peak.Load()>>20, inFlight>>20)
	}
}

// must returns v, failing the test on err.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// trackingState returns the heap a stream tracker holds after tracking
// every packet of the capture data.
func trackingState(t *testing.T, data []byte) uint64 {
	pkts := samplegen.MustReadAll(t, data)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := streams.New()
	for _, p := range pkts {
		tr.Add(p.LinkType, p.Data, p.Length, p.Timestamp)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	tcp, _ := tr.Streams()
	t.Logf("one copy: %d packets (link type %v), %d TCP streams", len(pkts), pkts[0].LinkType, tcp)
	runtime.KeepAlive(tr)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}
