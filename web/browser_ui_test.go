package web

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// openInBrowser uploads a synthetic capture of n packets and shows it in a
// new headless browser; it returns the browser, the server and the
// capture's id once the first rows are drawn.
func openInBrowser(t *testing.T, n int) (ctx context.Context, ts *httptest.Server, id string) {
	t.Helper()
	ctx = newBrowser(t)
	_, ts = newTestServer(t, Config{})
	id = waitIndexed(t, ts, upload(t, ts, "ui.pcapng", synthetic(t, pcapio.FormatPcapNg, n)).ID).ID
	do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+id))
	waitJS(t, ctx, "rows", fmt.Sprintf(`document.getElementById('status-count').textContent === 'Displayed %s of %s' &&
		document.querySelectorAll('#list-rows .row:not(.loading)').length > 5`, fmtThousands(n), fmtThousands(n)))
	return ctx, ts, id
}

// fmtThousands writes n as the page does (1,000).
func fmtThousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TestBrowserRowHeightFromCSS: the list's geometry comes from the
// stylesheet's --row-h alone, so rows drawn, the scroll height and the
// keys agree with the CSS even when it changes.
func TestBrowserRowHeightFromCSS(t *testing.T) {
	ctx, _, _ := openInBrowser(t, 300)
	check := func(h int) {
		t.Helper()
		waitJS(t, ctx, fmt.Sprintf("spacer of 300 rows of %d px", h), fmt.Sprintf(`document.getElementById('list-spacer').offsetHeight === 300 * %d`, h))
		got := evalJS[[]float64](t, ctx, `(() => {
			const r0 = document.querySelector('#list-rows .row[data-pos="0"]'), r1 = document.querySelector('#list-rows .row[data-pos="1"]');
			return [r0.offsetHeight, r1.getBoundingClientRect().top - r0.getBoundingClientRect().top];
		})()`)
		if got[0] != float64(h) || got[1] != float64(h) {
			t.Errorf("--row-h %d px: rows %v px tall and apart", h, got)
		}
		// PageDown moves by the rows in view, measured with the CSS height.
		vr := evalJS[int](t, ctx, fmt.Sprintf(`Math.floor((document.getElementById('list-scroll').clientHeight - document.querySelector('.list-header').offsetHeight) / %d)`, h))
		do1(t, ctx, chromedp.Focus(chromedp.ID("list-scroll")), chromedp.SendKeys(chromedp.ID("list-scroll"), kb.Home), chromedp.SendKeys(chromedp.ID("list-scroll"), kb.PageDown))
		waitJS(t, ctx, "PageDown", fmt.Sprintf(`(document.querySelector('#list-rows .row.selected') || {dataset: {}}).dataset.no === '%d'`, 1+vr))
	}
	check(22)
	evalJS[bool](t, ctx, `(document.documentElement.style.setProperty('--row-h', '30px'), window.dispatchEvent(new Event('resize')), true)`)
	check(30)
}

// setViewport resizes the page's viewport (as a smaller window would).
func setViewport(t *testing.T, ctx context.Context, w, h int64) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: w, Height: h, DeviceScaleFactor: 1,
	}); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, fmt.Sprintf("viewport %dx%d", w, h), fmt.Sprintf(`window.innerWidth === %d && window.innerHeight === %d`, w, h))
}

// panesVisible is a JavaScript expression that is ” when each of the three
// panes lies between the top bar and the status bar and shows at least
// three rows of its content, or else says which does not.
const panesVisible = `(() => {
	const top = document.querySelector('.topbar').getBoundingClientRect().bottom;
	const bottom = document.querySelector('.statusbar').getBoundingClientRect().top;
	const cs = getComputedStyle(document.documentElement);
	const rowH = parseFloat(cs.getPropertyValue('--row-h')), hexH = parseFloat(cs.getPropertyValue('--hex-row-h'));
	const need = {
		'list-pane': document.querySelector('.list-header').offsetHeight + 3 * rowH,
		'detail-pane': 3 * 18,
		'bytes-pane': 3 * hexH,
	};
	const bad = [];
	for (const [id, min] of Object.entries(need)) {
		const r = document.getElementById(id).getBoundingClientRect();
		if (r.top < top - 1 || r.bottom > bottom + 1 || r.height < min) bad.push(id + ' at ' + Math.round(r.top) + '..' + Math.round(r.bottom) + ' (page ' + Math.round(top) + '..' + Math.round(bottom) + ', needs ' + min + ' px)');
	}
	return bad.join('; ');
})()`

// paneShare returns the list, detail and bytes panes' shares of the space
// the three have.
func paneShare(t *testing.T, ctx context.Context) []float64 {
	t.Helper()
	return evalJS[[]float64](t, ctx, `(() => {
		const h = ['list-pane', 'detail-pane', 'bytes-pane'].map((id) => document.getElementById(id).getBoundingClientRect().height);
		const sum = h[0] + h[1] + h[2];
		return h.map((x) => x / sum);
	})()`)
}

