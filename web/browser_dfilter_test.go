package web

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/pkttap/pkttap/internal/testenv"
)

// TestBrowserDisplayFilter (issue 14, pkttap-web): on the shared
// display-filter capture, the filter bar takes both languages, a badge
// saying which it understood, green as a display filter is typed, red
// with the fault's bytes underlined; applied, it displays as many packets
// as tshark does; completion lists fields with their type and description
// and picks one with the keys; Apply as Filter on a tree field (context
// menu) filters by its value and Prepare as Filter …and not Selected (by
// keys) joins another to it without applying; the displayed packets
// download as exactly those tshark displays.
func TestBrowserDisplayFilter(t *testing.T) {
	ctx := newBrowser(t)
	tshark := testenv.LookPath(t, "tshark", "tshark")
	orig := filepath.Join(testenv.SharedDir(t), "dfilters", "capture.pcapng")
	data, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	_, ts := newTestServer(t, Config{})
	info := waitIndexed(t, ts, upload(t, ts, "dfilters.pcapng", data).ID)
	total := fmtThousands(int(info.Packets))
	dlDir := t.TempDir()
	do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+info.ID))
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dlDir,
	}); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "rows", fmt.Sprintf(`document.getElementById('status-count').textContent === 'Displayed %s of %s' &&
		document.querySelectorAll('#list-rows .row:not(.loading)').length > 5`, total, total))
	typeFilter := func(expr string) {
		t.Helper()
		evalJS[bool](t, ctx, `(document.getElementById('filter-input').value = '', document.getElementById('filter-input').focus(), true)`)
		do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), expr))
	}
	const badge = `document.getElementById('filter-lang')`
	shows := func(expr string) {
		t.Helper()
		want := tsharkCount(t, tshark, orig, expr)
		waitJS(t, ctx, "displayed as tshark: "+expr, fmt.Sprintf(`document.getElementById('status-count').textContent === 'Displayed %s of %s'`, fmtThousands(want), total))
	}

	// A display filter: badge, green, applied by Enter; the count is
	// tshark's.
	expr := "tcp.port == 443 || icmp.type in {3, 11}"
	typeFilter(expr)
	waitJS(t, ctx, "display filter, green", badge+`.dataset.lang === 'display' && !`+badge+`.hidden && `+badge+`.textContent === 'display filter' &&
		document.getElementById('filter-input').classList.contains('valid') && document.getElementById('filter-msg').textContent === '✓ display filter · reads tcp.port, icmp.type'`)
	screenshot(t, ctx, "display-filter-valid")
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), kb.Enter))
	shows(expr)
	if q := evalJS[string](t, ctx, `location.search`); !strings.Contains(q, "filter=tcp.port") {
		t.Errorf("filter not in the URL: %s", q)
	}

	// A bad one: red, its language's badge, the value at fault underlined.
	typeFilter("tcp.port == 443 && ip.src == 1.2.3")
	waitJS(t, ctx, "red, underlined", badge+`.dataset.lang === 'display' && `+badge+`.dataset.valid === 'false' &&
		document.getElementById('filter-input').classList.contains('invalid') &&
		document.getElementById('filter-msg').textContent.startsWith('✗ column 30: ') &&
		document.getElementById('filter-fault') !== null && document.getElementById('filter-fault').textContent === '1.2.3'`)
	screenshot(t, ctx, "display-filter-invalid")
	// The underline sits under the bytes at fault: the mirror's text lines
	// up with the field's.
	if d := evalJS[float64](t, ctx, `(() => {
		const f = document.getElementById('filter-fault').getBoundingClientRect();
		const c = document.createElement('canvas').getContext('2d');
		const i = document.getElementById('filter-input');
		const cs = getComputedStyle(i);
		c.font = cs.font;
		const x = i.getBoundingClientRect().left + parseFloat(cs.borderLeftWidth) + parseFloat(cs.paddingLeft) + c.measureText(i.value.slice(0, 29)).width - i.scrollLeft;
		return Math.abs(f.left - x);
	})()`); d > 2 {
		t.Errorf("the underline is %.1f px off the fault's bytes", d)
	}
	// A tcpdump expression: the BPF badge.
	typeFilter("tcp port 443")
	waitJS(t, ctx, "BPF, green", badge+`.dataset.lang === 'bpf' && `+badge+`.textContent === 'BPF' &&
		document.getElementById('filter-input').classList.contains('valid') && document.getElementById('filter-fault') === null`)

	// Completion: "tcp.fl" lists tcp.flags and its bits with types and
	// descriptions; ↓ and Enter pick tcp.flags, Tab the first of "ip.sr".
	typeFilter("tcp.fl")
	waitJS(t, ctx, "completion", `(() => {
		const l = document.getElementById('filter-suggest');
		const items = Array.from(l.querySelectorAll('li'));
		return !l.hidden && items.length > 3 && items[0].dataset.name === 'tcp.flags' && items.every((li) => li.dataset.name.startsWith('tcp.fl')) &&
			items.some((li) => li.dataset.name === 'tcp.flags.syn' && li.querySelector('.s-type').textContent === 'Boolean' && li.querySelector('.s-desc').textContent !== '');
	})()`)
	screenshot(t, ctx, "display-filter-completion")
	do1(t, ctx, chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.Enter))
	waitJS(t, ctx, "tcp.flags picked", `document.getElementById('filter-input').value === 'tcp.flags' && document.getElementById('filter-suggest').hidden`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), " && ip.sr"))
	waitJS(t, ctx, "completion of ip.sr", `!document.getElementById('filter-suggest').hidden && document.querySelector('#filter-suggest li').dataset.name === 'ip.src'`)
	do1(t, ctx, chromedp.KeyEvent(kb.Tab))
	waitJS(t, ctx, "ip.src picked", `document.getElementById('filter-input').value === 'tcp.flags && ip.src' &&
		document.activeElement.id === 'filter-input' && document.getElementById('filter-input').classList.contains('valid')`)
	do1(t, ctx, chromedp.KeyEvent(kb.Escape))
	waitJS(t, ctx, "Escape: back to the applied filter", fmt.Sprintf(`document.getElementById('filter-input').value === %q`, expr))

	// Apply as Filter from the tree's context menu, on the TCP source port
	// of the first packet to port 443 with a payload (Go to packet).
	out, err := exec.Command(tshark, "-n", "-r", orig, "-Y", "tcp.dstport == 443 && tcp.len > 0", "-T", "fields", "-e", "frame.number").Output()
	first443, _, _ := strings.Cut(string(out), "\n")
	if err != nil || first443 == "" {
		t.Fatalf("tshark: the first packet of port 443: %q, %v", out, err)
	}
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("goto-input"), first443+"\n"))
	waitJS(t, ctx, "tcp.srcport in the tree", fmt.Sprintf(`(document.querySelector('#list-rows .row.selected') || {dataset: {}}).dataset.no === %q &&
		document.querySelector('#tree .node[data-field="tcp.srcport"]') !== null`, first443))
	port := evalJS[[]float64](t, ctx, `(() => {
		const n = document.querySelector('#tree .node[data-field="tcp.srcport"]');
		const li = n.parentElement.closest('li[aria-expanded]');
		if (li && li.getAttribute('aria-expanded') === 'false') li.firstChild.querySelector('.twisty').click();
		n.scrollIntoView({block: 'nearest'});
		const r = n.querySelector('.label').getBoundingClientRect();
		return [r.left + 10, r.top + 5];
	})()`)
	do1(t, ctx, chromedp.MouseClickXY(port[0], port[1], chromedp.ButtonRight))
	waitJS(t, ctx, "context menu", `!document.getElementById('ctx-menu').hidden`)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#ctx-menu a[data-action="apply"]`)))
	waitJS(t, ctx, "Apply as Filter submenu", `!document.getElementById('ctx-submenu').hidden && document.querySelectorAll('#ctx-submenu a').length === 6`)
	screenshot(t, ctx, "apply-as-filter-menu")
	srcFilter := evalJS[string](t, ctx, `document.querySelector('#tree .node[data-field="tcp.srcport"]').dataset.filter`)
	if _, err := strconv.Atoi(strings.TrimPrefix(srcFilter, "tcp.srcport == ")); err != nil {
		t.Fatalf("tcp.srcport's filter %q", srcFilter)
	}
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#ctx-submenu a[data-action="apply-selected"]`)))
	waitJS(t, ctx, "applied", fmt.Sprintf(`document.getElementById('filter-input').value === %q && document.getElementById('ctx-menu').hidden && document.getElementById('ctx-submenu').hidden`, srcFilter))
	shows(srcFilter)

	// Prepare as Filter › …and not Selected from the keyboard, on tcp.len:
	// joined to the filter in the bar, checked, not applied.
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-pos="0"]`)))
	waitJS(t, ctx, "tcp.len in the tree", `document.querySelector('#list-rows .row.selected') !== null && document.querySelector('#tree .node[data-field="tcp.len"]') !== null`)
	evalJS[bool](t, ctx, `(document.querySelector('#tree .node[data-field="tcp.len"] .label').click(), true)`)
	lenFilter := evalJS[string](t, ctx, `document.querySelector('#tree .node[data-field="tcp.len"]').dataset.filter`)
	do1(t, ctx, chromedp.KeyEvent(kb.F10, chromedp.KeyModifiers(chromedp.ModifierShift)))
	waitJS(t, ctx, "context menu by Shift+F10", `document.activeElement.dataset.action === 'apply'`)
	do1(t, ctx, chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowRight))
	waitJS(t, ctx, "Prepare submenu", `document.activeElement.dataset.action === 'prepare-selected'`)
	do1(t, ctx, chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown))
	waitJS(t, ctx, "…and not Selected", `document.activeElement.dataset.action === 'prepare-and-not'`)
	do1(t, ctx, chromedp.KeyEvent(kb.Enter))
	prepared := "(" + srcFilter + ") && !(" + lenFilter + ")"
	waitJS(t, ctx, "prepared, green, not applied", fmt.Sprintf(`document.getElementById('filter-input').value === %q && document.activeElement.id === 'filter-input' &&
		document.getElementById('filter-input').classList.contains('valid') && document.getElementById('filter-form').classList.contains('not-applied')`, prepared))
	do1(t, ctx, chromedp.KeyEvent(kb.Enter))
	shows(prepared)

	// History: ↑ in the bar brings back the filters applied, newest first.
	evalJS[bool](t, ctx, `(document.getElementById('filter-input').value = '', true)`)
	do1(t, ctx, chromedp.KeyEvent(kb.ArrowUp))
	waitJS(t, ctx, "history", fmt.Sprintf(`document.getElementById('filter-input').value === %q`, prepared))
	do1(t, ctx, chromedp.KeyEvent(kb.ArrowUp))
	waitJS(t, ctx, "history", fmt.Sprintf(`document.getElementById('filter-input').value === %q`, srcFilter))
	do1(t, ctx, chromedp.KeyEvent(kb.Escape))

	// Download the displayed packets: tshark displays every one of them
	// under the filter, as many as it displays of the original.
	want := tsharkCount(t, tshark, orig, prepared)
	do1(t, ctx, chromedp.Click(chromedp.ID("download-button")))
	waitJS(t, ctx, "download menu", `!document.getElementById('download-menu').hidden`)
	evalJS[bool](t, ctx, `(document.querySelector('#download-menu a[data-scope="displayed"][data-format="pcapng"]').click(), true)`)
	var file string
	for deadline := time.Now().Add(20 * time.Second); file == ""; time.Sleep(50 * time.Millisecond) {
		entries, _ := os.ReadDir(dlDir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".pcapng") {
				file = filepath.Join(dlDir, e.Name())
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no download arrived: %v", entries)
		}
	}
	if all, shown := tsharkCount(t, tshark, file, ""), tsharkCount(t, tshark, file, prepared); all != want || shown != want || want == 0 {
		t.Errorf("%s: %d packets, tshark displays %d; want %d, all displayed", filepath.Base(file), all, shown, want)
	}
}
