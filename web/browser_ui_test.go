package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

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
