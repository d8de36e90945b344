package web

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/pkttap/pkttap/internal/rpcapdtest"
	"github.com/pkttap/pkttap/internal/testenv"
)

// replayChain hands the connections the server dials to replays of its
// sessions in turn, each started as its first connection is dialed: one
// takes as many connections as its session recorded, then the next.
type replayChain struct {
	t    *testing.T
	sess []rpcapdtest.Session

	mu      sync.Mutex
	started []*rpcapdtest.ReplayServer
	left    int // connections the last started one still takes
}

func (c *replayChain) Dial(network, addr string) (net.Conn, error) {
	c.mu.Lock()
	if c.left == 0 {
		if len(c.started) == len(c.sess) {
			c.mu.Unlock()
			return nil, fmt.Errorf("replay: a connection to %s after the last recorded one", addr)
		}
		sess := c.sess[len(c.started)]
		c.started = append(c.started, rpcapdtest.NewReplayServerWith(c.t, sess, rpcapdtest.ReplayOptions{AnyStats: true}))
		c.left = len(sess.Conns)
	}
	c.left--
	s := c.started[len(c.started)-1]
	c.mu.Unlock()
	return s.Dial(network, addr)
}

// wait waits for replay i to end, failing the test if it did not go as
// recorded.
func (c *replayChain) wait(i int) {
	c.t.Helper()
	c.mu.Lock()
	started := len(c.started)
	c.mu.Unlock()
	if i >= started {
		c.t.Errorf("conversation %d of %d never started", i+1, len(c.sess))
		return
	}
	if err := c.started[i].Wait(); err != nil {
		c.t.Errorf("conversation %d: %v", i+1, err)
	}
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
	// Connect lists the interfaces; picking one asks its link type; Start
	// captures: three conversations, each ending where the request does.
	chain := &replayChain{t: t, sess: []rpcapdtest.Session{recordedClose(t, null, 4), recordedClose(t, null, 6), null}}
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
	for i := range chain.sess {
		chain.wait(i)
	}
}
