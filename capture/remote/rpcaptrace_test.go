package remote

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/internal/samplegen"
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

// rpcapTrace is the file's content.
type rpcapTrace struct {
	Comment  []string       `json:"comment"`
	Server   string         `json:"server"` // what rpcapd -h said it was built with
	Sessions []traceSession `json:"sessions"`
}

// traceSession is one scripted use of the client (runSession) and the
// conversation it had.
type traceSession struct {
	Name        string `json:"name"`
	BadPassword string `json:"badPassword,omitempty"` // tried first, and refused
	User        string `json:"user,omitempty"`
	Password    string `json:"password,omitempty"`
	Interface   string `json:"interface"`
	Filter      string `json:"filter,omitempty"`
	Snaplen     int    `json:"snaplen,omitempty"`
	Promisc     bool   `json:"promisc,omitempty"`
	Packets     int    `json:"packets"`               // read after starting the capture
	WantErr     string `json:"wantErr,omitempty"`     // Capture's error must wrap this sentinel
	Local       string `json:"local,omitempty"`       // the local capture of the same traffic (testdata)
	Received    uint64 `json:"received,omitempty"`    // the server's count at the end
	IfAddresses string `json:"ifAddresses,omitempty"` // the interface's addresses as listed

	Conns  []traceConn  `json:"conns"`
	Events []traceEvent `json:"events"`
}

// traceConn is a TCP connection the client opened, with the addresses it
// had (the replay reports the same, so that the filter the client builds
// to exclude its own connections is the same too).
type traceConn struct {
	Local  string `json:"local"`
	Remote string `json:"remote"`
}

// traceEvent is bytes the client wrote (c) or read (s) on a connection.
type traceEvent struct {
	Conn int    `json:"conn"`
	Dir  string `json:"dir"`
	Hex  string `json:"hex"`
}

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
func runSession(t *testing.T, sess traceSession, cfg RPCAPConfig, in func(func()), send func()) sessionResult {
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
	conns  []traceConn
	events []traceEvent
}

func (r *recorder) Dial(network, addr string) (net.Conn, error) {
	c, err := r.dial(network, addr)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conns = append(r.conns, traceConn{Local: c.LocalAddr().String(), Remote: c.RemoteAddr().String()})
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
	r.events = append(r.events, traceEvent{Conn: id, Dir: dir, Hex: hex.EncodeToString(b)})
}

// take returns what was recorded and starts afresh.
func (r *recorder) take() ([]traceConn, []traceEvent) {
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

// replayServer plays a session's server side on loopback connections and
// checks the client's bytes; its Dial hands the client those connections
// dressed in the recorded addresses.
type replayServer struct {
	t    *testing.T
	sess traceSession
	ln   net.Listener

	mu      sync.Mutex
	dials   int
	dialErr error
	done    chan error
}

func newReplayServer(t *testing.T, sess traceSession) *replayServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &replayServer{t: t, sess: sess, ln: ln, done: make(chan error, 1)}
	t.Cleanup(func() { ln.Close() })
	go func() { s.done <- s.play() }()
	return s
}

// Dial connects to the replay server as the next recorded connection,
// which must have been to addr.
func (s *replayServer) Dial(network, addr string) (net.Conn, error) {
	s.mu.Lock()
	i := s.dials
	s.dials++
	s.mu.Unlock()
	if i >= len(s.sess.Conns) {
		return nil, fmt.Errorf("replay: connection %d to %s, the recording has %d", i+1, addr, len(s.sess.Conns))
	}
	rc := s.sess.Conns[i]
	if addr != rc.Remote {
		return nil, fmt.Errorf("replay: connection %d is to %s, the recording's was to %s", i+1, addr, rc.Remote)
	}
	c, err := net.Dial("tcp", s.ln.Addr().String())
	if err != nil {
		return nil, err
	}
	local, _ := net.ResolveTCPAddr("tcp", rc.Local)
	remote, _ := net.ResolveTCPAddr("tcp", rc.Remote)
	return &dressedConn{Conn: c, local: local, remote: remote}, nil
}

// play accepts the connections as the events first use them, writes the
// server's bytes and reads and compares the client's.
func (s *replayServer) play() error {
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i, ev := range s.sess.Events {
		for ev.Conn >= len(conns) {
			s.ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
			c, err := s.ln.Accept()
			if err != nil {
				return fmt.Errorf("event %d: waiting for connection %d: %w", i, len(conns)+1, err)
			}
			conns = append(conns, c)
		}
		b, err := hex.DecodeString(ev.Hex)
		if err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		c := conns[ev.Conn]
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if ev.Dir == "s" {
			if _, err := c.Write(b); err != nil {
				return fmt.Errorf("event %d: writing %d bytes on connection %d: %w", i, len(b), ev.Conn+1, err)
			}
			continue
		}
		got := make([]byte, len(b))
		n, err := io.ReadFull(c, got)
		if !bytes.Equal(got[:n], b) {
			return fmt.Errorf("event %d: the client wrote on connection %d\n% x\nthe recording has\n% x\n(%v)", i, ev.Conn+1, got[:n], b, err)
		}
	}
	return nil
}

// wait returns the replay's outcome.
func (s *replayServer) wait() error {
	select {
	case err := <-s.done:
		return err
	case <-time.After(15 * time.Second):
		return errors.New("replay: still running after 15 s")
	}
}

// dressedConn reports other addresses than its own.
type dressedConn struct {
	net.Conn
	local, remote net.Addr
}

func (c *dressedConn) LocalAddr() net.Addr  { return c.local }
func (c *dressedConn) RemoteAddr() net.Addr { return c.remote }

// readTrace reads the recorded sessions.
func readTrace(t *testing.T) rpcapTrace {
	t.Helper()
	b, err := os.ReadFile(rpcapTraceFile)
	if err != nil {
		t.Fatalf("%v (record it with go test -run TestRPCAPLiveSessions -rpcap-record, PKTTAP_RPCAPD set)", err)
	}
	var tr rpcapTrace
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatalf("%s: %v", rpcapTraceFile, err)
	}
	return tr
}

// readLocal reads a session's local capture.
func readLocal(t *testing.T, name string) []pcapio.Packet {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := samplegen.ReadAll(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return pkts
}

// samePackets compares the client's packets with a local capture's of
// the same traffic: the same bytes (those the snap length kept), the same
// length on the wire, and timestamps within 1 ms (each capturing socket
// stamps the packet itself: they differ by a few microseconds).
func samePackets(t *testing.T, name string, got, want []pcapio.Packet, snaplen int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d packets, the local capture has %d", name, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		wd := w.Data
		if snaplen > 0 && len(wd) > snaplen {
			wd = wd[:snaplen]
		}
		d := g.Timestamp.Sub(w.Timestamp)
		if !bytes.Equal(g.Data, wd) || g.Length != w.Length || d < -time.Millisecond || d > time.Millisecond || g.LinkType != w.LinkType {
			t.Errorf("%s: packet %d: the rpcap client has %v, %d of %d bytes, %v\n% x\nthe local capture %v, %d of %d bytes, %v\n% x",
				name, i+1, g.Timestamp, len(g.Data), g.Length, g.LinkType, g.Data, w.Timestamp, len(w.Data), w.Length, w.LinkType, w.Data)
		}
	}
}

// prefixes prints an interface's addresses.
func prefixes(ifs []Interface, name string) string {
	i := slices.IndexFunc(ifs, func(ifc Interface) bool { return ifc.Name == name })
	if i < 0 {
		return "(not listed)"
	}
	return fmt.Sprint(ifs[i].Addresses)
}
