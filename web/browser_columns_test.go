package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/pkttap/pkttap/internal/testenv"
)

// shownNos is a JavaScript expression giving the packet numbers of the
// rows drawn, top to bottom, once none is loading ([] while some is).
const shownNos = `(() => { const rows = Array.from(document.querySelectorAll('#list-rows .row'));
	if (rows.some((r) => r.classList.contains('loading'))) return [];
	return rows.map((r) => +r.dataset.no); })()`

// headerKeys is a JavaScript expression giving the header's columns, in order.
const headerKeys = `Array.from(document.querySelectorAll('.list-header [role=columnheader]'), (c) => c.dataset.col)`

// rowKeys is a JavaScript expression giving the first row's cells' columns, in order.
const rowKeys = `Array.from(document.querySelectorAll('#list-rows .row[data-pos="0"] > span'), (c) => c.dataset.col)`

// serverOrder returns the packet numbers of the first n rows in the
// order the server sorts them by col.
func serverOrder(t *testing.T, ts *httptest.Server, id, col, order string, n int) []int {
	t.Helper()
	var nos []int
	for len(nos) < n {
		var r RowsResponse
		do(t, "GET", fmt.Sprintf("%s/api/captures/%s/rows?start=%d&count=%d&sort=%s&order=%s", ts.URL, id, len(nos), min(n-len(nos), maxRows), col, order), nil, &r)
		if len(r.Rows) == 0 {
			break
		}
		for _, row := range r.Rows {
			nos = append(nos, row.No)
		}
	}
	return nos
}

// waitOrder waits until the rows drawn are the first of want.
func waitOrder(t *testing.T, ctx context.Context, what string, want func(n int) []int) {
	t.Helper()
	n := evalJS[int](t, ctx, `document.querySelectorAll('#list-rows .row').length`)
	w := want(n)
	js, _ := json.Marshal(w)
	waitJS(t, ctx, what, fmt.Sprintf(`JSON.stringify(%s.slice(0, %d)) === %q`, shownNos, len(w), js))
}

// clickHeader clicks column key's header title.
func clickHeader(t *testing.T, ctx context.Context, key string) {
	t.Helper()
	do1(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`.list-header [data-col=%q] .col-title`, key))))
}

