package web

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/pkttap/pkttap/internal/rpcapdtest"
	"github.com/pkttap/pkttap/internal/testenv"
)

// replayChain hands the connections the server dials to replay servers
// in turn: each takes as many as its session recorded, then the next.
type replayChain struct {
	mu   sync.Mutex
	srv  []*rpcapdtest.ReplayServer
	left []int
}

func (c *replayChain) Dial(network, addr string) (net.Conn, error) {
	c.mu.Lock()
	for len(c.left) > 0 && c.left[0] == 0 {
		c.srv, c.left = c.srv[1:], c.left[1:]
	}
	if len(c.srv) == 0 {
		c.mu.Unlock()
		return nil, fmt.Errorf("replay: a connection to %s after the last recorded one", addr)
	}
	s := c.srv[0]
	c.left[0]--
	c.mu.Unlock()
	return s.Dial(network, addr)
}

// TestBrowserRPCAPSource drives the Remote tab in headless chromium
// against replays of a real rpcapd's recorded side: choose rpcap (the
// port becomes 2002, the password note shows), connect (the interface
// list comes from the server), the interface's link type checks the
// capture filter, start; the recorded packets appear as rows, and the
// saved host keeps the protocol and no password.
func TestBrowserRPCAPSource(t *testing.T) {
	testenv.LookPath(t, "chromium", "chromium")
	null := rpcapSession(t, "null-auth")
	chain := &replayChain{}
	// Connect lists the interfaces; picking one asks its link type; Start
	// captures: three conversations, each ending where the request does.
	for _, sess := range []rpcapdtest.Session{recordedClose(t, null, 4), recordedClose(t, null, 6), null} {
		chain.srv = append(chain.srv, rpcapdtest.NewReplayServerWith(t, sess, rpcapdtest.ReplayOptions{AnyStats: true}))
		chain.left = append(chain.left, len(sess.Conns))
	}
	waits := slices.Clone(chain.srv)
	_, ts := newTestServer(t, Config{RPCAP: RPCAPOptions{Dial: chain.Dial}})
	host, _, _ := net.SplitHostPort(null.Conns[0].Remote)

	ctx := newBrowser(t)
	do1(t, ctx, chromedp.EmulateViewport(1600, 1000), chromedp.Navigate(ts.URL), chromedp.WaitVisible(chromedp.ID("list-empty")))
	do1(t, ctx, chromedp.Click(chromedp.ID("live-button")))
	waitJS(t, ctx, "the Live dialog", `document.getElementById('live-dialog').open`)
	do1(t, ctx, chromedp.Click(chromedp.ID("live-tab-remote")))
	waitJS(t, ctx, "the Remote tab", `!document.getElementById('remote-panel').hidden`)
	do1(t, ctx, chromedp.SetValue(chromedp.ID("remote-proto"), "rpcap"))
	evalJS[bool](t, ctx, `document.getElementById('remote-proto').dispatchEvent(new Event('change')), true`)
	waitJS(t, ctx, "rpcap's fields", `document.getElementById('remote-port').value === '2002' && !document.getElementById('remote-rpcap-row').hidden &&
		document.getElementById('remote-rpcap-note').textContent.includes('in the clear') && document.getElementById('remote-ssh-row').hidden &&
		document.getElementById('remote-sudo-row').hidden && !document.getElementById('remote-password-row').hidden`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("remote-host"), host), chromedp.Click(chromedp.ID("remote-connect")))
	waitJS(t, ctx, "the server's interfaces and the link type", fmt.Sprintf(`!document.getElementById('remote-iface').disabled &&
		document.getElementById('remote-iface').value === %q && document.getElementById('remote-status').textContent.includes('EN10MB')`, null.Interface))
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("remote-filter"), null.Filter))
	waitJS(t, ctx, "green capture filter", `document.getElementById('remote-filter').classList.contains('valid')`)
	evalJS[bool](t, ctx, `document.getElementById('remote-promisc').checked = false, true`) // as recorded
	saved := evalJS[string](t, ctx, `localStorage.getItem('pkttap.remoteHosts')`)
	if !strings.Contains(saved, `"protocol":"rpcap"`) || !strings.Contains(saved, host) || strings.Contains(saved, "password") {
		t.Errorf("saved hosts %s: want the rpcap host, no password", saved)
	}
	do1(t, ctx, chromedp.Click(chromedp.ID("live-start")))
	waitJS(t, ctx, fmt.Sprintf("%d rows", null.Packets), fmt.Sprintf(`document.getElementById('status-count').textContent.startsWith('Displayed %d of %d')`, null.Packets, null.Packets))
	screenshot(t, ctx, "remote-rpcap")
	do1(t, ctx, chromedp.Click(chromedp.ID("live-stop")))
	for i, s := range waits {
		if err := s.Wait(); err != nil {
			t.Errorf("conversation %d: %v", i+1, err)
		}
	}
}