// dragSplitter drags the splitter below pane to the page's y coordinate.
func dragSplitter(t *testing.T, ctx context.Context, above string, y float64) {
	t.Helper()
	box := evalJS[[]float64](t, ctx, fmt.Sprintf(`(() => { const r = document.querySelector('.splitter[data-above="%s"]').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`, above))
	x := box[0]
	do1(t, ctx,
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x, box[1], chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, (box[1]+y)/2, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x, y, chromedp.ButtonLeft),
	)
}

// shotSizes checks at 1600x1000 and at 1100x750 that every pane is in
// view with a few rows, and saves screenshots of both (named name-WxH).
func shotSizes(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for _, sz := range [][2]int64{{1600, 1000}, {1100, 750}} {
		setViewport(t, ctx, sz[0], sz[1])
		if bad := evalJS[string](t, ctx, panesVisible); bad != "" {
			t.Errorf("%s at %dx%d: %s", name, sz[0], sz[1], bad)
		}
		screenshot(t, ctx, fmt.Sprintf("%s-%dx%d", name, sz[0], sz[1]))
	}
}

// TestBrowserSplitters (issue 19, defect 2): dragging a splitter to the
// bottom, reloading, or a smaller window never pushes a pane off-screen or
// below three rows; the layout is kept as proportions, and an old layout
// saved in pixels does no harm.
func TestBrowserSplitters(t *testing.T) {
	ctx, ts, id := openInBrowser(t, 300)
	setViewport(t, ctx, 1600, 1000)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-pos="2"]`)))
	waitJS(t, ctx, "packet 3 shown", `document.querySelectorAll('#hex .hb[data-i]').length > 0`)
	if bad := evalJS[string](t, ctx, panesVisible); bad != "" {
		t.Errorf("default layout: %s", bad)
	}

	// The list splitter dragged to the bottom of the window, then the
	// details splitter too.
	dragSplitter(t, ctx, "list-pane", 995)
	if bad := evalJS[string](t, ctx, panesVisible); bad != "" {
		t.Errorf("list splitter at the bottom: %s", bad)
	}
	screenshot(t, ctx, "splitters-dragged-1600x1000")
	dragSplitter(t, ctx, "detail-pane", 995)
	if bad := evalJS[string](t, ctx, panesVisible); bad != "" {
		t.Errorf("details splitter at the bottom: %s", bad)
	}
	// And up to the top.
	dragSplitter(t, ctx, "list-pane", 0)
	if bad := evalJS[string](t, ctx, panesVisible); bad != "" {
		t.Errorf("list splitter at the top: %s", bad)
	}
	// A layout of a list at 60 %, details at 15 %.
	panes := evalJS[[]float64](t, ctx, `(() => { const r = document.getElementById('list-pane').getBoundingClientRect(), b = document.getElementById('bytes-pane').getBoundingClientRect(); return [r.top, b.bottom]; })()`)
	dragSplitter(t, ctx, "list-pane", panes[0]+0.6*(panes[1]-panes[0]))
	dragSplitter(t, ctx, "detail-pane", panes[0]+0.75*(panes[1]-panes[0]))
	want := paneShare(t, ctx)

	// A reload keeps the proportions.
	do1(t, ctx, chromedp.Reload())
	waitJS(t, ctx, "reloaded", `document.querySelectorAll('#list-rows .row:not(.loading)').length > 5`)
	got := paneShare(t, ctx)
	for i := range got {
		if d := got[i] - want[i]; d > 0.01 || d < -0.01 {
			t.Errorf("after a reload the panes share %.3f, want %.3f", got, want)
			break
		}
	}
	// A smaller window keeps them too, and every pane.
	setViewport(t, ctx, 1100, 750)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-pos="2"]`)))
	waitJS(t, ctx, "packet 3 shown", `document.querySelectorAll('#hex .hb[data-i]').length > 0`)
	if bad := evalJS[string](t, ctx, panesVisible); bad != "" {
		t.Errorf("1100x750: %s", bad)
	}
	got = paneShare(t, ctx)
	for i := range got {
		if d := got[i] - want[i]; d > 0.02 || d < -0.02 {
			t.Errorf("at 1100x750 the panes share %.3f, want %.3f", got, want)
			break
		}
	}
	screenshot(t, ctx, "splitters-1100x750")
	// A much smaller one still shows each pane.
	setViewport(t, ctx, 900, 480)
	if bad := evalJS[string](t, ctx, panesVisible); bad != "" {
		t.Errorf("900x480: %s", bad)
	}
	screenshot(t, ctx, "splitters-900x480")

	// A layout saved in pixels by an older page, for a taller window.
	setViewport(t, ctx, 1100, 750)
	evalJS[bool](t, ctx, `(localStorage.clear(), localStorage.setItem('pkttap.list-h', '900px'), localStorage.setItem('pkttap.detail-h', '600px'), true)`)
	do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+id+"?p=3"))
	waitJS(t, ctx, "packet 3 shown", `document.querySelectorAll('#hex .hb[data-i]').length > 0`)
	if bad := evalJS[string](t, ctx, panesVisible); bad != "" {
		t.Errorf("old pixel layout: %s", bad)
	}
}

