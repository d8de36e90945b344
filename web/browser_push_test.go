package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/pcapio"
)

// pushWatcher is installed in the page before its scripts run: it counts
// the WebSocket's pushed rows, the REST rows requests and the animation
// frames the page gets, and notes, as pushes arrive and as rows are put in
// the list, the time (ms since the epoch) the page first had and the list
// first showed a packet number at least each one: [time, no] pairs, no
// increasing.
const pushWatcher = `(() => {
  window.__pushes = 0; window.__restRows = 0; window.__shown = []; window.__pushAt = []; let top = 0;
  const WS = window.WebSocket;
  window.WebSocket = function (...a) {
    const ws = new WS(...a);
    ws.addEventListener('message', (ev) => { if (ev.data.startsWith('{"type":"rows"')) { window.__pushes++; const m = JSON.parse(ev.data); if (m.rows.length) window.__pushAt.push([performance.timeOrigin + performance.now(), m.start + m.rows.length]); } });
    return ws;
  };
  window.WebSocket.prototype = WS.prototype;
  Object.assign(window.WebSocket, { OPEN: WS.OPEN, CLOSED: WS.CLOSED, CONNECTING: WS.CONNECTING, CLOSING: WS.CLOSING });
  const f = window.fetch;
  window.fetch = (url, ...a) => { if (String(url).includes('/rows?')) window.__restRows++; return f(url, ...a); };
  const watch = () => {
    const rows = document.getElementById('list-rows');
    if (!rows) { requestAnimationFrame(watch); return; }
    new MutationObserver(() => {
      const now = performance.timeOrigin + performance.now();
      let m = 0;
      for (const el of rows.children) if (!el.classList.contains('loading')) m = Math.max(m, +el.dataset.no || 0);
      if (m > top) { top = m; window.__shown.push([now, m]); }
    }).observe(rows, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-no'] });
  };
  watch();
  window.__frames = 0; const frame = () => { window.__frames++; requestAnimationFrame(frame); }; requestAnimationFrame(frame);
})();`

// watchPushes installs pushWatcher in the browser's pages to come.
func watchPushes(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: pushWatcher}); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserPushIndexing follows the end of a file while it is indexed:
// End on the list makes it follow (as on a live capture), the rows of the
// new packets come pushed over the WebSocket, not asked for with GET rows,
// and the list ends on the last packet with the counts of the whole file;
// Go to packet then asks for the rows of the middle with GET rows.
func TestBrowserPushIndexing(t *testing.T) {
	ctx := newBrowser(t)
	_, ts := newTestServer(t, Config{})
	watchPushes(t, ctx)
	// A gzip file of many small packets indexes for a few seconds.
	const n = 200_000
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if err := samplegen.WriteSynthetic(zw, pcapio.FormatPcap, n); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	info := upload(t, ts, "growing.pcap.gz", gz.Bytes())
	do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+info.ID))
	waitJS(t, ctx, "rows", `document.querySelectorAll('#list-rows .row:not(.loading)').length > 5`)
	if !evalJS[bool](t, ctx, `document.getElementById('status-count').textContent.endsWith('(indexing…)')`) {
		t.Skip("the file was indexed before the page showed it: the machine is too busy for this race; run it again")
	}
	do1(t, ctx, chromedp.Focus(chromedp.ID("list-scroll")), chromedp.SendKeys(chromedp.ID("list-scroll"), kb.End))
	restBefore := evalJS[int](t, ctx, `window.__restRows`)
	// Indexed with every row shown at the end; on a busy machine the
	// file may take longer than waitJS waits.
	final := fmt.Sprintf(`document.getElementById('status-count').textContent === 'Displayed %s of %[1]s' &&
		document.querySelector('#list-rows .row[data-no="%d"]') !== null`, fmtThousands(n), n)
	for deadline := time.Now().Add(75 * time.Second); !evalJS[bool](t, ctx, final); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			waitJS(t, ctx, "indexed, the last row in view", final)
		}
	}
	pushes, rest := evalJS[int](t, ctx, `window.__pushAt.length`), evalJS[int](t, ctx, `window.__restRows`)-restBefore
	t.Logf("followed while indexing: %d pushes with rows, %d GET rows", pushes, rest)
	if pushes < 2 && rest <= 2 {
		// One push (or none) brought the end: the index pass was done, or
		// nearly, before the page followed it.
		t.Skip("the file was indexed before the page followed it: the machine is too busy for this race; run it again")
	}
	if pushes < 2 || rest > 2 {
		t.Errorf("%d pushes with rows and %d GET rows while following the file's end: want its rows pushed", pushes, rest)
	}
	// Random access is REST's: a packet in the middle, never shown.
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("goto-input"), "100000"+kb.Enter))
	waitJS(t, ctx, "packet 100,000 selected", `document.querySelector('#list-rows .row.selected[data-no="100000"]') !== null`)
	if got := evalJS[int](t, ctx, `window.__restRows`) - restBefore; got <= rest {
		t.Errorf("no GET rows for the middle of the list (%d before, %d after)", rest, got)
	}
}
