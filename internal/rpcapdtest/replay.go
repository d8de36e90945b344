package rpcapdtest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// Trace is a file of rpcap conversations recorded from a real rpcapd
// (capture/remote's testdata/rpcapd-sessions.json, written by its live
// test with -rpcap-record).
type Trace struct {
	Comment  []string  `json:"comment"`
	Server   string    `json:"server"` // what rpcapd -h said it was built with
	Sessions []Session `json:"sessions"`
}

// Session is one scripted use of the client (capture/remote's
// runSession) and the conversation it had.
type Session struct {
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

	Conns  []Conn  `json:"conns"`
	Events []Event `json:"events"`
}

// Conn is a TCP connection the client opened, with the addresses it
// had (the replay reports the same, so that the filter the client builds
// to exclude its own connections is the same too).
type Conn struct {
	Local  string `json:"local"`
	Remote string `json:"remote"`
}

// Event is bytes the client wrote (c) or read (s) on a connection.
type Event struct {
	Conn int    `json:"conn"`
	Dir  string `json:"dir"`
	Hex  string `json:"hex"`
}

// ReplayServer plays a session's server side on loopback connections and
// checks the client's bytes; its Dial hands the client those connections
// dressed in the recorded addresses.
type ReplayServer struct {
	t    testing.TB
	sess Session
	ln   net.Listener

	mu      sync.Mutex
	dials   int
	dialErr error
	done    chan error
}

func NewReplayServer(t testing.TB, sess Session) *ReplayServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &ReplayServer{t: t, sess: sess, ln: ln, done: make(chan error, 1)}
	t.Cleanup(func() { ln.Close() })
	go func() { s.done <- s.play() }()
	return s
}

// Dial connects to the replay server as the next recorded connection,
// which must have been to addr.
func (s *ReplayServer) Dial(network, addr string) (net.Conn, error) {
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
func (s *ReplayServer) play() error {
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

// Wait returns the replay's outcome.
func (s *ReplayServer) Wait() error {
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

// ReadTrace reads recorded sessions from file.
func ReadTrace(t testing.TB, file string) Trace {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (record it with go test -run TestRPCAPLiveSessions -rpcap-record, PKTTAP_RPCAPD set)", err)
	}
	var tr Trace
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return tr
}