// TestBrowserFilterNotApplied (issue 19, defect 12): an expression typed
// but not applied marks the bar "not applied" and says which filter the
// list still shows; Apply or Escape clears the mark.
func TestBrowserFilterNotApplied(t *testing.T) {
	ctx, _, _ := openInBrowser(t, 300)
	pending := `(() => {
		const p = document.getElementById('filter-pending');
		return [document.getElementById('filter-form').classList.contains('not-applied'), !!p && !p.hidden, p ? p.textContent : ''];
	})()`
	state := func(what string, want bool, shows string) {
		t.Helper()
		waitJS(t, ctx, what, fmt.Sprintf(`(() => { const s = %s; return s[0] === %v && s[1] === %v && s[2].includes(%q); })()`, pending, want, want, shows))
	}
	state("nothing typed", false, "")
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), "tcp port 443"))
	state("typed, not applied: all packets shown", true, "all packets")
	shotSizes(t, ctx, "filter-not-applied")
	do1(t, ctx, chromedp.Click(chromedp.ID("apply-button")))
	waitJS(t, ctx, "filtered count", `document.getElementById('status-count').textContent === 'Displayed 150 of 300'`)
	state("applied", false, "")
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), " and host 10.0.0.1"))
	state("changed, not applied", true, "tcp port 443")
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), kb.Escape))
	state("Escape restores the applied filter", false, "")
	if v := evalJS[string](t, ctx, `document.getElementById('filter-input').value`); v != "tcp port 443" {
		t.Errorf("after Escape the bar holds %q", v)
	}
	evalJS[bool](t, ctx, `(document.getElementById('filter-input').value = '', document.getElementById('filter-input').dispatchEvent(new Event('input')), true)`)
	state("emptied, not applied", true, "tcp port 443")
	do1(t, ctx, chromedp.Click(chromedp.ID("apply-button")))
	waitJS(t, ctx, "unfiltered", `document.getElementById('status-count').textContent === 'Displayed 300 of 300'`)
	state("all shown again", false, "")
}

