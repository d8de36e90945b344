package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// followShown returns the Follow dialog's pieces as [direction, text]
// pairs, and the colours of the first client and server piece.
func followShown(t *testing.T, ctx context.Context) (pieces [][2]string, colors map[string]string) {
	t.Helper()
	pieces = evalJS[[][2]string](t, ctx, `Array.from(document.querySelectorAll('#follow-body > span'), (s) => [s.classList.contains('follow-c1') ? '1' : '0', s.textContent])`)
	colors = evalJS[map[string]string](t, ctx, `(() => { const o = {};
		for (const d of ['0', '1']) { const s = document.querySelector('#follow-body > .follow-c' + d); if (s) { const cs = getComputedStyle(s); o['fg' + d] = cs.color; o['bg' + d] = cs.backgroundColor; } }
		return o; })()`)
	return pieces, colors
}

// checkHTTPFollowed checks that the dialog shows an HTTP request from the
// client, then its response from the server, each side in its own colours.
func checkHTTPFollowed(t *testing.T, ctx context.Context, request, response string) {
	t.Helper()
	waitJS(t, ctx, "the followed stream", `document.getElementById('follow-dialog').open && document.querySelectorAll('#follow-body > span').length >= 2`)
	pieces, colors := followShown(t, ctx)
	if len(pieces) < 2 || pieces[0][0] != "0" || pieces[1][0] != "1" {
		t.Fatalf("pieces %q: want the client's request, then the server's response", pieces)
	}
	if got := pieces[0][1]; len(got) < len(request) || got[:len(request)] != request {
		t.Errorf("client piece %q, want it to start with %q", got, request)
	}
	if got := pieces[1][1]; len(got) < len(response) || got[:len(response)] != response {
		t.Errorf("server piece %q, want it to start with %q", got, response)
	}
	if colors["fg0"] == colors["fg1"] || colors["bg0"] == colors["bg1"] || colors["bg0"] == "" {
		t.Errorf("the two directions are not told apart by colour: %v", colors)
	}
	for _, d := range []string{"0", "1"} {
		if r := contrastRatio(t, colors["fg"+d], colors["bg"+d]); r < 4.5 {
			t.Errorf("direction %s: contrast %.1f of %s on %s, want 4.5 or more", d, r, colors["fg"+d], colors["bg"+d])
		}
	}
}

