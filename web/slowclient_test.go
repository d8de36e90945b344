package web

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// serveTest runs a server through Serve, as pkttap-web does, on a loopback
// listener, and returns it with its base URL. It stops when the test ends.
func serveTest(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Logger == nil && !testing.Verbose() {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, "http://" + ln.Addr().String()
}

// urlOnly is a stand-in *httptest.Server for the helpers that only use its
// URL, for a server started by serveTest.
func urlOnly(base string) *httptest.Server { return &httptest.Server{URL: base} }

// clientFrom returns an HTTP client whose connections come from the local
// address ip (another loopback address is another client to the server),
// or skips the test (prerequisite "loopback") when ip is not this
// machine's.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	probe, err := net.Listen("tcp", ip+":0")
	if err != nil {
		testenv.Missing(t, "loopback", fmt.Sprintf("%s is not a local address on this machine (Linux has all of 127.0.0.0/8): %v", ip, err))
	}
	probe.Close()
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// stalledUpload opens a connection that sends an upload's headers, a
// Content-Length of 1 MB and then only the 24 bytes of a pcap file header.
func stalledUpload(t *testing.T, base string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /api/captures?name=stalled.pcap HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000000\r\n\r\n", conn.RemoteAddr())
	conn.Write(synthetic(t, pcapio.FormatPcap, 0)[:24])
	return conn
}

// TestSlowUploads checks that uploads that stall cannot starve everyone:
// eight stalled uploads from one client do not block another client's
// upload, each stalled upload is answered 408 once too little has arrived
// within the stall timeout, and its files are removed; an upload that is
// slow but keeps sending succeeds.
func TestSlowUploads(t *testing.T) {
	other := clientFrom(t, "127.0.0.2")
	const stall = 400 * time.Millisecond
	s, base := serveTest(t, Config{UploadStallTimeout: stall, MinProgress: 4 << 10})
	data := synthetic(t, pcapio.FormatPcap, 2000)

	start := time.Now()
	var stalled []net.Conn
	for range maxConcurrentUploads {
		stalled = append(stalled, stalledUpload(t, base))
	}
	time.Sleep(100 * time.Millisecond) // the stalled uploads take what slots they can

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/captures?name=other.pcap", bytes.NewReader(data))
	res, err := other.Do(req)
	if err != nil {
		t.Fatalf("another client's upload while one client stalls %d uploads: %v", len(stalled), err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("another client's upload: status %d: %s", res.StatusCode, body)
	}
	t.Logf("another client's upload took %v", time.Since(start))

	// Every stalled upload is answered 408 with a JSON error: those that
	// had a slot after the stall timeout, those that queued for one later.
	var wg sync.WaitGroup
	for i, conn := range stalled {
		wg.Go(func() {
			conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Errorf("stalled upload %d: no answer: %v", i, err)
				return
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusRequestTimeout {
				t.Errorf("stalled upload %d: status %d, want 408", i, res.StatusCode)
				return
			}
			checkJSONError(t, res)
		})
	}
	wg.Wait()
	t.Logf("%d stalled uploads answered after %v", len(stalled), time.Since(start))
	if list := s.Captures(); len(list) != 1 || list[0].Name != "other.pcap" {
		t.Errorf("captures after the stalled uploads: %+v", list)
	}
	if left := dirEntries(t, s.cfg.DataDir); len(left) != 7 { // other.pcap's folder, upload, index, summaries, streams, reassembly, meta.json
		t.Errorf("files left: %v", left)
	}

	// Slow but steady: 8 KiB every 100 ms (five times the required
	// progress) for longer than several stall timeouts.
	pr, pw := io.Pipe()
	go func() {
		for b := synthetic(t, pcapio.FormatPcap, 400); len(b) > 0; {
			n := min(len(b), 8<<10)
			if _, err := pw.Write(b[:n]); err != nil {
				return
			}
			b = b[n:]
			time.Sleep(100 * time.Millisecond)
		}
		pw.Close()
	}()
	slow := time.Now()
	req, _ = http.NewRequest("POST", base+"/api/captures?name=slow.pcap", pr)
	res, err = other.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Errorf("slow but steady upload: status %d after %v: %s", res.StatusCode, time.Since(slow), body)
	}
	if d := time.Since(slow); d < 2*stall {
		t.Errorf("the slow upload took %v, not longer than the stall timeout: the test proves nothing", d)
	}
}

// TestReadHeaderTimeout checks that a connection that never finishes its
// request headers is closed after Config.ReadHeaderTimeout.
func TestReadHeaderTimeout(t *testing.T) {
	_, base := serveTest(t, Config{ReadHeaderTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	io.WriteString(conn, "POST /api/captures HTTP/1.1\r\nHost: 127.0.0.1\r\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.Copy(io.Discard, conn) // until the server closes it
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("connection with unfinished headers open for %v", d)
	}
}

// TestDownloadStall checks that a download whose client stops reading is
// aborted once nothing more could be written for the stall timeout, and
// that one whose client reads slowly but steadily completes. (A blocked
// write resumes when the kernel's send buffer has drained by half, up to
// 2 MB on loopback: the steady client drains that well within the stall
// timeout.)
func TestDownloadStall(t *testing.T) {
	const stall = 1500 * time.Millisecond
	_, base := serveTest(t, Config{DownloadStallTimeout: stall, MinProgress: 4 << 10})
	data := synthetic(t, pcapio.FormatPcap, 20_000) // about 10 MB
	res, err := http.Post(base+"/api/captures?name=big.pcap", "application/octet-stream", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var info CaptureInfo
	jsonDecode(t, res, &info)
	res.Body.Close()
	waitIndexed(t, urlOnly(base), info.ID)

	get := func() (net.Conn, *bufio.Reader) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.(*net.TCPConn).SetReadBuffer(64 << 10)
		fmt.Fprintf(conn, "GET /api/captures/%s/download HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", info.ID)
		return conn, bufio.NewReaderSize(conn, 4<<10)
	}

	// Stalled: the client reads the headers, then nothing for a while.
	conn, br := get()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	res, err = http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("download: %v %v", res, err)
	}
	time.Sleep(2 * stall)
	n, err := io.Copy(io.Discard, res.Body)
	if err == nil || n >= int64(len(data)) {
		t.Errorf("stalled download: %d bytes read after the stall, error %v: want the download aborted", n, err)
	}
	t.Logf("stalled download: %d bytes, then %v", n, err)

	// Slow but steady: 64 KiB every 20 ms.
	conn, br = get()
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	res, err = http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("download: %v %v", res, err)
	}
	start := time.Now()
	var got bytes.Buffer
	for {
		_, err := io.CopyN(&got, res.Body, 64<<10)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("slow download after %d bytes and %v: %v", got.Len(), time.Since(start), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if pkts := readCapture(t, got.Bytes()); len(pkts) != 20_000 {
		t.Errorf("slow download: %d packets", len(pkts))
	}
	if d := time.Since(start); d < stall {
		t.Errorf("the slow download took %v, not longer than the stall timeout: the test proves nothing", d)
	}
}