// TestBrowserSortColumns (issue 19, Columns: sort): a click on the Length
// header shows the rows in the server's ascending order by length, a
// second click descending, a third the capture order; the selected packet
// stays selected and in view, Go to packet finds packets in the sorted
// list, and the sort is kept over a reload.
func TestBrowserSortColumns(t *testing.T) {
	ctx, ts, id := openInBrowser(t, 3000)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-pos="3"]`)))
	waitJS(t, ctx, "packet 4 selected", `document.querySelector('#list-rows .row.selected') && document.querySelector('#list-rows .row.selected').dataset.no === '4'`)

	clickHeader(t, ctx, "len")
	waitJS(t, ctx, "ascending arrow", `document.querySelector('.list-header [data-col=len]').getAttribute('aria-sort') === 'ascending'`)
	// The selected packet stays selected, in its new place.
	waitJS(t, ctx, "packet 4 still selected", `(() => { const r = document.querySelector('#list-rows .row.selected'); return r && r.dataset.no === '4' && +r.dataset.pos > 3; })()`)
	do1(t, ctx, chromedp.KeyEvent(kb.Home))
	waitOrder(t, ctx, "ascending by length", func(n int) []int { return serverOrder(t, ts, id, "len", "asc", n) })
	lens := evalJS[[]int](t, ctx, `Array.from(document.querySelectorAll('#list-rows .row .c-len'), (c) => +c.textContent)`)
	for k := 1; k < len(lens); k++ {
		if lens[k] < lens[k-1] {
			t.Fatalf("ascending by length, row %d is %d bytes after %d", k, lens[k], lens[k-1])
		}
	}

	clickHeader(t, ctx, "len")
	waitJS(t, ctx, "descending arrow", `document.querySelector('.list-header [data-col=len]').getAttribute('aria-sort') === 'descending'`)
	// Packet 10 (ARP, the shortest), first ascending, is now near the end.
	waitJS(t, ctx, "packet 10 still selected", `(() => { const r = document.querySelector('#list-rows .row.selected'); return r && r.dataset.no === '10' && +r.dataset.pos > 2000; })()`)
	do1(t, ctx, chromedp.KeyEvent(kb.Home))
	waitOrder(t, ctx, "descending by length", func(n int) []int { return serverOrder(t, ts, id, "len", "desc", n) })
	lens = evalJS[[]int](t, ctx, `Array.from(document.querySelectorAll('#list-rows .row .c-len'), (c) => +c.textContent)`)
	for k := 1; k < len(lens); k++ {
		if lens[k] > lens[k-1] {
			t.Fatalf("descending by length, row %d is %d bytes after %d", k, lens[k], lens[k-1])
		}
	}
	// Go to packet: packet 1500 is selected where the sort put it.
	want := -1
	for k, no := range serverOrder(t, ts, id, "len", "desc", 3000) {
		if no == 1500 {
			want = k
		}
	}
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("goto-input"), "1500\n"))
	waitJS(t, ctx, "packet 1500 selected", fmt.Sprintf(`(() => { const r = document.querySelector('#list-rows .row.selected'); return r && r.dataset.no === '1500' && r.dataset.pos === '%d'; })()`, want))

	// Kept over a reload.
	do1(t, ctx, chromedp.Reload())
	waitJS(t, ctx, "descending after a reload", `document.querySelector('.list-header [data-col=len]').getAttribute('aria-sort') === 'descending'`)
	waitJS(t, ctx, "packet 1500 selected after a reload", fmt.Sprintf(`(() => { const r = document.querySelector('#list-rows .row.selected'); return r && r.dataset.no === '1500' && r.dataset.pos === '%d' && document.activeElement.id === 'list-scroll'; })()`, want))
	do1(t, ctx, chromedp.KeyEvent(kb.Home))
	waitOrder(t, ctx, "descending by length after a reload", func(n int) []int { return serverOrder(t, ts, id, "len", "desc", n) })

	clickHeader(t, ctx, "len")
	waitJS(t, ctx, "no arrow", `document.querySelector('.list-header [data-col=len]').getAttribute('aria-sort') === 'none'`)
	// Home only once the list is in capture order (the selected packet,
	// the first of the descending order, back at its own position):
	// pressed before, Home selects the first packet of the old order (CI
	// once saw the list left at that packet).
	waitJS(t, ctx, "selection in capture order", `(() => { const r = document.querySelector('#list-rows .row.selected'); return r && +r.dataset.pos === +r.dataset.no - 1; })()`)
	do1(t, ctx, chromedp.Focus(chromedp.ID("list-scroll")), chromedp.KeyEvent(kb.Home))
	waitOrder(t, ctx, "capture order", func(n int) []int {
		var nos []int
		for k := 1; k <= n; k++ {
			nos = append(nos, k)
		}
		return nos
	})

	// By Source from the header's menu, descending.
	src := evalJS[[]float64](t, ctx, `(() => { const r = document.querySelector('.list-header [data-col=src]').getBoundingClientRect(); return [r.left + 20, r.top + 8]; })()`)
	do1(t, ctx, chromedp.MouseClickXY(src[0], src[1], chromedp.ButtonRight))
	waitJS(t, ctx, "column menu", `!document.getElementById('col-menu').hidden`)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#col-menu a[data-action="sort-desc"]`)))
	waitJS(t, ctx, "packet 1 still selected", `(() => { const r = document.querySelector('#list-rows .row.selected'); return r && r.dataset.no === '1' && +r.dataset.pos > 0; })()`)
	do1(t, ctx, chromedp.Focus(chromedp.ID("list-scroll")), chromedp.KeyEvent(kb.Home))
	waitOrder(t, ctx, "descending by source", func(n int) []int { return serverOrder(t, ts, id, "src", "desc", n) })
	screenshot(t, ctx, "sorted-by-source")
}

// dragHeader drags column key's header by dx pixels.
func dragHeader(t *testing.T, ctx context.Context, key string, dx float64) {
	t.Helper()
	p := evalJS[[]float64](t, ctx, fmt.Sprintf(`(() => { const r = document.querySelector('.list-header [data-col=%q]').getBoundingClientRect(); return [r.left + 15, r.top + r.height / 2]; })()`, key))
	do1(t, ctx,
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, p[0], p[1], chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, p[0]+dx/2, p[1], chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, p[0]+dx, p[1], chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, p[0]+dx, p[1], chromedp.ButtonLeft),
	)
}

