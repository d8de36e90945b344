package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserLivePickerFriendlyName opens the Live dialog of a server whose
// interfaces are Windows': the picker shows each adapter's friendly name
// ("Ethernet"), with its device path and description as the option's
// tooltip, and starts the capture with the device path, which always works.
func TestBrowserLivePickerFriendlyName(t *testing.T) {
	ctx := newBrowser(t)
	b := &fakeBackend{ifaces: windowsInterfaces(), frame: 60, every: 5 * time.Millisecond}
	_, ts := newTestServer(t, Config{Live: b})

	do1(t, ctx, chromedp.Navigate(ts.URL), chromedp.WaitVisible(chromedp.ID("list-empty")))
	do1(t, ctx, chromedp.Click(chromedp.ID("live-button")))
	waitJS(t, ctx, "the Live dialog", `document.getElementById('live-dialog').open && document.getElementById('live-iface').options.length === 2`)
	opt := `document.getElementById('live-iface').options[0]`
	if got, want := evalJS[string](t, ctx, opt+`.textContent`), "Ethernet — 198.18.0.7/24"; got != want {
		t.Errorf("first option reads %q, want %q", got, want)
	}
	if got, want := evalJS[string](t, ctx, opt+`.value`), `\Device\NPF_{11111111-2222-3333-4444-555555555555}`; got != want {
		t.Errorf("first option's value %q, want the device path %q", got, want)
	}
	if got, want := evalJS[string](t, ctx, opt+`.title`), `\Device\NPF_{11111111-2222-3333-4444-555555555555} — Intel(R) Ethernet Connection`; got != want {
		t.Errorf("first option's tooltip %q, want %q", got, want)
	}
	if got, want := evalJS[string](t, ctx, `document.getElementById('live-iface').options[1].textContent`), "Loopback Pseudo-Interface 1 (loopback) [NULL]"; got != want {
		t.Errorf("second option reads %q, want %q", got, want)
	}
	do1(t, ctx, chromedp.Click(chromedp.ID("live-start")))
	waitJS(t, ctx, "capturing", `!document.getElementById('live-dialog').open && document.getElementById('live-text').textContent.startsWith('Capturing on \\Device\\NPF_{1111')`)
}
