package web

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// openSampleInBrowser opens the built-in sample capture (25 packets: ARP,
// DNS, TCP with SYN, FIN and RST, HTTP, TLS, ICMP, UDP) in headless
// chromium at 1600×1000 and waits for its rows.
func openSampleInBrowser(t *testing.T) (ctx context.Context, base string) {
	t.Helper()
	ctx = newBrowser(t)
	_, ts := newTestServer(t, Config{})
	id := waitIndexed(t, ts, upload(t, ts, "sample.pcapng", sampleCapture).ID).ID
	do1(t, ctx, chromedp.EmulateViewport(1600, 1000), chromedp.Navigate(ts.URL+"/c/"+id))
	waitJS(t, ctx, "rows", `document.getElementById('status-count').textContent === 'Displayed 25 of 25' &&
		document.querySelectorAll('#list-rows .row:not(.loading)').length >= 20`)
	return ctx, ts.URL + "/api/captures/" + id
}

// shownColors returns, for each row on screen, packet number -> the rule
// index of its cr-N class (-1: none).
func shownColors(t *testing.T, ctx context.Context) map[int]int {
	t.Helper()
	got := evalJS[map[string]float64](t, ctx, `Object.fromEntries(Array.from(document.querySelectorAll('#list-rows .row:not(.loading)'), (r) => {
		const m = r.className.match(/\bcr-(\d+)\b/);
		return [r.dataset.no, m ? +m[1] : -1];
	}))`)
	out := map[int]int{}
	for k, v := range got {
		no, _ := strconv.Atoi(k)
		out[no] = int(v)
	}
	return out
}

// relLum and contrastRatio are WCAG's, on "rgb(r, g, b)" colours.
func contrastRatio(t *testing.T, a, b string) float64 {
	lum := func(s string) float64 {
		var r, g, bl float64
		if _, err := fmt.Sscanf(s, "rgb(%g, %g, %g)", &r, &g, &bl); err != nil {
			t.Fatalf("colour %q of %s %s: %v", s, a, b, err)
		}
		f := func(v float64) float64 {
			v /= 255
			if v <= 0.03928 {
				return v / 12.92
			}
			return math.Pow((v+0.055)/1.055, 2.4)
		}
		return 0.2126*f(r) + 0.7152*f(g) + 0.0722*f(bl)
	}
	x, y := lum(a), lum(b)
	if x < y {
		x, y = y, x
	}
	return (x + 0.05) / (y + 0.05)
}