// TestBrowserColumnLayout (issue 19, Columns: reorder, hide/show, add):
// dragging the Protocol header left of Source moves the column in the
// header and the rows (without sorting); hiding Length from the header's
// menu removes it; both are kept over a reload; "Apply as Column" on the
// tree's TTL adds a column of it with the server's values, and the column
// editor refuses a name that is no field and adds one that is.
func TestBrowserColumnLayout(t *testing.T) {
	ctx, _, _ := openInBrowser(t, 200)
	srcX := evalJS[float64](t, ctx, `document.querySelector('.list-header [data-col=src]').getBoundingClientRect().left`)
	protoX := evalJS[float64](t, ctx, `document.querySelector('.list-header [data-col=proto]').getBoundingClientRect().left`)
	dragHeader(t, ctx, "proto", srcX-protoX)
	const moved = `["no","time","proto","src","dst","len","info"]`
	waitJS(t, ctx, "Protocol moved", fmt.Sprintf(`JSON.stringify(%s) === %q && JSON.stringify(%s) === %q`, headerKeys, moved, rowKeys, moved))
	if s := evalJS[string](t, ctx, `document.querySelector('.list-header [data-col=proto]').getAttribute('aria-sort')`); s != "none" {
		t.Errorf("dragging a header sorted by it: aria-sort %q", s)
	}
	if p := evalJS[string](t, ctx, `document.querySelector('#list-rows .row[data-pos="0"] .c-proto').textContent`); p != "TCP" {
		t.Errorf("moved Protocol cell of row 1 reads %q", p)
	}

	// Hide Length.
	len0 := evalJS[[]float64](t, ctx, `(() => { const r = document.querySelector('.list-header [data-col=len]').getBoundingClientRect(); return [r.left + 10, r.top + 8]; })()`)
	do1(t, ctx, chromedp.MouseClickXY(len0[0], len0[1], chromedp.ButtonRight))
	waitJS(t, ctx, "column menu", `!document.getElementById('col-menu').hidden`)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#col-menu a[data-action="toggle:len"]`)))
	const hidden = `["no","time","proto","src","dst","info"]`
	waitJS(t, ctx, "Length hidden", fmt.Sprintf(`JSON.stringify(%s) === %q && JSON.stringify(%s) === %q`, headerKeys, hidden, rowKeys, hidden))
	screenshot(t, ctx, "columns-moved-hidden")

	do1(t, ctx, chromedp.Reload())
	waitJS(t, ctx, "layout kept over a reload", fmt.Sprintf(`JSON.stringify(%s) === %q && JSON.stringify(%s) === %q`, headerKeys, hidden, rowKeys, hidden))

	// Apply as Column: TTL of packet 1.
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-pos="0"]`)))
	waitJS(t, ctx, "tree", `document.querySelector('#tree .node[data-field="ip"]') !== null`)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#tree .node[data-field="ip"] .label`)), chromedp.KeyEvent(kb.ArrowRight))
	waitJS(t, ctx, "ip.ttl shown", `document.querySelector('#tree .node[data-field="ip.ttl"]') !== null && document.querySelector('#tree .node[data-field="ip.ttl"]').offsetParent !== null`)
	ttl := evalJS[[]float64](t, ctx, `(() => { const l = document.querySelector('#tree .node[data-field="ip.ttl"] .label'); l.scrollIntoView({block: 'nearest'}); const r = l.getBoundingClientRect(); return [r.left + 10, r.top + 5]; })()`)
	do1(t, ctx, chromedp.MouseClickXY(ttl[0], ttl[1], chromedp.ButtonRight))
	waitJS(t, ctx, "context menu", `!document.getElementById('ctx-menu').hidden`)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#ctx-menu a[data-action="apply-column"]`)))
	waitJS(t, ctx, "TTL column", `document.querySelector('.list-header [data-col="f:ip.ttl"]') !== null`)
	// Synthetic packets: TTL 64, none for ARP (every tenth, 10, 20, ...).
	waitJS(t, ctx, "TTL values", `(() => { const rows = Array.from(document.querySelectorAll('#list-rows .row:not(.loading)'));
		return rows.length > 10 && rows.every((r) => r.querySelector('[data-col="f:ip.ttl"]').textContent === (r.dataset.no % 10 === 0 ? '' : '64')); })()`)

	// The column editor: a wrong name, then udp.dstport.
	do1(t, ctx, chromedp.MouseClickXY(len0[0], len0[1], chromedp.ButtonRight))
	waitJS(t, ctx, "column menu", `!document.getElementById('col-menu').hidden`)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#col-menu a[data-action="add"]`)))
	waitJS(t, ctx, "column dialog", `document.getElementById('column-dialog').open`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("column-field"), "udp.nonesuch"), chromedp.Click(chromedp.ID("column-add")))
	waitJS(t, ctx, "refused", `!document.getElementById('column-error').hidden && document.getElementById('column-error').textContent.includes('udp.nonesuch') && document.getElementById('column-dialog').open`)
	do1(t, ctx, chromedp.SetValue(chromedp.ID("column-field"), "udp.dstport"), chromedp.Click(chromedp.ID("column-add")))
	waitJS(t, ctx, "udp.dstport column", `!document.getElementById('column-dialog').open && document.querySelector('.list-header [data-col="f:udp.dstport"]') !== null`)
	waitJS(t, ctx, "DNS port", `(() => { const r = document.querySelector('#list-rows .row[data-no="8"]'); return r && r.querySelector('[data-col="f:udp.dstport"]').textContent === '53'; })()`)
	screenshot(t, ctx, "custom-columns")

	// Sorting by a custom column: TTL descending puts the ARP packets last.
	clickHeader(t, ctx, "f:ip.ttl")
	clickHeader(t, ctx, "f:ip.ttl")
	waitJS(t, ctx, "sorted by TTL", `document.querySelector('.list-header [data-col="f:ip.ttl"]').getAttribute('aria-sort') === 'descending'`)
	do1(t, ctx, chromedp.Focus(chromedp.ID("list-scroll")), chromedp.KeyEvent(kb.Home))
	waitJS(t, ctx, "TTL 64 first, in packet order", `JSON.stringify(`+shownNos+`.slice(0, 3)) === '[1,2,3]'`)
	do1(t, ctx, chromedp.KeyEvent(kb.End))
	waitJS(t, ctx, "ARP last", `(() => { const r = document.querySelector('#list-rows .row.selected'); return r && r.dataset.no === '200'; })()`)
}

