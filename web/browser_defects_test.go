package web

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/pcapio"
)

// mixedLinkTypes returns a pcapng file of n packets on two interfaces, one
// Ethernet, one raw IP: a capture a .pcap cannot hold.
func mixedLinkTypes(t *testing.T, n int) []byte {
	t.Helper()
	ifaces := []pcapio.Interface{
		{LinkType: pcapio.LinkTypeEthernet, Name: "eth0", Snaplen: 1500},
		{LinkType: pcapio.LinkTypeRaw, Name: "tun0", Snaplen: 1500},
	}
	var b bytes.Buffer
	w, err := pcapio.NewWriter(&b, pcapio.WriterOptions{Format: pcapio.FormatPcapNg, Interfaces: ifaces})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Unix(1_700_000_000, 0)
	for i := range n {
		ifc := i % 2
		data := make([]byte, 60)
		if ifc == 1 {
			data = make([]byte, 28)
			data[0], data[9] = 0x45, 17
		}
		p := pcapio.Packet{Timestamp: base.Add(time.Duration(i) * time.Millisecond), Data: data, Length: len(data),
			LinkType: ifaces[ifc].LinkType, InterfaceIndex: ifc}
		if err := w.WritePacket(&p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBrowserDownloadRefused: with no capture open the Download menu is
// disabled; a download the server refuses (a .pcap of a capture mixing
// link types) shows the server's message instead of doing nothing.
func TestBrowserDownloadRefused(t *testing.T) {
	ctx := newBrowser(t)
	_, ts := newTestServer(t, Config{})

	do1(t, ctx, chromedp.Navigate(ts.URL), chromedp.WaitVisible(chromedp.ID("list-empty")))
	if !evalJS[bool](t, ctx, `document.getElementById('download-button').disabled`) {
		t.Error("the Download menu is enabled with no capture open")
	}

	id := waitIndexed(t, ts, upload(t, ts, "mixed.pcapng", mixedLinkTypes(t, 4)).ID).ID
	do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+id))
	waitJS(t, ctx, "the capture", `document.getElementById('status-count').textContent === 'Displayed 4 of 4' && !document.getElementById('download-button').disabled`)
	do1(t, ctx, chromedp.Click(chromedp.ID("download-button")))
	waitJS(t, ctx, "download menu", `!document.getElementById('download-menu').hidden`)
	evalJS[bool](t, ctx, `(document.querySelector('#download-menu a[data-scope="all"][data-format="pcap"]').click(), true)`)
	waitJS(t, ctx, "the refusal shown", `!document.getElementById('error-banner').hidden`)
	msg := evalJS[string](t, ctx, `document.getElementById('error-banner').textContent`)
	if !strings.Contains(msg, "mixes link types") || !strings.Contains(msg, "pcapng") {
		t.Errorf("banner says %q, want the server's message that .pcap cannot hold mixed link types", msg)
	}
}

// TestBrowserGotoBeyondLast: Go to packet past the last selects the last
// (displayed) packet and says so, with and without a filter.
func TestBrowserGotoBeyondLast(t *testing.T) {
	ctx := newBrowser(t)
	_, ts := newTestServer(t, Config{})
	id := waitIndexed(t, ts, upload(t, ts, "twenty.pcap", synthetic(t, pcapio.FormatPcap, 20)).ID).ID
	lastTLS := 0
	for i := range 20 {
		if samplegen.Kind(i) == samplegen.KindTLS {
			lastTLS = i + 1
		}
	}
	for _, tt := range []struct {
		query, count string
		last         int
	}{
		{"", "Displayed 20 of 20", 20},
		{"?filter=tcp+port+443", "Displayed 10 of 20", lastTLS},
	} {
		do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+id+tt.query))
		waitJS(t, ctx, "the capture", fmt.Sprintf(`document.getElementById('status-count').textContent === %q`, tt.count))
		do1(t, ctx, chromedp.SendKeys(chromedp.ID("goto-input"), "25\n"))
		waitJS(t, ctx, fmt.Sprintf("packet %d selected", tt.last), fmt.Sprintf(`(document.querySelector('#list-rows .row.selected') || {dataset: {}}).dataset.no === '%d'`, tt.last))
		waitJS(t, ctx, "a note", `document.getElementById('status-field').textContent !== ''`)
		if got, want := evalJS[string](t, ctx, `document.getElementById('status-field').textContent`), "Packet 25 is beyond the last (20); showing"; !strings.HasPrefix(got, want) {
			t.Errorf("%s: the status bar says %q, want %q…", tt.query, got, want)
		}
	}
}

