package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// wsURL is the URL of ts's WebSocket.
func wsURL(ts *httptest.Server) string { return "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/ws" }

// dialWS opens ts's WebSocket as the UI does, from the server's own origin;
// the connection is closed when the test ends.
func dialWS(ctx context.Context, t testing.TB, ts *httptest.Server) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, wsURL(ts), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {ts.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// newTestServer starts a server on a loopback httptest listener.
func newTestServer(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Logger == nil && !testing.Verbose() {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, ts
}

// synthetic returns a capture of n synthetic packets.
func synthetic(t testing.TB, format pcapio.Format, n int) []byte {
	return samplegen.MustSynthetic(t, format, n)
}

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// do sends a request and decodes a JSON answer into out (when not nil). It
// returns the response with its body read.
func do(t testing.TB, method, url string, body io.Reader, out any, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	setHeaders(req, hdr...)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, url, raw, err)
		}
	}
	res.Body = io.NopCloser(bytes.NewReader(raw))
	return res
}

// setHeaders sets the headers of req given as name, value pairs.
func setHeaders(req *http.Request, hdr ...string) {
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
}

// upload posts data as a raw body and returns the new capture.
func upload(t testing.TB, ts *httptest.Server, name string, data []byte) CaptureInfo {
	t.Helper()
	var info CaptureInfo
	res := do(t, "POST", ts.URL+"/api/captures?name="+name, bytes.NewReader(data), &info)
	if res.StatusCode != http.StatusCreated {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("upload %s: status %d: %s", name, res.StatusCode, body)
	}
	return info
}

// waitIndexed polls the capture until its index pass has ended.
func waitIndexed(t testing.TB, ts *httptest.Server, id string) CaptureInfo {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var info CaptureInfo
		res := do(t, "GET", ts.URL+"/api/captures/"+id, nil, &info)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("capture %s: status %d", id, res.StatusCode)
		}
		if info.State != store.StateIndexing {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("capture %s still indexing after 60 s: %+v", id, info)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFilter starts a filter job and polls until it is done.
func waitFilter(t testing.TB, ts *httptest.Server, id, expr string) FilterStatus {
	t.Helper()
	var st FilterStatus
	body := fmt.Sprintf(`{"filter": %q}`, expr)
	if res := do(t, "POST", ts.URL+"/api/captures/"+id+"/filter", strings.NewReader(body), &st, "Content-Type", "application/json"); res.StatusCode != http.StatusAccepted {
		t.Fatalf("start filter %q: status %d", expr, res.StatusCode)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !st.Done {
		if time.Now().After(deadline) {
			t.Fatalf("filter %q not done after 60 s: %+v", expr, st)
		}
		time.Sleep(10 * time.Millisecond)
		var info CaptureInfo
		do(t, "GET", ts.URL+"/api/captures/"+id, nil, &info)
		for _, f := range info.Filters {
			if f.Filter == expr {
				st = f
			}
		}
	}
	return st
}

// readCapture reads every packet of a capture file.
func readCapture(t testing.TB, data []byte) []pcapio.Packet {
	return samplegen.MustReadAll(t, data)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func jsonDecode(t testing.TB, res *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// pcapOf returns a pcap file (Ethernet) of the frames, each captured whole.
func pcapOf(t *testing.T, frames [][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapio.NewWriter(&b, pcapio.WriterOptions{Format: pcapio.FormatPcap, LinkType: pcapio.LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := w.WritePacket(&pcapio.Packet{Data: f, Length: len(f)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