// TestBrowserFollow follows the sample capture's HTTP stream from the
// packet list's context menu (right click, Follow ▸ TCP Stream): the
// request and the response in their colours; the hex dump format, one
// direction, Show Only This Stream (the display filter tcp.stream eq 0)
// and Filter Out This Stream; then Ctrl+Alt+Shift+T on a selected packet.
func TestBrowserFollow(t *testing.T) {
	ctx, base := openSampleInBrowser(t)
	xy := evalJS[[]float64](t, ctx, `(() => { const r = document.querySelector('#list-rows .row[data-no="5"]').getBoundingClientRect(); return [r.left + 60, r.top + r.height / 2]; })()`)
	do1(t, ctx, chromedp.MouseClickXY(xy[0], xy[1], chromedp.ButtonRight))
	waitJS(t, ctx, "the list's context menu", `!document.getElementById('list-ctx-menu').hidden && document.activeElement.id === 'follow-menu-tcp'`)
	screenshot(t, ctx, "follow-menu")
	do1(t, ctx, chromedp.Click(chromedp.ID("follow-menu-tcp")))
	checkHTTPFollowed(t, ctx, "GET /index.html HTTP/1.1\r\nHost: www.example.com", "HTTP/1.1 200 OK\r\nContent-Type: text/html")
	if title := evalJS[string](t, ctx, `document.getElementById('follow-title').textContent`); title != "Follow TCP Stream (tcp.stream eq 0)" {
		t.Errorf("title %q", title)
	}
	if nodes := evalJS[string](t, ctx, `document.getElementById('follow-nodes').textContent`); nodes != "Client 192.0.2.10:40001 → Server 203.0.113.80:80" {
		t.Errorf("nodes %q", nodes)
	}
	screenshot(t, ctx, "follow-ascii")

	// The hex dump, as tshark's: offsets per direction.
	do1(t, ctx, chromedp.SetValue(chromedp.ID("follow-format"), "hex"))
	evalJS[bool](t, ctx, `(document.getElementById('follow-format').dispatchEvent(new Event('change')), true)`)
	waitJS(t, ctx, "the hex dump", `(document.querySelector('#follow-body > .follow-c1') || {textContent: ''}).textContent.startsWith('00000000  48 54 54 50 2f 31 2e 31  20 32 30 30 20 4f 4b 0d  HTTP/1.1  200 OK.')`)
	screenshot(t, ctx, "follow-hex")
	// One direction: the server's only.
	do1(t, ctx, chromedp.SetValue(chromedp.ID("follow-dir"), "server"))
	evalJS[bool](t, ctx, `(document.getElementById('follow-dir').dispatchEvent(new Event('change')), true)`)
	waitJS(t, ctx, "the server's side only", `document.querySelectorAll('#follow-body > .follow-c0').length === 0 && document.querySelectorAll('#follow-body > .follow-c1').length > 0`)

	// Show Only This Stream: the display filter, 8 packets.
	do1(t, ctx, chromedp.Click(chromedp.ID("follow-show-only")))
	waitJS(t, ctx, "the stream's packets only", `!document.getElementById('follow-dialog').open && getComputedStyle(document.getElementById('follow-dialog')).display === 'none' && document.getElementById('filter-input').value === 'tcp.stream eq 0' &&
		document.getElementById('status-count').textContent === 'Displayed 8 of 25'`)
	// The keyboard: Ctrl+Alt+Shift+T on the selected packet, then Filter Out.
	waitJS(t, ctx, "packet 7's row", `document.querySelector('#list-rows .row[data-no="7"]:not(.loading)') !== null`)
	screenshot(t, ctx, "follow-show-only")
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-no="7"]`)))
	waitJS(t, ctx, "packet 7 selected", `(document.querySelector('#list-rows .row.selected') || {dataset: {}}).dataset.no === '7'`)
	do1(t, ctx, chromedp.KeyEvent("T", chromedp.KeyModifiers(chromedp.ModifierCtrl, chromedp.ModifierAlt, chromedp.ModifierShift)))
	checkHTTPFollowed(t, ctx, "00000000  47 45 54 20", "00000000  48 54 54 50")
	do1(t, ctx, chromedp.Click(chromedp.ID("follow-filter-out")))
	waitJS(t, ctx, "the other packets", `document.getElementById('filter-input').value === '!(tcp.stream eq 0)' && document.getElementById('status-count').textContent === 'Displayed 17 of 25'`)

	// UDP from the keyboard on a DNS packet; Escape closes the dialog.
	evalJS[bool](t, ctx, `(document.getElementById('filter-input').value = '', true)`)
	do1(t, ctx, chromedp.Click(chromedp.ID("apply-button")))
	waitJS(t, ctx, "all packets", `document.getElementById('status-count').textContent === 'Displayed 25 of 25'`)
	waitJS(t, ctx, "packet 3's row", `document.querySelector('#list-rows .row[data-no="3"]:not(.loading)') !== null`)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-no="3"]`)))
	waitJS(t, ctx, "packet 3 selected", `(document.querySelector('#list-rows .row.selected') || {dataset: {}}).dataset.no === '3'`)
	do1(t, ctx, chromedp.KeyEvent("U", chromedp.KeyModifiers(chromedp.ModifierCtrl, chromedp.ModifierAlt, chromedp.ModifierShift)))
	waitJS(t, ctx, "the DNS stream", `document.getElementById('follow-title').textContent === 'Follow UDP Stream (udp.stream eq 0)' && document.querySelectorAll('#follow-body > span').length >= 1`)
	do1(t, ctx, chromedp.KeyEvent(kb.Escape))
	waitJS(t, ctx, "closed", `!document.getElementById('follow-dialog').open`)

	// Paged: with pages of 40 bytes the HTTP stream comes in several
	// requests, and the text shown is the whole stream's.
	var whole FollowResponse
	do(t, "GET", base+"/follow?proto=tcp&stream=0&format=ascii", nil, &whole)
	var text strings.Builder
	for _, p := range whole.Pieces {
		text.WriteString(p.Text)
	}
	do1(t, ctx, chromedp.Navigate(base[:strings.Index(base, "/api/")]+"/c/"+base[strings.LastIndex(base, "/")+1:]+"?p=5"))
	waitJS(t, ctx, "packet 5 selected", `(document.querySelector('#list-rows .row.selected') || {dataset: {}}).dataset.no === '5'`)
	evalJS[bool](t, ctx, `(document.documentElement.dataset.followPage = '40', true)`)
	do1(t, ctx, chromedp.KeyEvent("T", chromedp.KeyModifiers(chromedp.ModifierCtrl, chromedp.ModifierAlt, chromedp.ModifierShift)))
	waitJS(t, ctx, "the whole stream, page by page", fmt.Sprintf(`Array.from(document.querySelectorAll('#follow-body > span'), (s) => s.textContent).join('') === %q`, text.String()))
	pages := evalJS[float64](t, ctx, `performance.getEntriesByType('resource').filter((e) => /\/follow\?.*&offset=[1-9]/.test(e.name)).length`)
	if pages < 3 {
		t.Errorf("%v pages after the first for %d bytes in pages of 40", pages, whole.Total)
	}
}
