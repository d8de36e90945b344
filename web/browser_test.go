package web

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// newBrowser starts headless chromium with a fresh profile and returns a
// chromedp context for one tab.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := testenv.LookPath(t, "chromium", "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(browserProfileDir(t)),
		chromedp.WindowSize(1280, 720),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// browserProfileDir returns a fresh folder for a chromium profile, removed
// when the test ends. Chromium's helper processes can still be writing to
// it for a moment after the browser itself has exited, which makes
// t.TempDir's one-shot removal fail the test ("directory not empty"), so
// the removal is retried for a few seconds.
func browserProfileDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pkttap-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		for range 50 {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("remove chromium's profile: %v", err)
	})
	return dir
}

// waitJS polls a JavaScript boolean expression until it is true.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[location.href, document.getElementById('status-count').textContent, document.getElementById('status-sel').textContent,
				document.getElementById('filter-msg').textContent, document.getElementById('error-banner').textContent,
				(document.querySelector('#list-rows .row.selected') || {dataset: {}}).dataset.no, document.querySelectorAll('#hex .hb[data-i]').length].join(' | ')`))
			t.Fatalf("waiting for %s (%s): %v; page: %s", what, expr, err, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func do1(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// screenshot saves the page as PNG into PKTTAP_SCREENSHOT_DIR, when set, in
// the light and the dark theme.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("PKTTAP_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	for _, scheme := range []string{"light", "dark"} {
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+scheme+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// waitDownload waits (a bounded time) until the browser has saved file
// name, not empty, in dir, and returns its path.
func waitDownload(t *testing.T, dir, name string) string {
	t.Helper()
	file := filepath.Join(dir, name)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, err := os.Stat(file); err == nil && st.Size() > 0 {
			if _, err := os.Stat(file + ".crdownload"); err != nil {
				return file
			}
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(dir)
			t.Fatalf("download %s did not arrive: %v", file, entries)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowser drives the UI in headless chromium: upload through the file
// input, rows, selection, hex, tree-to-bytes and bytes-to-tree, filter
// validation (red, then green), apply, the count, and a download checked
// with tshark.
func TestBrowser(t *testing.T) {
	ctx := newBrowser(t)
	tshark := testenv.LookPath(t, "tshark", "tshark")
	_, ts := newTestServer(t, Config{})
	const n = 300
	dir := t.TempDir()
	capPath := filepath.Join(dir, "browser-test.pcapng")
	if err := os.WriteFile(capPath, synthetic(t, pcapio.FormatPcapNg, n), 0o600); err != nil {
		t.Fatal(err)
	}
	dlDir := t.TempDir()

	do1(t, ctx, chromedp.Navigate(ts.URL), chromedp.WaitVisible(chromedp.ID("list-empty")))
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dlDir,
	}); err != nil {
		t.Fatal(err)
	}

	// Upload through the file input; rows appear.
	do1(t, ctx, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{capPath}))
	waitJS(t, ctx, "all packets", `document.getElementById('status-count').textContent === 'Displayed 300 of 300'`)
	waitJS(t, ctx, "rows", `document.querySelectorAll('#list-rows .row:not(.loading)').length > 10`)
	if name := evalJS[string](t, ctx, `document.getElementById('cap-name').textContent`); name != "browser-test.pcapng" {
		t.Errorf("capture name %q", name)
	}
	// Only the visible window is in the DOM.
	if rows := evalJS[int](t, ctx, `document.querySelectorAll('#list-rows .row').length`); rows > 60 {
		t.Errorf("%d rows in the DOM for a window of about 20", rows)
	}

	// Select packet 2: its bytes appear in the hex pane.
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-pos="1"]`)))
	waitJS(t, ctx, "hex of packet 2", `document.querySelectorAll('#hex .hb[data-i]').length > 0 && document.querySelector('#list-rows .row.selected') !== null && document.querySelector('#list-rows .row.selected').dataset.no === '2'`)
	gotHex, _ := hexShown(t, ctx)
	if want := hex.EncodeToString(samplegen.SyntheticPacket(1, nil)); gotHex != want {
		t.Fatalf("hex pane shows\n%s\nwant\n%s", gotHex, want)
	}
	if !strings.Contains(evalJS[string](t, ctx, `location.search`), "p=2") {
		t.Errorf("selected packet not in the URL: %s", evalJS[string](t, ctx, `location.href`))
	}
	// The keyboard moves the selection.
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("list-scroll"), kb.ArrowDown))
	waitJS(t, ctx, "packet 3 selected by ArrowDown", `document.querySelector('#list-rows .row.selected').dataset.no === '3'`)
	waitJS(t, ctx, "hex of packet 3", fmt.Sprintf(`document.getElementById('hex').dataset.len === '%d'`, len(samplegen.SyntheticPacket(2, nil))))
	if gotHex, _ := hexShown(t, ctx); gotHex != hex.EncodeToString(samplegen.SyntheticPacket(2, nil)) {
		t.Errorf("hex pane of packet 3 shows %s", gotHex)
	}

	// Expand a protocol layer and click one of its fields: exactly the
	// field's bytes light up.
	evalJS[bool](t, ctx, `(() => {
		const el = Array.from(document.querySelectorAll('#tree .node')).find(e => e.offsetParent !== null && +e.dataset.off > 0 && +e.dataset.len > 0);
		el.querySelector('.twisty').id = 'picked-twisty';
		return true;
	})()`)
	do1(t, ctx, chromedp.Click(chromedp.ID("picked-twisty")))
	field := evalJS[[]int](t, ctx, `(() => {
		const el = Array.from(document.querySelectorAll('#tree li[aria-expanded="true"] > ul .node')).find(e => e.offsetParent !== null && +e.dataset.len > 0);
		el.id = 'picked-node';
		return [+el.dataset.off, +el.dataset.len];
	})()`)
	do1(t, ctx, chromedp.Click(chromedp.ID("picked-node")))
	waitJS(t, ctx, "highlight", `document.querySelectorAll('#hex .hb.hl').length > 0`)
	_, hl := hexShown(t, ctx)
	if len(hl) != field[1] || hl[0] != field[0] || hl[len(hl)-1] != field[0]+field[1]-1 {
		t.Errorf("field at %d+%d highlights bytes %v", field[0], field[1], hl)
	}
	// Clicking a byte selects the innermost field that holds it.
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#hex .hb[data-i="30"]`)))
	sel := evalJS[[]int](t, ctx, `(() => { const e = document.querySelector('#tree .node.selected'); return [+e.dataset.off, +e.dataset.len]; })()`)
	if sel[0] > 30 || sel[0]+sel[1] <= 30 {
		t.Errorf("byte 30 selected the field at %d+%d", sel[0], sel[1])
	}
	// The tree from the keyboard: ← goes to the parent layer, ← again
	// collapses it, → expands it, ↓ moves to its first field.
	do1(t, ctx, chromedp.Click(chromedp.ID("picked-node")))
	layer := evalJS[string](t, ctx, `document.getElementById('picked-node').parentElement.parentElement.closest('li').firstChild.dataset.key`)
	selKey := `(document.querySelector('#tree .node.selected') || {dataset: {}}).dataset.key`
	expanded := `document.querySelector('#tree .node.selected').parentElement.getAttribute('aria-expanded')`
	for _, step := range []struct{ key, want, expanded string }{
		{kb.ArrowLeft, layer, "true"},
		{kb.ArrowLeft, layer, "false"},
		{kb.ArrowRight, layer, "true"},
	} {
		do1(t, ctx, chromedp.SendKeys(chromedp.ID("tree"), step.key))
		waitJS(t, ctx, "tree key", fmt.Sprintf(`%s === %q && %s === %q`, selKey, step.want, expanded, step.expanded))
	}
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("tree"), kb.ArrowDown))
	waitJS(t, ctx, "first field after ↓", fmt.Sprintf(`%s.startsWith(%q + '/')`, selKey, layer))
	screenshot(t, ctx, "selected")

	// An invalid filter turns red with its column, a valid one green.
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), "tcp port"))
	waitJS(t, ctx, "red filter", `document.getElementById('filter-input').classList.contains('invalid') && /column \d+/.test(document.getElementById('filter-msg').textContent)`)
	screenshot(t, ctx, "invalid-filter")
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), " 443"))
	waitJS(t, ctx, "green filter", `document.getElementById('filter-input').classList.contains('valid')`)
	do1(t, ctx, chromedp.Click(chromedp.ID("apply-button")))
	waitJS(t, ctx, "filtered count", `document.getElementById('status-count').textContent === 'Displayed 150 of 300'`)
	waitJS(t, ctx, "filtered rows", `document.querySelector('#list-rows .row[data-pos="0"]') && document.querySelector('#list-rows .row[data-pos="0"]').dataset.no === '1' && document.querySelector('#list-rows .row[data-pos="5"]').dataset.no === '11'`)
	if q := evalJS[string](t, ctx, `location.search`); !strings.Contains(q, "filter=tcp+port+443") {
		t.Errorf("filter not in the URL: %s", q)
	}
	screenshot(t, ctx, "filtered")
	// Select a displayed packet (the sixth: packet 11): the URL now names the capture, the filter
	// and the packet.
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-pos="5"]`)))
	waitJS(t, ctx, "packet 11 in the URL", `location.search.includes("p=11")`)
	viewURL := evalJS[string](t, ctx, `location.href`)

	// Download the displayed packets as .pcap and read them with tshark.
	do1(t, ctx, chromedp.Click(chromedp.ID("download-button")))
	waitJS(t, ctx, "download menu", `!document.getElementById('download-menu').hidden`)
	// A click on a download link starts no navigation for chromedp to wait
	// for: click it from the page.
	evalJS[bool](t, ctx, `(document.querySelector('#download-menu a[data-scope="displayed"][data-format="pcap"]').click(), true)`)
	file := waitDownload(t, dlDir, "browser-test-tcp_port_443.pcap")
	out, err := exec.Command(tshark, "-r", file, "-T", "fields", "-e", "frame.number", "-e", "tcp.dstport").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(l, "Running as user") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 150 {
		t.Fatalf("tshark reads %d packets, want 150", len(lines))
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "\t443") {
			t.Fatalf("tshark line %q: not to port 443", l)
		}
	}

	// Keyboard navigation over a list scaled into fewer pixels than its
	// rows need (as for millions of rows): End, Home and PageDown keep the
	// selected row in view.
	do1(t, ctx, chromedp.Click(chromedp.ID("filter-input")))
	evalJS[bool](t, ctx, `(document.getElementById('filter-input').value = '', true)`)
	do1(t, ctx, chromedp.Click(chromedp.ID("apply-button")))
	waitJS(t, ctx, "unfiltered", `document.getElementById('status-count').textContent === 'Displayed 300 of 300'`)
	evalJS[bool](t, ctx, `(document.documentElement.dataset.maxSpacer = 2000, window.dispatchEvent(new Event('resize')), true)`)
	waitJS(t, ctx, "scaled spacer", `document.getElementById('list-spacer').offsetHeight === 2000`)
	visibleSelected := `(() => {
		const r = document.querySelector('#list-rows .row.selected');
		if (!r) return false;
		const box = r.getBoundingClientRect(), sc = document.getElementById('list-scroll').getBoundingClientRect();
		return box.top >= sc.top + 20 && box.bottom <= sc.bottom + 1 && r.dataset.no === '%d';
	})()`
	for _, step := range []struct {
		key  string
		want int
	}{{kb.End, 300}, {kb.Home, 1}, {kb.ArrowDown, 2}, {kb.End, 300}, {kb.ArrowUp, 299}} {
		do1(t, ctx, chromedp.Focus(chromedp.ID("list-scroll")), chromedp.SendKeys(chromedp.ID("list-scroll"), step.key))
		waitJS(t, ctx, fmt.Sprintf("packet %d selected and visible", step.want), fmt.Sprintf(visibleSelected, step.want))
	}
	vr := evalJS[int](t, ctx, `Math.floor((document.getElementById('list-scroll').clientHeight - 25) / 22)`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("list-scroll"), kb.Home), chromedp.SendKeys(chromedp.ID("list-scroll"), kb.PageDown))
	waitJS(t, ctx, "PageDown", fmt.Sprintf(visibleSelected, 1+vr))

	// Panes resize from the keyboard on their splitter (as by dragging).
	h0 := evalJS[int](t, ctx, `document.getElementById('list-pane').offsetHeight`)
	do1(t, ctx, chromedp.SendKeys(chromedp.CSS(`.splitter[data-above="list-pane"]`), kb.ArrowDown))
	waitJS(t, ctx, "list pane 20 px taller", fmt.Sprintf(`document.getElementById('list-pane').offsetHeight === %d`, h0+20))

	// The sample capture: a second capture in the menu, go to a truncated
	// packet, which the bytes pane says is truncated.
	do1(t, ctx, chromedp.Click(chromedp.ID("sample-button")))
	waitJS(t, ctx, "sample opened", fmt.Sprintf(`document.getElementById('cap-name').textContent === 'pkttap-sample.pcapng' && document.getElementById('status-count').textContent === 'Displayed %d of %d'`, samplegen.SamplePackets(), samplegen.SamplePackets()))
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("goto-input"), fmt.Sprintf("%d\n", samplegen.SamplePackets())))
	waitJS(t, ctx, "truncated note", `!document.getElementById('bytes-note').hidden && document.getElementById('bytes-note').textContent.startsWith('Truncated packet: 96 of')`)
	if items := evalJS[int](t, ctx, `document.querySelectorAll('#cap-menu a').length`); items != 2 {
		t.Errorf("captures menu lists %d captures, want 2", items)
	}
	screenshot(t, ctx, "sample-truncated")

	// A link reopens the same view: capture, filter, count and selection.
	do1(t, ctx, chromedp.Navigate(viewURL))
	waitJS(t, ctx, "view from the URL", `document.getElementById('status-count').textContent === 'Displayed 150 of 300' && document.getElementById('filter-input').value === 'tcp port 443' && document.querySelector('#list-rows .row.selected') !== null && document.querySelector('#list-rows .row.selected').dataset.no === "11" && document.querySelectorAll('#hex .hb[data-i]').length > 0`)
}

// TestBrowserFilterQueued: while the shown filter's job waits for a
// worker, the status bar says it is queued and where (not a bar stuck at
// 0 %), the page keeps asking for the job so it does not go idle, and the
// rows come once it runs.
func TestBrowserFilterQueued(t *testing.T) {
	ctx := newBrowser(t)
	s, ts0 := newTestServer(t, Config{})
	c := openCapture(t, s, ts0, 1000)
	s.pool.SetFilterWorkers(0)
	// The page is served through a handler that counts the requests that
	// ask for a filter job (POST .../filter, the page's keep-alive).
	var asked atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/filter") {
			asked.Add(1)
		}
		s.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+c.ID()+"?filter=udp"))
	waitJS(t, ctx, "queued filter", `!document.getElementById('filter-row').hidden &&
		document.getElementById('filter-text').textContent === 'Queued, next in line' &&
		!document.getElementById('filter-bar').hasAttribute('value') &&
		document.getElementById('status-count').textContent === 'Displayed 0 of 1,000 (filter queued…)'`)
	screenshot(t, ctx, "filter-queued")
	before := asked.Load()
	evalJS[bool](t, ctx, `(document.documentElement.dataset.keepFilterMs = 100, true)`)
	time.Sleep(time.Second)
	if asked.Load() == before {
		t.Error("the page did not ask for its queued filter")
	}
	s.pool.SetFilterWorkers(1)
	waitJS(t, ctx, "filtered rows", `document.getElementById('status-count').textContent === 'Displayed 100 of 1,000' &&
		document.getElementById('filter-row').hidden && document.querySelector('#list-rows .row[data-pos="0"]').dataset.no === '8'`)
}