// longIPv6 returns a raw-IP capture of n UDP packets between two IPv6
// addresses as long as their text can be (39 characters).
func longIPv6(t *testing.T, n int) []byte {
	t.Helper()
	src := netip.MustParseAddr("fd00:ffff:ffff:ffff:ffff:ffff:ffff:fffe").AsSlice()
	dst := netip.MustParseAddr("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").AsSlice()
	var b bytes.Buffer
	w, err := pcapio.NewWriter(&b, pcapio.WriterOptions{Format: pcapio.FormatPcap, LinkType: pcapio.LinkTypeRaw, Snaplen: 1500})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		data := testpkt.IPv6(testpkt.ProtoUDP, src, dst, testpkt.UDP(5000+uint16(i), 53, []byte("payload")))
		p := pcapio.Packet{Timestamp: time.Unix(1_700_000_000, int64(i)*1000), Data: data, Length: len(data), LinkType: pcapio.LinkTypeRaw}
		if err := w.WritePacket(&p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// addressesCut is a JavaScript expression listing the address cells of
// the drawn rows whose text does not fit.
const addressesCut = `Array.from(new Set(Array.from(document.querySelectorAll('#list-rows .row:not(.loading) .c-src, #list-rows .row:not(.loading) .c-dst'))
	.filter((c) => c.scrollWidth > c.clientWidth).map((c) => c.textContent))).join(', ')`

// colWidths returns the widths of the Source header and of the first row's
// Source cell.
const colWidths = `[document.querySelector('.list-header .c-src').getBoundingClientRect().width,
	document.querySelector('#list-rows .row[data-pos="0"] .c-src').getBoundingClientRect().width]`

// TestBrowserColumns (issue 19, defect 10): IPv6 addresses are shown
// whole at 1600x1000 and 1100x750; a column is resized by dragging its
// header's edge, header and rows stay aligned, and the width is kept by
// the browser across a reload.
func TestBrowserColumns(t *testing.T) {
	ctx := newBrowser(t)
	_, ts := newTestServer(t, Config{})
	id := waitIndexed(t, ts, upload(t, ts, "v6.pcap", longIPv6(t, 40)).ID).ID
	do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+id+"?p=1"))
	waitJS(t, ctx, "rows", `document.querySelectorAll('#list-rows .row:not(.loading)').length > 5 && document.querySelectorAll('#hex .hb[data-i]').length > 0`)
	if src := evalJS[string](t, ctx, `document.querySelector('#list-rows .row[data-pos="0"] .c-src').textContent`); src != "fd00:ffff:ffff:ffff:ffff:ffff:ffff:fffe" {
		t.Fatalf("source shown as %q", src)
	}
	for _, sz := range [][2]int64{{1600, 1000}, {1100, 750}} {
		setViewport(t, ctx, sz[0], sz[1])
		waitJS(t, ctx, "rows drawn", `document.querySelectorAll('#list-rows .row:not(.loading)').length > 5`)
		if cut := evalJS[string](t, ctx, addressesCut); cut != "" {
			t.Errorf("at %dx%d addresses are cut: %s", sz[0], sz[1], cut)
		}
		if bad := evalJS[string](t, ctx, panesVisible); bad != "" {
			t.Errorf("at %dx%d: %s", sz[0], sz[1], bad)
		}
		screenshot(t, ctx, fmt.Sprintf("ipv6-columns-%dx%d", sz[0], sz[1]))
	}

	// Drag the Source header's right edge 80 px to the right.
	w0 := evalJS[[]float64](t, ctx, colWidths)
	edge := evalJS[[]float64](t, ctx, `(() => { const r = document.querySelector('.list-header .c-src .col-grip').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	do1(t, ctx,
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, edge[0], edge[1], chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, edge[0]+40, edge[1], chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, edge[0]+80, edge[1], chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, edge[0]+80, edge[1], chromedp.ButtonLeft),
	)
	w1 := evalJS[[]float64](t, ctx, colWidths)
	if d := w1[0] - w0[0]; d < 79 || d > 81 || w1[0] != w1[1] {
		t.Errorf("Source was %.1f px wide (rows %.1f), after dragging its edge 80 px it is %.1f (rows %.1f)", w0[0], w0[1], w1[0], w1[1])
	}
	screenshot(t, ctx, "column-resized-1100x750")
	do1(t, ctx, chromedp.Reload())
	waitJS(t, ctx, "reloaded", `document.querySelectorAll('#list-rows .row:not(.loading)').length > 5`)
	if w2 := evalJS[[]float64](t, ctx, colWidths); w2[0] != w1[0] || w2[1] != w1[0] {
		t.Errorf("after a reload Source is %.1f px wide (rows %.1f), want %.1f", w2[0], w2[1], w1[0])
	}
	if bad := evalJS[string](t, ctx, panesVisible); bad != "" {
		t.Errorf("after resizing a column: %s", bad)
	}
}

// TestBrowserCaptureMenuSameNames (issue 19, defect 13): captures of the
// same name read differently in the capture menu, and × asks before it
// deletes one (saying that a running live capture will be stopped);
// "Keep" and Escape keep it.
func TestBrowserCaptureMenuSameNames(t *testing.T) {
	ctx := newBrowser(t)
	b := &fakeBackend{ifaces: fakeInterfaces(), frame: 60, every: 5 * time.Millisecond}
	_, ts := newTestServer(t, Config{Live: b})
	first := waitIndexed(t, ts, upload(t, ts, "same.pcap", synthetic(t, pcapio.FormatPcap, 5)).ID).ID
	second := waitIndexed(t, ts, upload(t, ts, "same.pcap", synthetic(t, pcapio.FormatPcap, 7)).ID).ID
	res, live, _ := startLive(t, ts, `{"interface": "veth0"}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start live: status %d", res.StatusCode)
	}
	exists := func(id string) bool {
		return do(t, "GET", ts.URL+"/api/captures/"+id, nil, nil).StatusCode == http.StatusOK
	}
	do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+first))
	waitJS(t, ctx, "capture", `document.getElementById('status-count').textContent === 'Displayed 5 of 5'`)
	do1(t, ctx, chromedp.Click(chromedp.ID("cap-button")))
	waitJS(t, ctx, "capture menu", `!document.getElementById('cap-menu').hidden && document.querySelectorAll('#cap-menu a').length === 3`)
	label := func(id string) string {
		return evalJS[string](t, ctx, `document.querySelector('#cap-menu a[data-id="`+id+`"] > span').textContent`)
	}
	if a, b := label(first), label(second); a == b || !strings.HasPrefix(a, "same.pcap") || !strings.HasPrefix(b, "same.pcap") {
		t.Errorf("the two same.pcap read %q and %q in the menu", a, b)
	}
	if got, want := evalJS[string](t, ctx, `document.getElementById('cap-name').textContent`), label(first); got != want {
		t.Errorf("the open capture is named %q in the top bar, %q in the menu", got, want)
	}

	// × asks; Keep keeps.
	del := func(id string) {
		t.Helper()
		evalJS[bool](t, ctx, `(document.querySelector('#cap-menu a[data-id="`+id+`"] .del').click(), true)`)
		waitJS(t, ctx, "the question", `document.querySelector('#cap-menu .confirm') !== null && document.activeElement.closest('.confirm') !== null`)
	}
	del(second)
	if q := evalJS[string](t, ctx, `document.querySelector('#cap-menu .confirm').textContent`); !strings.Contains(q, "Delete") || strings.Contains(q, "stop") {
		t.Errorf("the question reads %q", q)
	}
	time.Sleep(300 * time.Millisecond)
	if !exists(second) {
		t.Fatal("× deleted the capture without asking")
	}
	shotSizes(t, ctx, "delete-question")
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#cap-menu .confirm .keep`)))
	waitJS(t, ctx, "the question gone", `document.querySelector('#cap-menu .confirm') === null && !document.getElementById('cap-menu').hidden`)
	if !exists(second) {
		t.Fatal("Keep deleted the capture")
	}

	// A running live capture: the question says it will be stopped;
	// Escape keeps it.
	del(live.ID)
	if q := evalJS[string](t, ctx, `document.querySelector('#cap-menu .confirm').textContent`); !strings.Contains(q, "stop") {
		t.Errorf("the question about a running capture reads %q", q)
	}
	do1(t, ctx, chromedp.KeyEvent(kb.Escape))
	waitJS(t, ctx, "the question gone", `document.querySelector('#cap-menu .confirm') === null`)
	if !exists(live.ID) {
		t.Fatal("Escape deleted the live capture")
	}

	// Confirmed, it goes.
	do1(t, ctx, chromedp.Click(chromedp.ID("cap-button")))
	waitJS(t, ctx, "capture menu", `!document.getElementById('cap-menu').hidden`)
	del(second)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#cap-menu .confirm .yes`)))
	waitJS(t, ctx, "deleted", `document.querySelectorAll('#cap-menu a').length === 2`)
	if exists(second) {
		t.Error("the confirmed delete left the capture")
	}
	if a := label(first); a != "same.pcap" {
		t.Errorf("the only same.pcap left reads %q", a)
	}
}

