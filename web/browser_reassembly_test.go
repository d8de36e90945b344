package web

import (
	"bytes"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pkttap/pkttap/internal/testpkt"
)

// fragmentedCapture is a UDP datagram of 3000 bytes in three IPv4
// fragments, then an unfragmented datagram.
func fragmentedCapture(t *testing.T) []byte {
	t.Helper()
	payload := make([]byte, 3000)
	for i := range payload {
		payload[i] = byte(i*7 + i>>8)
	}
	eth := func(body []byte) []byte {
		h := append(append(append([]byte{}, testpkt.MACB...), testpkt.MACA...), testpkt.EtherTypeIPv4>>8, testpkt.EtherTypeIPv4&0xff)
		return append(h, body...)
	}
	var pkts [][]byte
	for _, f := range testpkt.IPv4Fragments(0x4242, testpkt.ProtoUDP, testpkt.IPv4A, testpkt.IPv4B, testpkt.UDP(40000, 7001, payload), 1480) {
		pkts = append(pkts, eth(f))
	}
	pkts = append(pkts, eth(testpkt.IPv4(testpkt.ProtoUDP, testpkt.IPv4A, testpkt.IPv4B, testpkt.UDP(40000, 7001, payload[:100]))))
	return pcapOf(t, pkts)
}

// TestBrowserReassembledBytes: the packet that completes a fragmented
// datagram shows the reassembled datagram as tshark does (the UDP row,
// the fragments' list in the tree) and its bytes in a second tab of the
// bytes pane, as Wireshark's "Reassembled IPv4" tab: selecting a field of
// the datagram shows that tab with the field's bytes highlighted, a field
// of the frame shows the frame again, and clicking a byte of the datagram
// selects its field.
func TestBrowserReassembledBytes(t *testing.T) {
	ctx := newBrowser(t)
	_, ts := newTestServer(t, Config{})
	info := upload(t, ts, "fragments.pcap", fragmentedCapture(t))
	waitIndexed(t, ts, info.ID)

	do1(t, ctx, chromedp.EmulateViewport(1600, 1000), chromedp.Navigate(ts.URL+"/c/"+info.ID))
	waitJS(t, ctx, "rows", `document.querySelectorAll('#list-rows .row:not(.loading)').length === 4`)
	infos := evalJS[[]string](t, ctx, `[...document.querySelectorAll('#list-rows .row')].map((r) => r.querySelector('.c-info, [data-col="info"]')?.textContent || r.textContent)`)
	for i, want := range []string{"Fragmented IP protocol (proto=UDP 17, off=0, ID=4242)", "Fragmented IP protocol (proto=UDP 17, off=1480, ID=4242)", "40000 → 7001 Len=3000"} {
		if !bytes.Contains([]byte(infos[i]), []byte(want)) {
			t.Errorf("row %d: %q, want Info %q", i+1, infos[i], want)
		}
	}
	if bytes.Contains([]byte(infos[0]), []byte("Malformed")) {
		t.Errorf("row 1 (a first fragment): %q", infos[0])
	}

	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-pos="2"]`)))
	waitJS(t, ctx, "the tabs", `document.querySelectorAll('#bytes-tabs .bytes-tab').length === 2 && !document.getElementById('bytes-tabs').hidden`)
	tabs := evalJS[[]string](t, ctx, `[...document.querySelectorAll('#bytes-tabs .bytes-tab')].map((b) => b.textContent)`)
	if tabs[1] != "Reassembled IPv4 (3008 bytes)" {
		t.Errorf("tabs %q", tabs)
	}
	waitJS(t, ctx, "the fragments' list", `[...document.querySelectorAll('#tree .node')].some((n) => n.dataset.field === 'ip.fragments' && n.textContent.includes('[3 IPv4 Fragments (3008 bytes): #1(1480), #2(1480), #3(48)]'))`)

	// A field of the datagram: its tab, its bytes.
	evalJS[bool](t, ctx, `(document.querySelector('#tree .node[data-field="udp.dstport"]').click(), true)`)
	waitJS(t, ctx, "the datagram's tab", `document.querySelector('#bytes-tabs .bytes-tab[data-src="1"]').getAttribute('aria-selected') === 'true' && document.getElementById('hex').dataset.len === '3008'`)
	hl := evalJS[[]string](t, ctx, `[...document.querySelectorAll('#hex .hb.hl')].map((b) => b.dataset.i)`)
	if len(hl) != 2 || hl[0] != "2" || hl[1] != "3" {
		t.Errorf("highlighted bytes %v, want the datagram's 2 and 3 (udp.dstport)", hl)
	}
	screenshot(t, ctx, "reassembled-bytes")

	// Clicking a byte of the datagram selects the field that holds it.
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#hex .hb[data-i="4"]`)))
	waitJS(t, ctx, "udp.length selected", `document.querySelector('#tree .node.selected')?.dataset.field === 'udp.length'`)

	// A field of the frame: the frame's tab again.
	evalJS[bool](t, ctx, `(document.querySelector('#tree .node[data-field="ip.src"]').click(), true)`)
	waitJS(t, ctx, "the frame's tab", `document.querySelector('#bytes-tabs .bytes-tab[data-src="0"]').getAttribute('aria-selected') === 'true' && document.getElementById('hex').dataset.len === '82'`)
	hl = evalJS[[]string](t, ctx, `[...document.querySelectorAll('#hex .hb.hl')].map((b) => b.dataset.i)`)
	if len(hl) != 4 || hl[0] != "26" {
		t.Errorf("highlighted bytes %v, want the frame's 26-29 (ip.src)", hl)
	}

	// The unfragmented packet has no tabs.
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-pos="3"]`)))
	waitJS(t, ctx, "no tabs", `document.getElementById('bytes-tabs').hidden && document.getElementById('hex').dataset.len === '142'`)
}