// TestBrowserTimeReference (issue 19, Set Time Reference): Ctrl+T on a
// packet makes it a reference shown *REF*; relative times after it are
// measured from it, those before from the first packet; a second one
// (from the Edit menu) starts again; both are kept over a reload; Ctrl+T
// again unsets one.
func TestBrowserTimeReference(t *testing.T) {
	ctx, _, _ := openInBrowser(t, 60)
	timeOf := func(no int) string {
		return fmt.Sprintf(`(() => { const r = document.querySelector('#list-rows .row[data-no="%d"]'); return r ? r.querySelector('.c-time').textContent : ''; })()`, no)
	}
	expect := func(what string, want map[int]string) {
		t.Helper()
		for no, w := range want {
			waitJS(t, ctx, what+": packet "+strconv.Itoa(no), timeOf(no)+" === "+strconv.Quote(w))
		}
	}
	// Synthetic packets are 100 µs apart.
	expect("no reference", map[int]string{2: "0.000100", 5: "0.000400", 8: "0.000700"})
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-no="3"]`)))
	waitJS(t, ctx, "packet 3", `document.querySelector('#list-rows .row.selected').dataset.no === '3'`)
	do1(t, ctx, chromedp.KeyEvent("t", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	expect("reference at 3", map[int]string{2: "0.000100", 3: "*REF*", 5: "0.000200", 8: "0.000500"})

	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-no="6"]`)))
	waitJS(t, ctx, "packet 6", `document.querySelector('#list-rows .row.selected').dataset.no === '6'`)
	do1(t, ctx, chromedp.Click(chromedp.ID("edit-button")), chromedp.Click(chromedp.CSS(`#edit-menu a[data-action="time-ref"]`)))
	expect("references at 3 and 6", map[int]string{5: "0.000200", 6: "*REF*", 8: "0.000200"})
	screenshot(t, ctx, "time-references")

	// Other formats show *REF* too, and nothing else changes.
	evalJS[bool](t, ctx, `(() => { const m = document.getElementById('time-mode'); m.value = 'delta'; return m.dispatchEvent(new Event('change')); })()`)
	expect("delta", map[int]string{6: "*REF*", 8: "0.000100"})
	evalJS[bool](t, ctx, `(() => { const m = document.getElementById('time-mode'); m.value = 'relative'; return m.dispatchEvent(new Event('change')); })()`)

	do1(t, ctx, chromedp.Reload())
	expect("after a reload", map[int]string{3: "*REF*", 5: "0.000200", 6: "*REF*", 8: "0.000200"})

	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-no="3"]`)))
	waitJS(t, ctx, "packet 3", `document.querySelector('#list-rows .row.selected').dataset.no === '3'`)
	do1(t, ctx, chromedp.KeyEvent("t", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	expect("reference at 6 only", map[int]string{3: "0.000200", 5: "0.000400", 8: "0.000200"})
}

// TestBrowserNameResolution (issue 19, Name resolution): off by default;
// turned on in the preferences dialog, the Destination column of the
// ARP requests and the Ethernet tree lines name the broadcast address as
// tshark -N m does, and ports read as tshark -N t writes them ("https
// (443)" in the tree, "https(443)" in Info); the choice is kept over a
// reload and turned off again.
func TestBrowserNameResolution(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	ctx, ts, id := openInBrowser(t, 30)
	cell := func(no int, col string) string {
		return fmt.Sprintf(`(() => { const r = document.querySelector('#list-rows .row[data-no="%d"]:not(.loading)'); return r ? r.querySelector('.c-%s').textContent : ''; })()`, no, col)
	}
	// tshark's columns of the same capture, with and without names.
	file := filepath.Join(t.TempDir(), "ui.pcapng")
	res, err := http.Get(ts.URL + "/api/captures/" + id + "/download?format=pcapng")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tsharkCols := func(flag ...string) []string {
		out, err := exec.Command(tshark, append(append([]string{"-r", file}, flag...), "-T", "fields", "-e", "_ws.col.Destination")...).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	plain, named := tsharkCols("-n"), tsharkCols("-N", "mt")
	dst := func(lines []string, no int) string { return lines[no-1] }
	if dst(named, 10) != "Broadcast" {
		t.Fatalf("tshark -N mt names packet 10's destination %q", dst(named, 10))
	}
	waitJS(t, ctx, "off by default", cell(10, "dst")+" === "+strconv.Quote(dst(plain, 10)))

	do1(t, ctx, chromedp.Click(chromedp.ID("prefs-button")))
	waitJS(t, ctx, "preferences", `document.getElementById('prefs-dialog').open && !document.getElementById('pref-names-mac').checked && !document.getElementById('pref-names-ports').checked`)
	do1(t, ctx, chromedp.Click(chromedp.ID("pref-names-mac")), chromedp.Click(chromedp.ID("pref-names-ports")), chromedp.Click(chromedp.ID("prefs-close")))
	waitJS(t, ctx, "Broadcast", cell(10, "dst")+" === "+strconv.Quote(dst(named, 10)))
	waitJS(t, ctx, "https(443)", cell(1, "info")+".includes('→ https(443)')")
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-no="10"]`)))
	waitJS(t, ctx, "tree of packet 10", `[...document.querySelectorAll('#tree .node[data-field="eth.dst"] .label')].some((l) => l.textContent === 'Destination: Broadcast (ff:ff:ff:ff:ff:ff)')`)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-no="1"]`)))
	waitJS(t, ctx, "tree of packet 1", `[...document.querySelectorAll('#tree .node[data-field="tcp.dstport"] .label')].some((l) => l.textContent === 'Destination Port: https (443)')`)
	screenshot(t, ctx, "name-resolution")

	do1(t, ctx, chromedp.Reload())
	waitJS(t, ctx, "kept over a reload", cell(10, "dst")+" === 'Broadcast'")
	do1(t, ctx, chromedp.Click(chromedp.ID("prefs-button")))
	waitJS(t, ctx, "preferences", `document.getElementById('prefs-dialog').open && document.getElementById('pref-names-mac').checked`)
	do1(t, ctx, chromedp.Click(chromedp.ID("prefs-reset")), chromedp.Click(chromedp.ID("prefs-close")))
	waitJS(t, ctx, "off again", cell(10, "dst")+" === "+strconv.Quote(dst(plain, 10))+" && !"+cell(1, "info")+".includes('https')")
}