// consoleErrors collects what the page logs as errors from now on: console
// errors, uncaught exceptions and (for source "network") failed requests.
func consoleErrors(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	var mu sync.Mutex
	var errs []string
	add := func(s string) { mu.Lock(); errs = append(errs, s); mu.Unlock() }
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				add(string(e.Entry.Source) + ": " + e.Entry.Text + " " + e.Entry.URL)
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				add("console." + string(e.Type))
			}
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if ex := e.ExceptionDetails.Exception; ex != nil {
				msg += " " + ex.Description
			}
			add("exception: " + msg)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	return func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), errs...) }
}

// TestBrowserFilterCheckQuiet (issue 19, defect 11): checking invalid
// expressions as they are typed shows each fault, red with its column (a
// character it cannot take named as typed: defect 8), and logs nothing in
// the console. (The server answers such a check with 200
// and valid:false; a server that still answers 400 makes the browser log
// the request, which is then the only entry allowed.)
func TestBrowserFilterCheckQuiet(t *testing.T) {
	ctx, ts, _ := openInBrowser(t, 50)
	logged := consoleErrors(t, ctx)
	for _, tt := range []struct{ expr, col, says string }{
		{"tcp port", "column 9", ""},
		{"tcp port ünïcode", "column 10", "'ü'"}, // defect 8: the character as typed
		{"host 1.2.3.4 and", "column 17", ""},
	} {
		evalJS[bool](t, ctx, `(document.getElementById('filter-input').value = '', true)`)
		do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), tt.expr))
		waitJS(t, ctx, "red "+tt.expr, fmt.Sprintf(`document.getElementById('filter-input').classList.contains('invalid') &&
			document.getElementById('filter-msg').textContent.startsWith('✗ %s: ') && document.getElementById('filter-msg').textContent.includes(%q)`, tt.col, tt.says))
	}
	evalJS[bool](t, ctx, `(document.getElementById('filter-input').value = '', true)`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), "tcp port 443"))
	waitJS(t, ctx, "green", `document.getElementById('filter-input').classList.contains('valid') && document.getElementById('filter-msg').textContent.startsWith('✓ valid for EN10MB')`)
	status400 := do(t, "GET", ts.URL+"/api/filter?expr=tcp+port", nil, nil).StatusCode == http.StatusBadRequest
	for _, e := range logged() {
		if status400 && strings.HasPrefix(e, "network: ") && strings.Contains(e, "/api/filter?") {
			continue
		}
		t.Errorf("the page logged %s", e)
	}
}

