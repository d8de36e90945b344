package remote

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/internal/rpcapdtest"
	"github.com/pkttap/pkttap/pcapio"
)

// rpcapTraceFile holds rpcap conversations recorded byte for byte from a
// real rpcapd, libpcap 1.10.6's (its rpcapd/ sources built against Debian
// 12's libpcap 1.10.3), by TestRPCAPLiveSessions (go test -run
// TestRPCAPLiveSessions -rpcap-record, with PKTTAP_RPCAPD set, as root).
// Debian does not package rpcapd, so CI replays them (TestRPCAPReplay): a
// fake server plays the server's side and checks every byte the client
// sends.
const rpcapTraceFile = "testdata/rpcapd-sessions.json"

// sentinels names the errors a session may expect.
var sentinels = map[string]error{
	"ErrNoSuchInterface":  ErrNoSuchInterface,
	"ErrAuthentication":   ErrAuthentication,
	"ErrPermissionDenied": ErrPermissionDenied,
}

// sessionResult is what runSession saw.
type sessionResult struct {
	ifs     []Interface
	pkts    []pcapio.Packet
	stats   capture.Stats
	openErr error
}

// runSession plays a session's script with cfg (whose Dial the caller
// sets): a refused password first if the session has one, then dial,
// list the interfaces, start the capture, call send (the live test's
// traffic), read the packets, take the counts and close. in runs each
// step that opens sockets (the live test: in the client's namespace).
func runSession(t *testing.T, sess rpcapdtest.Session, cfg RPCAPConfig, in func(func()), send func()) sessionResult {
	t.Helper()
	var res sessionResult
	if sess.BadPassword != "" {
		bad := cfg
		bad.User, bad.Password = sess.User, sess.BadPassword
		var err error
		in(func() { _, err = DialRPCAP(bad) })
		if !errors.Is(err, ErrAuthentication) {
			t.Fatalf("%s: DialRPCAP with a wrong password: %v, want ErrAuthentication", sess.Name, err)
		}
		t.Logf("%s: a wrong password: %v", sess.Name, err)
	}
	cfg.User, cfg.Password = sess.User, sess.Password
	var h *RPCAPHost
	var err error
	in(func() { h, err = DialRPCAP(cfg) })
	if err != nil {
		t.Fatalf("%s: DialRPCAP: %v", sess.Name, err)
	}
	defer h.Close()
	if res.ifs, err = h.Interfaces(); err != nil {
		t.Fatalf("%s: Interfaces: %v", sess.Name, err)
	}
	var c *capture.Capture
	in(func() {
		c, err = h.Capture(CaptureOptions{Interface: sess.Interface, Filter: sess.Filter, Snaplen: sess.Snaplen, Promiscuous: sess.Promisc})
	})
	if sess.WantErr != "" {
		if !errors.Is(err, sentinels[sess.WantErr]) {
			t.Fatalf("%s: Capture: %v, want %s", sess.Name, err, sess.WantErr)
		}
		t.Logf("%s: %v", sess.Name, err)
		res.openErr = err
		return res
	}
	if err != nil {
		t.Fatalf("%s: Capture: %v", sess.Name, err)
	}
	defer c.Close()
	if send != nil {
		send()
	}
	res.pkts = readPackets(t, c, sess.Packets)
	if err := c.Close(); err != nil {
		t.Fatalf("%s: Close: %v", sess.Name, err)
	}
	if res.stats, err = c.Stats(); err != nil {
		t.Fatalf("%s: Stats after Close: %v", sess.Name, err)
	}
	return res
}

// readPackets reads n packets from c, failing the test after a deadline.
func readPackets(t *testing.T, c *capture.Capture, n int) []pcapio.Packet {
	t.Helper()
	timer := time.AfterFunc(10*time.Second, func() { c.Close() })
	defer timer.Stop()
	var pkts []pcapio.Packet
	for len(pkts) < n {
		p, err := c.Next()
		if err != nil {
			t.Fatalf("after %d of %d packets: %v", len(pkts), n, err)
		}
		pkts = append(pkts, p)
	}
	return pkts
}

// recorder is a Dial that records every byte through the connections it
// opens, in the order the client saw them: a write is logged before it is
// made, a read once it returned, so that replaying the log in order
// answers each request after it was sent.
type recorder struct {
	dial func(network, addr string) (net.Conn, error)

	mu     sync.Mutex
	conns  []rpcapdtest.Conn
	events []rpcapdtest.Event
}

func (r *recorder) Dial(network, addr string) (net.Conn, error) {
	c, err := r.dial(network, addr)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conns = append(r.conns, rpcapdtest.Conn{Local: c.LocalAddr().String(), Remote: c.RemoteAddr().String()})
	return &recordedConn{Conn: c, r: r, id: len(r.conns) - 1}, nil
}

func (r *recorder) log(id int, dir string, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Consecutive pieces one way on one connection are one event.
	if n := len(r.events); n > 0 && r.events[n-1].Conn == id && r.events[n-1].Dir == dir {
		r.events[n-1].Hex += hex.EncodeToString(b)
		return
	}
	r.events = append(r.events, rpcapdtest.Event{Conn: id, Dir: dir, Hex: hex.EncodeToString(b)})
}

// take returns what was recorded and starts afresh.
func (r *recorder) take() ([]rpcapdtest.Conn, []rpcapdtest.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, e := r.conns, r.events
	r.conns, r.events = nil, nil
	return c, e
}

type recordedConn struct {
	net.Conn
	r  *recorder
	id int
}

func (c *recordedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.r.log(c.id, "s", p[:n])
	}
	return n, err
}

func (c *recordedConn) Write(p []byte) (int, error) {
	c.r.log(c.id, "c", p)
	return c.Conn.Write(p)
}

// prefixes prints an interface's addresses.
func prefixes(ifs []Interface, name string) string {
	i := slices.IndexFunc(ifs, func(ifc Interface) bool { return ifc.Name == name })
	if i < 0 {
		return "(not listed)"
	}
	return fmt.Sprint(ifs[i].Addresses)
}