// TestBrowserCaptureMenuFocus: after a capture is chosen from the capture
// menu, by a click or by the keyboard, the packet list has the keyboard
// focus: ↓ selects the first packet.
func TestBrowserCaptureMenuFocus(t *testing.T) {
	ctx := newBrowser(t)
	_, ts := newTestServer(t, Config{})
	a := waitIndexed(t, ts, upload(t, ts, "a.pcap", synthetic(t, pcapio.FormatPcap, 5)).ID).ID
	b := waitIndexed(t, ts, upload(t, ts, "b.pcap", synthetic(t, pcapio.FormatPcap, 7)).ID).ID
	do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+a))
	waitJS(t, ctx, "capture a", `document.getElementById('status-count').textContent === 'Displayed 5 of 5'`)
	for _, tt := range []struct {
		how, id, count string
		choose         chromedp.Action[chromedp.Void]
	}{
		{"click", b, "Displayed 7 of 7", chromedp.Click(chromedp.CSS(`#cap-menu a[data-id="` + b + `"]`))},
		{"Enter", a, "Displayed 5 of 5", chromedp.KeyEvent(kb.Enter)},
	} {
		do1(t, ctx, chromedp.Click(chromedp.ID("cap-button")))
		waitJS(t, ctx, "capture menu", `!document.getElementById('cap-menu').hidden`)
		if tt.how == "Enter" {
			evalJS[bool](t, ctx, `(document.querySelector('#cap-menu a[data-id="`+tt.id+`"]').focus(), true)`)
		}
		do1(t, ctx, tt.choose)
		waitJS(t, ctx, "the chosen capture", fmt.Sprintf(`document.getElementById('status-count').textContent === %q && document.getElementById('cap-menu').hidden`, tt.count))
		do1(t, ctx, chromedp.KeyEvent(kb.ArrowDown))
		waitJS(t, ctx, "packet 1 selected by ↓ after "+tt.how, `(document.querySelector('#list-rows .row.selected') || {dataset: {}}).dataset.no === '1'`)
	}
}

// TestBrowserBinaryUnits: sizes are shown in binary units, as the server
// and the command line write them: a live capture's default limit of
// 1 GiB is "1 GiB" (not "1.1 GB"), and an upload over a 1 MiB limit says so
// in MiB (a message the running capture's snapshots leave in place).
func TestBrowserBinaryUnits(t *testing.T) {
	ctx := newBrowser(t)
	b := &fakeBackend{ifaces: windowsInterfaces(), frame: 60, every: 5 * time.Millisecond}
	_, ts := newTestServer(t, Config{Live: b, MaxUpload: 1 << 20})
	res, info, e := startLive(t, ts, `{"interface": "Ethernet"}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start live: %d %+v", res.StatusCode, e)
	}
	do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+info.ID))
	waitJS(t, ctx, "live indicator", `document.getElementById('live-ind').title.includes('spooled:')`)
	if got := evalJS[string](t, ctx, `document.getElementById('live-ind').title`); !strings.HasSuffix(got, " of 1 GiB") {
		t.Errorf("live indicator's tooltip %q, want the limit as \"of 1 GiB\"", got)
	}

	big := filepath.Join(t.TempDir(), "big.pcap")
	if err := os.WriteFile(big, make([]byte, 3<<19), 0o600); err != nil {
		t.Fatal(err)
	}
	do1(t, ctx, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{big}))
	waitJS(t, ctx, "the upload refused", `document.getElementById('error-banner').textContent.includes('upload limit')`)
	// The message stays while the live capture's snapshots come in.
	time.Sleep(time.Second)
	if got, want := evalJS[string](t, ctx, `document.getElementById('error-banner').textContent`), "big.pcap is 1.5 MiB, over the upload limit of 1 MiB."; got != want {
		t.Errorf("banner says %q, want %q", got, want)
	}
}

// TestBrowserEmptyUploads: an empty file is reported as empty, not as a bad
// magic number; a file of only a header shows its link type, and says it
// has no packets instead of asking to select one.
func TestBrowserEmptyUploads(t *testing.T) {
	ctx := newBrowser(t)
	_, ts := newTestServer(t, Config{})
	dir := t.TempDir()
	empty, headerOnly := filepath.Join(dir, "empty.pcap"), filepath.Join(dir, "header.pcap")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(headerOnly, synthetic(t, pcapio.FormatPcap, 0), 0o600); err != nil {
		t.Fatal(err)
	}
	do1(t, ctx, chromedp.Navigate(ts.URL), chromedp.WaitVisible(chromedp.ID("list-empty")))

	do1(t, ctx, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{empty}))
	waitJS(t, ctx, "the refusal", `!document.getElementById('error-banner').hidden`)
	if got := evalJS[string](t, ctx, `document.getElementById('error-banner').textContent`); !strings.Contains(got, "the file is empty") || strings.Contains(got, "magic") {
		t.Errorf("banner says %q, want that the file is empty", got)
	}

	do1(t, ctx, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{headerOnly}))
	waitJS(t, ctx, "the header-only capture", `document.getElementById('cap-name').textContent === 'header.pcap' && document.getElementById('status-count').textContent === 'Displayed 0 of 0'`)
	if got := evalJS[string](t, ctx, `document.getElementById('cap-meta').textContent`); got != "0 packets · EN10MB" {
		t.Errorf("capture header reads %q, want \"0 packets · EN10MB\"", got)
	}
	if got := evalJS[string](t, ctx, `document.getElementById('tree').textContent`); got != "This capture has no packets." {
		t.Errorf("details pane says %q, want that the capture has no packets", got)
	}
}