// emulateScheme sets the operating system's colour preference.
func emulateScheme(t *testing.T, ctx context.Context, scheme string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserTheme (issue 19, theme toggle): the theme follows the OS
// until the toggle picks light or dark, which a reload keeps; "auto"
// follows the OS again.
func TestBrowserTheme(t *testing.T) {
	ctx, _, _ := openInBrowser(t, 20)
	const bg = `getComputedStyle(document.body).backgroundColor`
	const light, dark = "rgb(255, 255, 255)", "rgb(22, 25, 31)"
	theme := func(what, os, want string) {
		t.Helper()
		emulateScheme(t, ctx, os)
		waitJS(t, ctx, what, fmt.Sprintf(`%s === %q`, bg, want))
	}
	theme("auto, OS dark", "dark", dark)
	theme("auto, OS light", "light", light)
	pick := func(label string) {
		t.Helper()
		for range 3 {
			if evalJS[string](t, ctx, `document.getElementById('theme-button').dataset.theme`) == label {
				return
			}
			do1(t, ctx, chromedp.Click(chromedp.ID("theme-button")))
		}
		t.Fatalf("the theme button never reads %q", label)
	}
	pick("dark")
	theme("dark, OS light", "light", dark)
	shotSizes(t, ctx, "theme-dark-os-light")
	do1(t, ctx, chromedp.Reload())
	waitJS(t, ctx, "reloaded", `document.querySelectorAll('#list-rows .row:not(.loading)').length > 5`)
	theme("dark kept by a reload", "light", dark)
	pick("light")
	theme("light, OS dark", "dark", light)
	pick("auto")
	theme("auto again, OS dark", "dark", dark)
}

// goSpan writes ns nanoseconds as seconds with prec digits after the
// point, cut as a clock reads.
func goSpan(ns int64, prec int) string {
	sign := ""
	if ns < 0 {
		sign, ns = "-", -ns
	}
	s := fmt.Sprintf("%s%d", sign, ns/1e9)
	if prec > 0 {
		s += "." + fmt.Sprintf("%09d", ns%1e9)[:prec]
	}
	return s
}

// goClock writes t as layout plus prec digits after the second.
func goClock(t time.Time, layout string, prec int) string {
	s := t.Format(layout)
	if prec > 0 {
		s += "." + fmt.Sprintf("%09d", t.Nanosecond())[:prec]
	}
	return s
}

// TestBrowserTimeFormats (issue 19, time display formats): each format and
// precision chosen in the preferences shows the times Go computes from the
// API's rows (local time in a time zone other than UTC), with a filter
// applied too (deltas to the previous displayed and captured packet), and
// a reload keeps the choice.
func TestBrowserTimeFormats(t *testing.T) {
	ctx := newBrowser(t)
	_, ts := newTestServer(t, Config{})
	// Nanosecond timestamps: packet i at base + i×123456789 ns.
	base := time.Date(2026, 3, 4, 23, 59, 58, 987654321, time.UTC)
	frames := make([][]byte, 40)
	times := make([]time.Time, 40)
	for i := range frames {
		frames[i] = samplegen.SyntheticPacket(i, nil)
		times[i] = base.Add(time.Duration(i) * 123456789)
	}
	var file bytes.Buffer
	w, err := pcapio.NewWriter(&file, pcapio.WriterOptions{Format: pcapio.FormatPcapNg, LinkType: pcapio.LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		if err := w.WritePacket(&pcapio.Packet{Timestamp: times[i], Data: f, Length: len(f), LinkType: pcapio.LinkTypeEthernet}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	id := waitIndexed(t, ts, upload(t, ts, "ns.pcapng", file.Bytes()).ID).ID
	const zone = "Asia/Kolkata"
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone}); err != nil {
		t.Fatal(err)
	}
	do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+id))
	waitJS(t, ctx, "rows", `document.querySelectorAll('#list-rows .row:not(.loading)').length > 5`)

	var all, shown RowsResponse
	do(t, "GET", ts.URL+"/api/captures/"+id+"/rows?start=0&count=40", nil, &all)
	want := func(mode string, prec int, rows []Row) string {
		var out []string
		for k, r := range rows {
			at := time.Unix(r.Sec, r.Nsec)
			prevCaptured := all.Rows[max(r.No-2, 0)]
			var s string
			switch mode {
			case "datetime-local":
				s = goClock(at.In(loc), "2006-01-02 15:04:05", prec)
			case "tod-local":
				s = goClock(at.In(loc), "15:04:05", prec)
			case "datetime-utc":
				s = goClock(at.UTC(), "2006-01-02 15:04:05", prec)
			case "absolute":
				s = goClock(at.UTC(), "15:04:05", prec)
			case "epoch":
				s = goSpan(r.Sec*1e9+r.Nsec, prec)
			case "relative":
				s = goSpan(at.Sub(base).Nanoseconds(), prec)
			case "delta":
				d := int64(0)
				if k > 0 {
					d = at.Sub(time.Unix(rows[k-1].Sec, rows[k-1].Nsec)).Nanoseconds()
				}
				s = goSpan(d, prec)
			case "delta-captured":
				s = goSpan(at.Sub(time.Unix(prevCaptured.Sec, prevCaptured.Nsec)).Nanoseconds(), prec)
			}
			out = append(out, s)
		}
		return strings.Join(out, "|")
	}
	const cells = `Array.from(document.querySelectorAll('#list-rows .row:not(.loading)')).slice(0, 8).map(e => e.children[1].textContent).join('|')`
	choose := func(mode string, prec int) {
		t.Helper()
		do1(t, ctx, chromedp.Click(chromedp.ID("prefs-button")))
		waitJS(t, ctx, "preferences", `document.getElementById('prefs-dialog').open`)
		evalJS[bool](t, ctx, fmt.Sprintf(`(() => {
			for (const [id, v] of [['pref-time-format', %q], ['pref-time-precision', '%d']]) {
				const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event('change'));
			}
			return true;
		})()`, mode, prec))
		do1(t, ctx, chromedp.Click(chromedp.ID("prefs-close")))
		waitJS(t, ctx, "preferences closed", `!document.getElementById('prefs-dialog').open`)
	}
	modes := []string{"datetime-local", "tod-local", "datetime-utc", "absolute", "epoch", "relative", "delta", "delta-captured"}
	for i, mode := range modes {
		prec := []int{9, 6, 3, 0, 9, 1, 2, 9}[i]
		choose(mode, prec)
		waitJS(t, ctx, fmt.Sprintf("%s, %d digits", mode, prec), fmt.Sprintf(`%s === %q`, cells, want(mode, prec, all.Rows[:8])))
	}
	choose("datetime-local", 9)
	shotSizes(t, ctx, "time-datetime-local-ns")

	// Under a filter: deltas to the previous displayed and captured packet.
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), "tcp port 443\n"))
	waitJS(t, ctx, "filtered", `new URLSearchParams(location.search).get('filter') === 'tcp port 443' && document.querySelector('#list-rows .row[data-pos="0"]:not(.loading)') !== null`)
	do(t, "GET", ts.URL+"/api/captures/"+id+"/rows?start=0&count=8&filter=tcp+port+443", nil, &shown)
	for _, mode := range []string{"delta", "delta-captured"} {
		choose(mode, 9)
		waitJS(t, ctx, mode+" under a filter", fmt.Sprintf(`%s === %q`, cells, want(mode, 9, shown.Rows)))
	}
	// The header's menu chooses the format too, and a reload keeps it.
	evalJS[bool](t, ctx, `(() => { const s = document.getElementById('time-mode'); s.value = 'epoch'; s.dispatchEvent(new Event('change')); return true; })()`)
	do1(t, ctx, chromedp.Reload())
	waitJS(t, ctx, "epoch, 9 digits, after a reload", fmt.Sprintf(`%s === %q`, cells, want("epoch", 9, shown.Rows)))
}

