package web

import (
	"fmt"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserLiveInterfaceDown (issue 19, defect 5): the Live dialog marks
// an interface that is down, and starting a capture on it keeps the dialog
// open with the server's message naming the interface and saying it is
// down; no capture is added to the menu. Brought up, the same interface
// starts.
func TestBrowserLiveInterfaceDown(t *testing.T) {
	ctx := newBrowser(t)
	pair, ts := newLiveServer(t, Config{})
	link := func(state string) {
		t.Helper()
		if out, err := exec.Command("ip", "-n", pair.NSB, "link", "set", pair.IfB, state).CombinedOutput(); err != nil {
			t.Fatalf("ip link set %s %s: %v\n%s", pair.IfB, state, err, out)
		}
	}
	link("down")
	do1(t, ctx, chromedp.Navigate(ts.URL), chromedp.WaitVisible(chromedp.ID("list-empty")))
	do1(t, ctx, chromedp.Click(chromedp.ID("live-button")))
	opt := fmt.Sprintf(`Array.from(document.getElementById('live-iface').options).find((o) => o.value === %q)`, pair.IfB)
	waitJS(t, ctx, "the Live dialog", `document.getElementById('live-dialog').open && `+opt+` !== undefined`)
	if text := evalJS[string](t, ctx, opt+`.textContent`); text != pair.IfB+" — "+pair.CIDRB+" (down)" {
		t.Errorf("the down interface reads %q in the picker, want it marked (down)", text)
	}
	do1(t, ctx, chromedp.SetValue(chromedp.ID("live-iface"), pair.IfB), chromedp.Click(chromedp.ID("live-start")))
	waitJS(t, ctx, "the refusal in the dialog", fmt.Sprintf(`document.getElementById('live-dialog').open && !document.getElementById('live-error').hidden &&
		document.getElementById('live-error').textContent === 'interface %q is down: bring it up, then start the capture'`, pair.IfB))
	screenshot(t, ctx, "live-interface-down")
	if n := evalJS[int](t, ctx, `document.querySelectorAll('#cap-menu a[data-id]').length`); n != 0 {
		t.Errorf("%d captures in the menu after the refusal, want none", n)
	}
	var list []CaptureInfo
	if do(t, "GET", ts.URL+"/api/captures", nil, &list); len(list) != 0 {
		t.Errorf("captures after the refusal: %+v, want none", list)
	}

	link("up")
	do1(t, ctx, chromedp.Click(chromedp.ID("live-start")))
	waitJS(t, ctx, "capturing once up", `!document.getElementById('live-dialog').open && !document.getElementById('live-stop').hidden`)
}
