package web

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// bigPackets returns a capture of two Ethernet/IPv4/UDP packets: one of
// 65,549 bytes (the largest UDP datagram) and one of 256 KiB (the largest
// snap length), the same datagram followed by a trailer. Every byte of the
// payload and trailer differs from its neighbours, so a row shown at the
// wrong offset is seen.
func bigPackets(t *testing.T) (capture []byte, pkts [][]byte) {
	t.Helper()
	payload := make([]byte, 65535-20-8)
	for i := range payload {
		payload[i] = byte(i*7 + i>>8)
	}
	eth := func(body []byte) []byte {
		h := append(append(append([]byte{}, testpkt.MACB...), testpkt.MACA...), testpkt.EtherTypeIPv4>>8, testpkt.EtherTypeIPv4&0xff)
		return append(h, body...)
	}
	dgram := eth(testpkt.IPv4(testpkt.ProtoUDP, testpkt.IPv4A, testpkt.IPv4B, testpkt.UDP(40000, 9, payload)))
	big := append([]byte{}, dgram...)
	for i := len(big); i < pcapio.MaxSnaplen; i++ {
		big = append(big, byte(i*13+i>>8))
	}
	pkts = [][]byte{dgram, big}
	return pcapOf(t, pkts), pkts
}

// TestBrowserHexLarge: selecting a 256 KiB packet, and any field of it,
// keeps the page responsive (issue 19): the bytes pane holds only the rows
// in view, a selection takes well under the 50 ms goal, scrolling shows the
// right bytes with the right highlight, and hovering a byte still names its
// field.
func TestBrowserHexLarge(t *testing.T) {
	ctx := newBrowser(t)
	_, ts := newTestServer(t, Config{})
	data, pkts := bigPackets(t)
	info := upload(t, ts, "big.pcap", data)
	waitIndexed(t, ts, info.ID)

	do1(t, ctx, chromedp.EmulateViewport(1600, 1000), chromedp.Navigate(ts.URL+"/c/"+info.ID))
	waitJS(t, ctx, "rows", `document.querySelectorAll('#list-rows .row:not(.loading)').length === 2`)
	// Long tasks (over 50 ms) the page runs from here on.
	evalJS[bool](t, ctx, `(window.longTasks = [], new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longTasks.push(e.duration); }).observe({type: 'longtask'}), true)`)

	hexLen := `document.getElementById('hex').dataset.len`
	rowsInDOM := `document.querySelectorAll('#hex .hr').length`
	// The 64 KiB packet, the 256 KiB one, and both again. Each selection
	// fetches and dissects the packet and draws its tree and bytes; none
	// blocks the page long. Of a packet's two selections the quicker counts:
	// the slower may be the noise of a loaded machine.
	worst := map[int]float64{}
	for step, i := range []int{0, 1, 0, 1} {
		p := pkts[i]
		do1(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#list-rows .row[data-pos="%d"]`, i))))
		shown := `document.querySelectorAll('#hex .hb[data-i]').length > 0`
		if step > 0 {
			shown = fmt.Sprintf(`%s === '%d'`, hexLen, len(p))
		}
		waitJS(t, ctx, fmt.Sprintf("hex of packet %d", i+1), shown)
		if got := evalJS[string](t, ctx, hexLen); got != fmt.Sprint(len(p)) {
			t.Errorf("packet %d: the bytes pane shows %s bytes of %d", i+1, got, len(p))
		}
		// Let the browser paint and report the task.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise((r) => requestAnimationFrame(() => setTimeout(() => r(true), 100)))`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatal(err)
		}
		long := evalJS[[]float64](t, ctx, `window.longTasks.splice(0)`)
		t.Logf("packet %d (%d bytes): long tasks %v ms, %d hex rows in the DOM", i+1, len(p), long, evalJS[int](t, ctx, rowsInDOM))
		w := 0.0
		for _, ms := range long {
			w = max(w, ms)
		}
		if prev, ok := worst[i]; !ok || w < prev {
			worst[i] = w
		}
		if n := evalJS[int](t, ctx, rowsInDOM); n > 200 {
			t.Errorf("packet %d: %d hex rows in the DOM, want only those in view", i+1, n)
		}
	}
	for i, ms := range worst {
		if ms > 200 {
			t.Errorf("selecting packet %d (%d bytes) blocked the page %.0f ms", i+1, len(pkts[i]), ms)
		}
	}
	big := pkts[1]

	// Every field with bytes, the largest first, three times over: the
	// fastest of the three selections of each field (layout included) takes
	// well under the goal. The fastest is the field's own cost; a slower one
	// is the noise of a loaded machine.
	fields := evalJS[[][]int](t, ctx, `(() => {
		const nodes = Array.from(document.querySelectorAll('#tree .node')).filter((e) => +e.dataset.len > 0);
		nodes.sort((a, b) => +b.dataset.len - +a.dataset.len);
		const best = nodes.map(() => Infinity);
		for (let rep = 0; rep < 3; rep++) {
			nodes.forEach((e, k) => {
				const t0 = performance.now();
				e.click();
				document.getElementById('hex').getBoundingClientRect();
				best[k] = Math.min(best[k], performance.now() - t0);
			});
		}
		return nodes.map((e, k) => [+e.dataset.off, +e.dataset.len, Math.round(best[k] * 1000)]);
	})()`)
	if len(fields) < 5 {
		t.Fatalf("only %d fields with bytes in the tree: %v", len(fields), fields)
	}
	var times []int
	for _, f := range fields {
		times = append(times, f[2])
		if f[2] > 200_000 {
			t.Errorf("selecting the field at %d+%d took %.1f ms", f[0], f[1], float64(f[2])/1000)
		}
	}
	slices.Sort(times)
	t.Logf("selecting %d fields (best of 3): the packet (%d bytes) %.2f ms, median %.2f ms, slowest %.2f ms",
		len(fields), fields[0][1], float64(fields[0][2])/1000, float64(times[len(times)/2])/1000, float64(times[len(times)-1])/1000)
	if n := evalJS[int](t, ctx, rowsInDOM); n > 200 {
		t.Errorf("%d hex rows in the DOM after selecting fields", n)
	}

	// The rows in view show the right bytes, highlighted exactly when in
	// the selected field; checked at the field's start, its end and the
	// packet's last row, scrolling there.
	check := func(what string, pkt []byte, off, length int) {
		t.Helper()
		shown := evalJS[[][]int](t, ctx, `Array.from(document.querySelectorAll('#hex .hb[data-i], #hex .ab[data-i]')).map((e) => [+e.dataset.i, e.classList.contains('ab') ? 1 : 0, e.classList.contains('hl') ? 1 : 0, e.classList.contains('ab') ? e.textContent.charCodeAt(0) : parseInt(e.textContent, 16)])`)
		if len(shown) == 0 {
			t.Fatalf("%s: no bytes shown", what)
		}
		var seen [2]int
		bad := 0
		for _, s := range shown {
			i, ascii, hl, v := s[0], s[1], s[2] == 1, s[3]
			seen[ascii]++
			want := int(pkt[i])
			if ascii == 1 && (want < 0x20 || want >= 0x7f) {
				want = '.'
			}
			inField := i >= off && i < off+length
			if (v != want || hl != inField) && bad < 5 {
				bad++
				t.Errorf("%s: byte %d (ascii %d) shows %#x highlighted %v, want %#x highlighted %v", what, i, ascii, v, hl, want, inField)
			}
		}
		if seen[0] != seen[1] || seen[0] > 200*16 {
			t.Errorf("%s: %d hex and %d ASCII bytes in the DOM", what, seen[0], seen[1])
		}
	}
	inView := func(i int) string {
		return fmt.Sprintf(`(() => {
			const e = document.querySelector('#hex .hb[data-i="%d"]');
			if (!e) return false;
			const r = e.getBoundingClientRect(), p = document.getElementById('bytes-pane').getBoundingClientRect();
			return r.top >= p.top && r.bottom <= p.bottom;
		})()`, i)
	}
	scrollTo := func(i int) {
		t.Helper()
		evalJS[bool](t, ctx, fmt.Sprintf(`(() => {
			const pane = document.getElementById('bytes-pane'), hex = document.getElementById('hex');
			pane.scrollTop = hex.offsetTop + Math.floor(%d / 16) * parseFloat(getComputedStyle(hex).lineHeight) - pane.clientHeight / 2;
			return true;
		})()`, i))
		waitJS(t, ctx, fmt.Sprintf("byte %d in view", i), inView(i))
	}
	// The UDP payload: the largest field inside the datagram.
	var payload []int
	for _, f := range fields {
		if f[0] > 14 && f[0]+f[1] <= len(pkts[0]) && (payload == nil || f[1] > payload[1]) {
			payload = f
		}
	}
	if payload == nil {
		t.Fatalf("no field inside the datagram: %v", fields)
	}
	do1(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#tree .node[data-off="%d"][data-len="%d"]`, payload[0], payload[1]))))
	waitJS(t, ctx, "payload selected", fmt.Sprintf(`document.querySelector('#tree .node.selected').dataset.off === '%d'`, payload[0]))
	check("payload start", big, payload[0], payload[1])
	end := payload[0] + payload[1] - 1
	scrollTo(end)
	check("payload end", big, payload[0], payload[1])
	screenshot(t, ctx, "hex-large-field-end")
	scrollTo(len(big) - 1)
	check("last row", big, payload[0], payload[1])

	// Hovering a byte names the innermost field holding it.
	scrollTo(end)
	xy := evalJS[[]float64](t, ctx, fmt.Sprintf(`(() => { const r = document.querySelector('#hex .hb[data-i="%d"]').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`, end))
	do1(t, ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, xy[0], xy[1]))
	// The payload may be named by more than one node (a layer and its
	// field): any of them will do.
	names := evalJS[[]string](t, ctx, fmt.Sprintf(`Array.from(document.querySelectorAll('#tree .node[data-off="%d"][data-len="%d"]')).map((e) => 'byte %d · ' + (e.dataset.field || e.querySelector('.label').textContent))`, payload[0], payload[1], end))
	namesJS, err := json.Marshal(names)
	if err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "hover names the field", fmt.Sprintf(`%s.includes(document.getElementById('status-field').textContent)`, namesJS))
	if n := evalJS[int](t, ctx, `document.querySelectorAll('#hex .hov').length`); n != 2 {
		t.Errorf("%d bytes marked hovered, want 2 (hex and ASCII)", n)
	}
	// A click on a byte of the trailer selects the field holding it.
	scrollTo(len(big) - 1)
	do1(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#hex .hb[data-i="%d"]`, len(big)-1))))
	sel := evalJS[[]int](t, ctx, `(() => { const e = document.querySelector('#tree .node.selected'); return [+e.dataset.off, +e.dataset.len]; })()`)
	if sel[0] > len(big)-1 || sel[0]+sel[1] < len(big) {
		t.Errorf("the last byte selected the field at %d+%d", sel[0], sel[1])
	}
	check("trailer selected", big, sel[0], sel[1])

	// The field stays selected in another packet that has it, highlighted
	// there and scrolled to.
	do1(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#tree .node[data-off="%d"][data-len="%d"]`, payload[0], payload[1]))))
	scrollTo(len(big) - 1)
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-pos="0"]`)))
	waitJS(t, ctx, "packet 1 with its payload selected", fmt.Sprintf(`%s === '%d' && document.querySelector('#tree .node.selected').dataset.off === '%d'`, hexLen, len(pkts[0]), payload[0]))
	waitJS(t, ctx, "the payload's first byte in view", inView(payload[0]))
	check("payload of packet 1", pkts[0], payload[0], payload[1])

}

// hexShown scrolls the bytes pane from top to bottom, as a user would, and
// returns every byte it shows in hex, and which of them are highlighted (the
// pane draws only the rows in view). The pane is scrolled back to where it
// was.
func hexShown(t *testing.T, ctx context.Context) (hexText string, highlighted []int) {
	t.Helper()
	var got struct {
		Hex string
		HL  []int
	}
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const pane = document.getElementById('bytes-pane'), keep = pane.scrollTop;
		const seen = new Map(), hl = new Set();
		const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
		for (let y = 0; ; y += Math.max(1, pane.clientHeight - 20)) {
			pane.scrollTop = y;
			await frame();
			for (const e of document.querySelectorAll('#hex .hb[data-i]')) {
				seen.set(+e.dataset.i, e.textContent);
				if (e.classList.contains('hl')) hl.add(+e.dataset.i);
			}
			if (y + pane.clientHeight >= pane.scrollHeight) break;
		}
		pane.scrollTop = keep;
		await frame();
		const idx = Array.from(seen.keys()).sort((a, b) => a - b);
		if (idx.some((i, k) => i !== k)) return JSON.stringify({Hex: 'bytes missing: ' + idx.join(','), HL: []});
		return JSON.stringify({Hex: idx.map((i) => seen.get(i)).join(''), HL: Array.from(hl).sort((a, b) => a - b)});
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(v), &got); err != nil {
		t.Fatal(err)
	}
	return got.Hex, got.HL
}
