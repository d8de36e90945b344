package web

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/pkttap/pkttap/internal/sshdtest"
	"github.com/pkttap/pkttap/internal/testenv"
)

// TestBrowserRemoteTwoHosts drives the Live dialog's Remote tab in
// headless chromium against two real OpenSSH servers in two namespaces:
// type the first host, connect, see its unknown host key's fingerprint
// (the one ssh-keygen prints for it) and accept it, pick the interface,
// type a capture filter (red, then green for the interface's link type),
// add the source; the same for the second host; start both. Datagrams
// sent on both hosts appear as rows with the Interface column naming
// their host, the live strip shows each source's count, the saved hosts
// keep no password, and a screenshot at 1600x1000 (PKTTAP_SCREENSHOT_DIR)
// shows it. One source is stopped from the live strip while the other goes
// on; that one's connection is then cut, and its Reconnect button brings
// it back.
func TestBrowserRemoteTwoHosts(t *testing.T) {
	testenv.LookPath(t, "chromium", "chromium")
	h := startRemoteHosts(t, 2, sshdtest.Options{})
	_, ts := newTestServer(t, Config{SSH: h.options(t)})
	ctx := newBrowser(t)
	do1(t, ctx, chromedp.EmulateViewport(1600, 1000), chromedp.Navigate(ts.URL), chromedp.WaitVisible(chromedp.ID("list-empty")))
	do1(t, ctx, chromedp.Click(chromedp.ID("live-button")))
	waitJS(t, ctx, "the Live dialog", `document.getElementById('live-dialog').open`)
	do1(t, ctx, chromedp.Click(chromedp.ID("live-tab-remote")))
	waitJS(t, ctx, "the Remote tab", `!document.getElementById('remote-panel').hidden && document.getElementById('live-iface').hidden &&
		document.getElementById('remote-key').value === 'id_ed25519'`)

	const expr = "udp port 5555"
	for i, s := range h.srv {
		ip := s.Pair.IPB.String()
		evalJS[bool](t, ctx, fmt.Sprintf(`(() => { for (const id of ['remote-host', 'remote-user', 'remote-filter']) document.getElementById(id).value = '';
			document.getElementById('remote-iface').textContent = ''; document.getElementById('remote-iface').disabled = true; return true; })()`))
		do1(t, ctx, chromedp.SendKeys(chromedp.ID("remote-host"), ip), chromedp.SendKeys(chromedp.ID("remote-user"), "root"))
		do1(t, ctx, chromedp.Click(chromedp.ID("remote-connect")))
		// First use: the fingerprint ssh-keygen prints for the host key.
		fp := sshdtest.Fingerprint(t, s.HostPub)
		waitJS(t, ctx, fmt.Sprintf("host %d's key prompt", i+1), fmt.Sprintf(`!document.getElementById('remote-hostkey').hidden &&
			document.getElementById('remote-hostkey-text').textContent.includes(%q) &&
			document.getElementById('remote-hostkey-text').textContent.includes('First connection to %s')`, fp, s.Addr))
		if i == 0 {
			screenshot(t, ctx, "remote-hostkey")
		}
		do1(t, ctx, chromedp.Click(chromedp.ID("remote-accept")))
		waitJS(t, ctx, fmt.Sprintf("host %d's interfaces", i+1), fmt.Sprintf(`!document.getElementById('remote-iface').disabled &&
			document.getElementById('remote-iface').value === %q && document.getElementById('remote-status').textContent.includes('EN10MB')`, s.Pair.IfB))
		// The capture filter is checked for the remote link type as it
		// is typed.
		do1(t, ctx, chromedp.SendKeys(chromedp.ID("remote-filter"), "udp port"))
		waitJS(t, ctx, "red capture filter", `document.getElementById('remote-filter').classList.contains('invalid') && /column \d+/.test(document.getElementById('remote-filter-msg').textContent)`)
		do1(t, ctx, chromedp.SendKeys(chromedp.ID("remote-filter"), " 5555"))
		waitJS(t, ctx, "green capture filter", `document.getElementById('remote-filter').classList.contains('valid') && document.getElementById('remote-filter-msg').textContent.includes('EN10MB')`)
		do1(t, ctx, chromedp.Click(chromedp.ID("live-add")))
		waitJS(t, ctx, fmt.Sprintf("%d sources listed", i+1), fmt.Sprintf(`document.querySelectorAll('#live-sources li').length === %d`, i+1))
	}
	if b, err := os.ReadFile(h.known); err != nil || strings.Count(string(b), "\n") != 2 {
		t.Fatalf("the server's known_hosts after accepting both hosts: %q %v", b, err)
	}
	screenshot(t, ctx, "remote-dialog")
	saved := evalJS[string](t, ctx, `localStorage.getItem('pkttap.remoteHosts')`)
	if !strings.Contains(saved, h.srv[1].Pair.IPB.String()) || strings.Contains(strings.ToLower(saved), "password\":\"") || strings.Contains(saved, "acceptHostKey") {
		t.Errorf("saved hosts %s: want both hosts, no secret", saved)
	}
	do1(t, ctx, chromedp.Click(chromedp.ID("live-start")))
	waitJS(t, ctx, "capturing from two sources", `!document.getElementById('live-dialog').open && document.querySelectorAll('#sources-bar .source.running').length === 2`)

	const n = 10
	for k := range n {
		h.srv[k%2].Pair.SendUDP(t, 5555, []byte(fmt.Sprintf("browser host %d datagram %d", k%2+1, k)))
	}
	waitJS(t, ctx, "10 rows", `document.getElementById('status-count').textContent === 'Displayed 10 of 10 (capturing…)'`)
	names := []string{h.srv[0].Pair.IPB.String() + ":" + h.srv[0].Pair.IfB, h.srv[1].Pair.IPB.String() + ":" + h.srv[1].Pair.IfB}
	waitJS(t, ctx, "the Interface column", fmt.Sprintf(`(() => {
		const head = Array.from(document.querySelectorAll('.list-header [data-col]')).map((e) => e.dataset.col);
		if (!head.includes('iface')) return false;
		const cells = Array.from(document.querySelectorAll('#list-rows .row')).sort((a, b) => a.dataset.no - b.dataset.no).map((r) => r.querySelector('[data-col=iface]').textContent);
		return cells.length === 10 && cells.every((c, k) => c === [%q, %q][k %% 2]); })()`, names[0], names[1]))
	waitJS(t, ctx, "per-source counts", `Array.from(document.querySelectorAll('#sources-bar .source')).every((s) => s.textContent.includes('running · 5 pkts'))`)
	screenshot(t, ctx, "remote-capturing")
	if dir := os.Getenv("PKTTAP_SCREENSHOT_DIR"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "remote-capturing-light.png")); err != nil {
			t.Error(err)
		}
	}

	// A source stopped from the strip: the other goes on.
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#sources-bar button[data-act="stop"][data-i="0"]`)))
	waitJS(t, ctx, "source 1 stopped", `document.querySelectorAll('#sources-bar .source.stopped').length === 1 && document.querySelectorAll('#sources-bar .source.running').length === 1`)
	h.srv[1].Pair.SendUDP(t, 5555, []byte("after host 1 stopped"))
	waitJS(t, ctx, "11 rows", `document.getElementById('status-count').textContent === 'Displayed 11 of 11 (capturing…)'`)

	// Host 2's connection dies: its source says so and offers Reconnect;
	// its packets stay.
	h.srv[1].KillSessions(t)
	waitJS(t, ctx, "source 2 failed", `(() => { const s = document.querySelector('#sources-bar .source.failed');
		return s !== null && s.textContent.includes('connection') && s.querySelector('button[data-act="reconnect"]') !== null; })()`)
	screenshot(t, ctx, "remote-lost")
	if got := evalJS[string](t, ctx, `document.getElementById('status-count').textContent`); got != "Displayed 11 of 11 (capturing…)" {
		t.Errorf("after the connection died: %q", got)
	}
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#sources-bar button[data-act="reconnect"]`)))
	waitJS(t, ctx, "source 2 reconnected", `document.querySelectorAll('#sources-bar .source.running').length === 1 && document.querySelectorAll('#sources-bar .source.failed').length === 0`)
	h.srv[1].Pair.SendUDP(t, 5555, []byte("after reconnecting"))
	waitJS(t, ctx, "12 rows", `document.getElementById('status-count').textContent === 'Displayed 12 of 12 (capturing…)'`)
}