// TestBrowserChecksumsPreference: checksum verification, off by default,
// is turned on in the preferences; the rows and the selected packet are
// then asked for with checksums=1, also after a reload.
func TestBrowserChecksumsPreference(t *testing.T) {
	ctx, _, _ := openInBrowser(t, 20)
	var mu sync.Mutex
	var urls []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			urls = append(urls, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	asked := func(what, part string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			for _, u := range urls {
				if strings.Contains(u, part) && strings.Contains(u, "checksums=1") {
					mu.Unlock()
					return
				}
			}
			mu.Unlock()
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s: no request for %s with checksums=1 among %q", what, part, urls)
	}
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-pos="1"]`)))
	waitJS(t, ctx, "packet 2", `document.querySelectorAll('#hex .hb[data-i]').length > 0`)
	do1(t, ctx, chromedp.Click(chromedp.ID("prefs-button")))
	waitJS(t, ctx, "preferences", `document.getElementById('prefs-dialog').open && !document.getElementById('pref-checksums').checked`)
	do1(t, ctx, chromedp.Click(chromedp.ID("pref-checksums")))
	asked("rows", "/rows?")
	asked("the selected packet", "/packets/2?")
	do1(t, ctx, chromedp.Click(chromedp.ID("prefs-close")))
	mu.Lock()
	urls = nil
	mu.Unlock()
	do1(t, ctx, chromedp.Reload())
	asked("rows after a reload", "/rows?")
}

// goHexDump writes b as the page's hex dump does.
func goHexDump(b []byte) string {
	var lines []string
	for off := 0; off < len(b); off += 16 {
		chunk := b[off:min(off+16, len(b))]
		var hx, ascii strings.Builder
		for k := range 16 {
			if k < len(chunk) {
				fmt.Fprintf(&hx, "%02x", chunk[k])
			} else {
				hx.WriteString("  ")
			}
			if k == 7 {
				hx.WriteString("  ")
			} else {
				hx.WriteString(" ")
			}
		}
		for _, c := range chunk {
			if c >= ' ' && c <= '~' {
				ascii.WriteByte(c)
			} else {
				ascii.WriteByte('.')
			}
		}
		lines = append(lines, fmt.Sprintf("%04x  %s %s", off, hx.String(), ascii.String()))
	}
	return strings.Join(lines, "\n")
}

// TestBrowserTreeActions (issue 19, packet details): Expand / Collapse
// All and Subtrees by their keys, and Copy (field name, value, as filter,
// as text, bytes as hex dump and hex stream) by keys and from the context
// menu, read back from the clipboard.
func TestBrowserTreeActions(t *testing.T) {
	ctx, ts, _ := openInBrowser(t, 20)
	if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: browser.PermissionSettingGranted, Origin: ts.URL,
	}); err != nil {
		t.Fatal(err)
	}
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-pos="0"]`)))
	waitJS(t, ctx, "packet 1", `document.querySelectorAll('#hex .hb[data-i]').length > 0 && document.querySelector('#tree .node[data-field="ip"]') !== null`)
	pkt := samplegen.SyntheticPacket(0, nil)
	const state = `(() => { const all = Array.from(document.querySelectorAll('#tree li[aria-expanded]'));
		return [all.length, all.filter((li) => li.getAttribute('aria-expanded') === 'true').length,
			document.querySelectorAll('#tree .node[data-field="ip"] + ul li[aria-expanded="true"]').length]; })()`
	key := func(k string, mods chromedp.Modifier) {
		t.Helper()
		do1(t, ctx, chromedp.KeyEvent(k, chromedp.KeyModifiers(mods)))
	}
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#tree .node[data-field="ip"] .label`)))
	key(kb.ArrowRight, chromedp.ModifierCtrl)
	if s := evalJS[[]int](t, ctx, state); s[0] < 3 || s[1] != s[0] {
		t.Errorf("after Ctrl+→ %d of %d items are open", s[1], s[0])
	}
	key(kb.ArrowLeft, chromedp.ModifierCtrl)
	if s := evalJS[[]int](t, ctx, state); s[1] != 0 {
		t.Errorf("after Ctrl+← %d of %d items are open", s[1], s[0])
	}
	key(kb.ArrowRight, chromedp.ModifierShift)
	if s := evalJS[[]int](t, ctx, state); s[1] == 0 || s[1] != 1+s[2] {
		t.Errorf("after Shift+→ on IP %d items are open, %d of them below IP", s[1], s[2])
	}

	clip := func(what, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
			if err == nil && got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: clipboard holds %q (%v), want %q", what, got, err, want)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#tree .node[data-field="ip.src"] .label`)))
	for _, tt := range []struct{ key, want string }{
		{"F", "ip.src"},
		{"V", "10.0.0.0"},
		{"C", "ip.src == 10.0.0.0"},
		{"X", goHexDump(pkt[26:30])},
	} {
		key(tt.key, chromedp.ModifierCtrl|chromedp.ModifierShift)
		clip("Ctrl+Shift+"+tt.key, tt.want)
	}
	// The context menu: right click on the Frame layer, Copy Bytes as Hex
	// Stream gives the whole packet.
	frame := evalJS[[]float64](t, ctx, `(() => {
		const l = document.querySelector('#tree .node[data-field="frame"] .label');
		l.scrollIntoView({block: 'nearest'});
		const r = l.getBoundingClientRect();
		return [r.left + 10, r.top + 5];
	})()`)
	do1(t, ctx, chromedp.MouseClickXY(frame[0], frame[1], chromedp.ButtonRight))
	waitJS(t, ctx, "context menu", `!document.getElementById('ctx-menu').hidden && document.activeElement.closest('#ctx-menu') !== null`)
	shotSizes(t, ctx, "tree-context-menu")
	do1(t, ctx, chromedp.MouseClickXY(frame[0], frame[1], chromedp.ButtonRight))
	waitJS(t, ctx, "context menu", `!document.getElementById('ctx-menu').hidden`)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#ctx-menu a[data-action="copy-hexstream"]`)))
	clip("Copy Bytes as Hex Stream", hex.EncodeToString(pkt))
	waitJS(t, ctx, "menu closed", `document.getElementById('ctx-menu').hidden`)
	// From the keyboard: Shift+F10, ↓ to Collapse Subtrees... Escape closes.
	do1(t, ctx, chromedp.Focus(chromedp.ID("tree")))
	key(kb.F10, chromedp.ModifierShift)
	waitJS(t, ctx, "context menu by Shift+F10", `!document.getElementById('ctx-menu').hidden`)
	key(kb.Escape, 0)
	waitJS(t, ctx, "closed by Escape", `document.getElementById('ctx-menu').hidden && document.activeElement.id === 'tree'`)
	// Copy as Text: the Frame layer's line.
	key("D", chromedp.ModifierCtrl|chromedp.ModifierShift)
	clip("Ctrl+Shift+D", evalJS[string](t, ctx, `document.querySelector('#tree .node[data-field="frame"] .label').textContent`))
}