// TestBrowserColoring (issue 19, coloring rules): the rows take the
// colours of the first default rule they match, as the server computes it
// for the same rules; text reads on them in the light and the dark theme;
// View → Colorize Packet List turns it off and on; a rule added in the
// editor and moved to the top colours its packet (checked on a
// screenshot), an invalid one shows why; Restore defaults undoes it all.
func TestBrowserColoring(t *testing.T) {
	ctx, base := openSampleInBrowser(t)
	logged := consoleErrors(t, ctx)
	var defs struct{ Rules []ColoringRule }
	do(t, "GET", strings.TrimSuffix(base, base[strings.Index(base, "/api/"):])+"/api/coloring", nil, &defs)
	var exprs []string
	for _, r := range defs.Rules {
		exprs = append(exprs, r.Filter)
	}
	want := rowColors(t, base, 25, exprs, "")
	waitJS(t, ctx, "coloured rows", `document.querySelectorAll('#list-rows .row.cr').length > 0`)
	got := shownColors(t, ctx)
	kinds := map[int]bool{}
	for no := 1; no <= 20; no++ { // the rows on screen
		if g, ok := got[no]; !ok || g != want[no] {
			t.Errorf("packet %d: rule %d on screen, the server says %d", no, got[no], want[no])
		}
		kinds[want[no]] = true
	}
	if len(kinds) < 5 {
		t.Errorf("the sample shows %d different rules, want at least 5 (ARP, ICMP errors, TCP RST, TCP SYN/FIN, TCP, UDP...)", len(kinds))
	}

	// Readable in both themes: every coloured row's text against its background.
	for _, theme := range []string{"light", "dark"} {
		evalJS[bool](t, ctx, `(document.documentElement.dataset.theme = '`+theme+`', true)`)
		pairs := evalJS[[][]string](t, ctx, `Array.from(document.querySelectorAll('#list-rows .row.cr'), (r) => {
			const s = getComputedStyle(r); return [r.dataset.no, s.color, s.backgroundColor];
		})`)
		for _, p := range pairs {
			if c := contrastRatio(t, p[1], p[2]); c < 4.5 {
				t.Errorf("%s theme: packet %s, text %s on %s: contrast %.2f, want 4.5 at least", theme, p[0], p[1], p[2], c)
			}
		}
	}
	evalJS[bool](t, ctx, `(delete document.documentElement.dataset.theme, true)`)

	// View → Colorize Packet List: off, then on again.
	do1(t, ctx, chromedp.Click(chromedp.ID("view-button")), chromedp.Click(chromedp.ID("view-colorize")))
	waitJS(t, ctx, "no colours", `document.querySelectorAll('#list-rows .row.cr').length === 0 && document.querySelectorAll('#list-rows .row:not(.loading)').length >= 20`)
	do1(t, ctx, chromedp.Click(chromedp.ID("view-button")), chromedp.Click(chromedp.ID("view-colorize")))
	waitJS(t, ctx, "colours again", `document.querySelectorAll('#list-rows .row.cr').length > 0`)

	// The editor: the legend lists every rule, the unavailable ones with why.
	do1(t, ctx, chromedp.Click(chromedp.ID("view-button")), chromedp.Click(chromedp.ID("view-coloring-rules")))
	waitJS(t, ctx, "legend", fmt.Sprintf(`document.querySelectorAll('#coloring-list .cr-row').length === %d`, len(defs.Rules)))
	for i, r := range defs.Rules {
		want := ""
		if !r.Available {
			want = fmt.Sprintf("Unavailable: column %d: %s", r.Column, r.Error)
		}
		waitJS(t, ctx, "legend of "+r.Name, fmt.Sprintf(`document.querySelector('#coloring-list .cr-row[data-i="%d"] .cr-swatch').textContent === %q &&
			document.querySelector('#coloring-list .cr-row[data-i="%d"] .cr-status').textContent === %q`, i, r.Name, i, want))
	}
	// Add a rule for packet 19 (an ICMP echo reply, ICMP's), move it to the top.
	do1(t, ctx, chromedp.Click(chromedp.ID("coloring-add")))
	n := len(defs.Rules)
	sel := fmt.Sprintf(`#coloring-list .cr-row[data-i="%d"] .cr-filter`, n)
	do1(t, ctx, chromedp.SendKeys(sel, "tcp.port =="))
	waitJS(t, ctx, "invalid rule", fmt.Sprintf(`document.querySelector('#coloring-list .cr-row[data-i="%d"] .cr-status').textContent.includes('column')`, n))
	evalJS[bool](t, ctx, `(document.querySelector('`+sel+`').value = '', true)`)
	do1(t, ctx, chromedp.SendKeys(sel, "frame.number == 19"+kb.Tab))
	evalJS[bool](t, ctx, fmt.Sprintf(`(() => { for (let k = %d; k > 0; k--) document.querySelector('#coloring-list .cr-row[data-i="' + k + '"] button[title="Move up"]').click(); return true; })()`, n))
	do1(t, ctx, chromedp.Click(chromedp.ID("coloring-close")))
	waitJS(t, ctx, "the new rule", `document.querySelector('#list-rows .row[data-no="19"]').classList.contains('cr-0') &&
		document.querySelectorAll('#list-rows .row.cr-0').length === 1`)
	if got := shownColors(t, ctx); got[18] != want[18]+1 || got[20] != want[20]+1 {
		t.Errorf("the other rules did not move down one: packets 18, 20 have rules %d, %d; want %d, %d", got[18], got[20], want[18]+1, want[20]+1)
	}

	// On a screenshot, packet 19's row has the new rule's background
	// (#fff3d5 in the light theme) and packet 18's does not.
	evalJS[bool](t, ctx, `(document.documentElement.dataset.theme = 'light', true)`)
	rect := func(no int) []float64 {
		return evalJS[[]float64](t, ctx, `(() => { const r = document.querySelector('#list-rows .row[data-no="`+strconv.Itoa(no)+`"] .c-info').getBoundingClientRect(); return [r.right - 4, r.top + r.height / 2]; })()`)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	pixel := func(no int) string {
		p := rect(no)
		r, g, b, _ := img.At(int(p[0]), int(p[1])).RGBA()
		return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
	}
	if got := pixel(19); got != "#fff3d5" {
		t.Errorf("screenshot: packet 19's row is %s, want the new rule's #fff3d5", got)
	}
	if got := pixel(18); got == "#fff3d5" {
		t.Errorf("screenshot: packet 18's row is %s too", got)
	}
	evalJS[bool](t, ctx, `(delete document.documentElement.dataset.theme, true)`)
	screenshot(t, ctx, "coloring")

	// Restore defaults: the rows are as at first.
	do1(t, ctx, chromedp.Click(chromedp.ID("view-button")), chromedp.Click(chromedp.ID("view-coloring-rules")), chromedp.Click(chromedp.ID("coloring-restore")), chromedp.Click(chromedp.ID("coloring-close")))
	waitJS(t, ctx, "defaults again", `!document.querySelector('#list-rows .row[data-no="19"]').classList.contains('cr-0')`)
	if got := shownColors(t, ctx); got[19] != want[19] {
		t.Errorf("after Restore defaults packet 19 has rule %d, want %d", got[19], want[19])
	}
	if errs := logged(); len(errs) > 0 {
		t.Errorf("the page logged errors: %q", errs)
	}
}

// TestBrowserFind (issue 19, Find Packet): Ctrl+F opens the find bar with
// the keyboard in it; a string typed and Enter select the first packet
// holding it and highlight its bytes; Enter again finds the next, and
// Shift+Enter the previous; from the last, the search wraps with a message;
// a bad hex value is refused as typed; Escape closes the bar.
func TestBrowserFind(t *testing.T) {
	ctx, _ := openSampleInBrowser(t)
	logged := consoleErrors(t, ctx)
	do1(t, ctx, chromedp.KeyEvent("f", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	waitJS(t, ctx, "find bar", `!document.getElementById('find-bar').hidden && document.activeElement === document.getElementById('find-input')`)
	evalJS[bool](t, ctx, `(() => { const s = document.getElementById('find-type'); s.value = 'string'; s.dispatchEvent(new Event('change')); const w = document.getElementById('find-in'); w.value = 'bytes'; w.dispatchEvent(new Event('change')); return true; })()`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("find-input"), "EXAMPLE"+kb.Enter))
	// "example" is in packets 3, 4 (at byte 59), 22 and 23; case is ignored.
	waitJS(t, ctx, "packet 3 found", `document.querySelector('#list-rows .row.selected') !== null && document.querySelector('#list-rows .row.selected').dataset.no === '3' &&
		document.querySelectorAll('#hex .hb.hl').length === 7 && document.querySelector('#hex .hb.hl').dataset.i === '59'`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("find-input"), kb.Enter))
	waitJS(t, ctx, "packet 4 found", `document.querySelector('#list-rows .row.selected').dataset.no === '4'`)
	do1(t, ctx, chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)))
	waitJS(t, ctx, "packet 3 again", `document.querySelector('#list-rows .row.selected').dataset.no === '3'`)
	do1(t, ctx, chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)))
	waitJS(t, ctx, "wrapped to 23", `document.querySelector('#list-rows .row.selected').dataset.no === '23' &&
		document.getElementById('find-msg').textContent.includes('continued from the end')`)
	screenshot(t, ctx, "find")

	// A hex value: a bad digit is refused as typed, with its column.
	evalJS[bool](t, ctx, `(() => { const s = document.getElementById('find-type'); s.value = 'hex'; s.dispatchEvent(new Event('change')); document.getElementById('find-input').value = ''; return true; })()`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("find-input"), "08 0g"))
	waitJS(t, ctx, "bad hex", `document.getElementById('find-input').classList.contains('invalid') && document.getElementById('find-msg').textContent.startsWith('column 5')`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("find-input"), kb.Escape))
	waitJS(t, ctx, "bar closed", `document.getElementById('find-bar').hidden && document.activeElement === document.getElementById('list-scroll')`)
	if errs := logged(); len(errs) > 0 {
		t.Errorf("the page logged errors: %q", errs)
	}
}
