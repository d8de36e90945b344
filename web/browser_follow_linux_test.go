package web

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/testenv"
)

// TestBrowserFollowLive follows an HTTP stream while it is captured: a
// live capture on the veth of namespace B, Python's HTTP server in
// namespace A, curl fetching a page from B; in headless chromium the
// request's packet gets Ctrl+Alt+Shift+T, and the dialog shows curl's
// request and the server's response in their colours while the capture
// runs; a second fetch on a new connection is the next stream (the
// stepper's +).
func TestBrowserFollowLive(t *testing.T) {
	python := testenv.LookPath(t, "python3", "python3")
	curl := testenv.LookPath(t, "curl", "curl")
	ctx := newBrowser(t)
	pair, ts := newLiveServer(t, Config{})

	dir := t.TempDir()
	page := "<p>followed live between namespaces</p>\n"
	if err := os.WriteFile(filepath.Join(dir, "page.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := exec.Command("ip", "netns", "exec", pair.NSA, python, "-m", "http.server", "8080", "--bind", pair.IPA.String(), "--directory", dir)
	if err := srv.Start(); err != nil {
		t.Fatalf("start the HTTP server: %v", err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	// Until it listens.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var c net.Conn
		var err error
		netnstest.Run(t, pair.NSB, func() { c, err = net.DialTimeout("tcp", net.JoinHostPort(pair.IPA.String(), "8080"), time.Second) })
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the HTTP server does not listen: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	res, info, e := startLive(t, ts, fmt.Sprintf(`{"interface": %q, "filter": "tcp port 8080"}`, pair.IfB))
	if res.StatusCode != 201 {
		t.Fatalf("start live: %d %s", res.StatusCode, e.Error)
	}
	do1(t, ctx, chromedp.EmulateViewport(1600, 1000), chromedp.Navigate(ts.URL+"/c/"+info.ID))
	waitJS(t, ctx, "capturing", `document.getElementById('status-count').textContent.includes('capturing')`)

	fetch := func() {
		t.Helper()
		out, err := exec.Command("ip", "netns", "exec", pair.NSB, curl, "-s", "--max-time", "5", "http://"+pair.IPA.String()+":8080/page.html").Output()
		if err != nil || string(out) != page {
			t.Fatalf("curl: %q, %v", out, err)
		}
	}
	fetch()
	// The request is the fourth packet (SYN, SYN-ACK, ACK, GET).
	waitJS(t, ctx, "the request's row", `document.querySelector('#list-rows .row[data-no="4"]:not(.loading)') !== null`)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-no="4"]`)))
	waitJS(t, ctx, "packet 4 selected", `(document.querySelector('#list-rows .row.selected') || {dataset: {}}).dataset.no === '4'`)
	do1(t, ctx, chromedp.KeyEvent("T", chromedp.KeyModifiers(chromedp.ModifierCtrl, chromedp.ModifierAlt, chromedp.ModifierShift)))
	checkHTTPFollowed(t, ctx, "GET /page.html HTTP/1.1\r\nHost: "+pair.IPA.String()+":8080", "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/")
	waitJS(t, ctx, "the page in the response", fmt.Sprintf(`Array.from(document.querySelectorAll('#follow-body > .follow-c1'), (s) => s.textContent).join('').includes(%q)`, page))
	if stats := evalJS[string](t, ctx, `document.getElementById('follow-stats').textContent`); !strings.Contains(stats, "capturing") || !strings.Contains(stats, "server") {
		t.Errorf("stats %q: want the capture shown as running", stats)
	}
	screenshot(t, ctx, "follow-live")

	// The next connection is the next stream (the first may be 1: the
	// end of the connection that found the server listening can be 0).
	n := evalJS[float64](t, ctx, `+document.getElementById('follow-stream').value`)
	fetch()
	do1(t, ctx, chromedp.Click(chromedp.ID("follow-next")))
	waitJS(t, ctx, "the next stream", fmt.Sprintf(`document.getElementById('follow-title').textContent === 'Follow TCP Stream (tcp.stream eq %d)' && document.querySelectorAll('#follow-body > span').length >= 2`, int(n)+1))
	checkHTTPFollowed(t, ctx, "GET /page.html HTTP/1.1", "HTTP/1.0 200 OK")
}
