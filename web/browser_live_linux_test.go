package web

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserLive drives a live capture in headless chromium, on the veth
// of a namespace pair: the Live dialog lists the interface, the capture
// filter turns red then green as it is typed, Enter starts the capture,
// datagrams sent from the other side appear as rows while the list follows
// the end (and stops following once scrolled up), a clicked row shows its
// bytes, a display filter counts the matches among what has arrived and
// what arrives, Ctrl+E stops it with the counts, and a display filter
// counts the matches afterwards.
func TestBrowserLive(t *testing.T) {
	ctx := newBrowser(t)
	pair, ts := newLiveServer(t, Config{})

	do1(t, ctx, chromedp.Navigate(ts.URL), chromedp.WaitVisible(chromedp.ID("list-empty")))
	do1(t, ctx, chromedp.Click(chromedp.ID("live-button")))
	waitJS(t, ctx, "the Live dialog", `document.getElementById('live-dialog').open && document.getElementById('live-iface').options.length > 0`)
	// Up interfaces with addresses come first: the veth, with its address.
	first := evalJS[string](t, ctx, `document.getElementById('live-iface').options[0].textContent`)
	if want := pair.IfB + " — " + pair.CIDRB; first != want {
		t.Errorf("first interface %q, want %q", first, want)
	}
	if focused := evalJS[string](t, ctx, `document.activeElement.id`); focused != "live-iface" {
		t.Errorf("focus on %q when the dialog opens, want the interface picker", focused)
	}
	do1(t, ctx, chromedp.SetValue(chromedp.ID("live-iface"), pair.IfB))
	screenshot(t, ctx, "live-dialog")

	// The capture filter is checked as it is typed: red with a column,
	// then green.
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("live-filter"), "udp dst port"))
	waitJS(t, ctx, "red capture filter", `document.getElementById('live-filter').classList.contains('invalid') && /column \d+/.test(document.getElementById('live-filter-msg').textContent)`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("live-filter"), " 5555"))
	waitJS(t, ctx, "green capture filter", `document.getElementById('live-filter').classList.contains('valid')`)
	screenshot(t, ctx, "live-dialog-filter")

	// Enter starts it.
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("live-filter"), kb.Enter))
	waitJS(t, ctx, "capturing", fmt.Sprintf(`!document.getElementById('live-dialog').open && !document.getElementById('live-ind').hidden &&
		document.getElementById('live-text').textContent === 'Capturing on %s — 0 packets, 0 dropped' && !document.getElementById('live-stop').hidden`, pair.IfB))

	want := livePayloads("browser", 30)
	more, late, big := livePayloads("more", 10), livePayloads("late", 5), livePayloads("big"+strings.Repeat("!", 60), 5)
	pair.SendUDP(t, 5555, want...)
	pair.SendUDP(t, 6666, livePayloads("dropped by the capture filter", 5)...)
	waitJS(t, ctx, "30 live rows", `document.getElementById('status-count').textContent === 'Displayed 30 of 30 (capturing…)' &&
		document.getElementById('live-text').textContent.includes('— 30 packets, 0 dropped')`)
	// The list follows the end: the last packet is in view.
	waitJS(t, ctx, "the last row in view", `document.querySelector('#list-rows .row[data-no="30"]') !== null`)
	screenshot(t, ctx, "live-running")

	// Click a row: its bytes in the hex pane are those the API serves.
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-no="29"]`)))
	var p PacketResponse
	do(t, "GET", ts.URL+"/api/captures/"+evalJS[string](t, ctx, `location.pathname.slice(3)`)+"/packets/29", nil, &p)
	waitJS(t, ctx, "hex of packet 29", fmt.Sprintf(`Array.from(document.querySelectorAll('#hex .hb[data-i]')).map(e => e.textContent).join('') === %q`, hex.EncodeToString(p.Data)))

	// More packets: the list still follows.
	pair.SendUDP(t, 5555, more...)
	waitJS(t, ctx, "40 rows, the last in view", `document.getElementById('status-count').textContent === 'Displayed 40 of 40 (capturing…)' &&
		document.querySelector('#list-rows .row[data-no="40"]') !== null`)
	// Scrolled to the top (Home), it stays there as packets arrive.
	do1(t, ctx, chromedp.Focus(chromedp.ID("list-scroll")), chromedp.SendKeys(chromedp.ID("list-scroll"), kb.Home))
	waitJS(t, ctx, "packet 1 selected", `document.querySelector('#list-rows .row.selected') !== null && document.querySelector('#list-rows .row.selected').dataset.no === '1'`)
	pair.SendUDP(t, 5555, late...)
	waitJS(t, ctx, "45 rows", `document.getElementById('status-count').textContent === 'Displayed 45 of 45 (capturing…)'`)
	if top := evalJS[bool](t, ctx, `document.getElementById('list-scroll').scrollTop === 0 && document.querySelector('#list-rows .row[data-pos="0"]') !== null`); !top {
		t.Error("the list left the top the user scrolled to")
	}

	// A display filter applies to what has arrived, and to what arrives.
	longs := func(sets ...[][]byte) int {
		n := 0
		for _, set := range sets {
			for _, pl := range set {
				if 42+len(pl) > 100 {
					n++
				}
			}
		}
		return n
	}
	long := longs(want, more, late)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), "len > 100"))
	waitJS(t, ctx, "green display filter", `document.getElementById('filter-input').classList.contains('valid')`)
	do1(t, ctx, chromedp.Click(chromedp.ID("apply-button")))
	waitJS(t, ctx, "filtered while capturing", fmt.Sprintf(`document.getElementById('status-count').textContent === 'Displayed %d of 45 (capturing…)'`, long))
	pair.SendUDP(t, 5555, big...)
	waitJS(t, ctx, "filtered count grows", fmt.Sprintf(`document.getElementById('status-count').textContent === 'Displayed %d of 50 (capturing…)'`, long+5))
	// Applying a filter follows the end again, though the user had
	// scrolled to the top before.
	waitJS(t, ctx, "the filtered list follows the end", `(() => { const s = document.getElementById('list-scroll');
		return s.scrollHeight > s.clientHeight && s.scrollTop > 0 && document.querySelector('#list-rows .row[data-no="50"]') !== null; })()`)
	screenshot(t, ctx, "live-filtered-running")
	evalJS[bool](t, ctx, `(document.getElementById('filter-input').value = '', true)`)
	do1(t, ctx, chromedp.Click(chromedp.ID("apply-button")))
	waitJS(t, ctx, "unfiltered", `document.getElementById('status-count').textContent === 'Displayed 50 of 50 (capturing…)'`)

	// A link to one packet of a running capture shows that packet: the
	// list does not jump to the end when the next snapshot arrives.
	link := evalJS[string](t, ctx, `location.origin + location.pathname`) + "?p=3"
	do1(t, ctx, chromedp.Navigate(link))
	waitJS(t, ctx, "packet 3 selected from the link", `document.querySelector('#list-rows .row.selected') !== null && document.querySelector('#list-rows .row.selected').dataset.no === '3'`)
	pair.SendUDP(t, 5555, livePayloads("linked", 1)...)
	waitJS(t, ctx, "51 rows", `document.getElementById('status-count').textContent === 'Displayed 51 of 51 (capturing…)'`)
	time.Sleep(300 * time.Millisecond) // a render after the count changed
	if shown := evalJS[bool](t, ctx, `document.querySelector('#list-rows .row.selected[data-no="3"]') !== null`); !shown {
		t.Error("the list left the packet the link selected")
	}

	// Stop, from the keyboard (Ctrl+E, Wireshark's key).
	do1(t, ctx, chromedp.KeyEvent("e", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	waitJS(t, ctx, "stopped", fmt.Sprintf(`document.getElementById('live-text').textContent.startsWith('Captured on %s — 51 packets, 0 dropped · stopped by request') &&
		document.getElementById('live-stop').hidden && document.getElementById('status-count').textContent === 'Displayed 51 of 51'`, pair.IfB))
	screenshot(t, ctx, "live-stopped")

	// A display filter over what arrived.
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), "len > 100"))
	waitJS(t, ctx, "green display filter", `document.getElementById('filter-input').classList.contains('valid')`)
	do1(t, ctx, chromedp.Click(chromedp.ID("apply-button")))
	waitJS(t, ctx, "filtered count", fmt.Sprintf(`document.getElementById('status-count').textContent === 'Displayed %d of 51'`, long+5))
	screenshot(t, ctx, "live-filtered")

	// Ctrl+E with no capture running opens the dialog; Escape closes it.
	do1(t, ctx, chromedp.KeyEvent("e", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	waitJS(t, ctx, "the dialog from Ctrl+E", `document.getElementById('live-dialog').open`)
	do1(t, ctx, chromedp.KeyEvent(kb.Escape))
	waitJS(t, ctx, "the dialog closed by Escape", `!document.getElementById('live-dialog').open`)
}
