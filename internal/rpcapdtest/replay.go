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

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/pcapio"
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
	o    ReplayOptions
	ln   net.Listener

	mu      sync.Mutex
	dials   int
	dialErr error
	done    chan error
}

// ReplayOptions change how strictly a ReplayServer follows its recording.
type ReplayOptions struct {
	// AnyStats lets the client ask for the capture's counts (STATS) as
	// often as it likes while a capture runs, as a program polling them
	// on a timer does (pkttap-web's store): an unrecorded STATS request is
	// answered with the recording's next (or last) STATS reply, and a
	// recorded one the client did not send is skipped. Every other byte
	// is still checked.
	AnyStats bool
}

// NewReplayServer starts replaying sess; the client must send exactly
// the recorded bytes.
func NewReplayServer(t testing.TB, sess Session) *ReplayServer {
	return NewReplayServerWith(t, sess, ReplayOptions{})
}

// NewReplayServerWith starts replaying sess as o says.
func NewReplayServerWith(t testing.TB, sess Session, o ReplayOptions) *ReplayServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &ReplayServer{t: t, sess: sess, o: o, ln: ln, done: make(chan error, 1)}
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
	for i := 0; i < len(s.sess.Events); i++ {
		ev := s.sess.Events[i]
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
		var n int
		if s.o.AnyStats && len(b) >= rpcapHeaderLen {
			// Read the header alone first: it may be a STATS request.
			for {
				n, err = io.ReadFull(c, got[:rpcapHeaderLen])
				if err != nil || !isStatsRequest(got) || isStatsRequest(b) {
					break
				}
				reply := s.statsReply(i)
				if reply == nil {
					return fmt.Errorf("event %d: the client asked for STATS, and the recording has no STATS reply", i)
				}
				if _, err := c.Write(reply); err != nil {
					return fmt.Errorf("event %d: answering STATS: %w", i, err)
				}
			}
			if err == nil && isStatsRequest(b) && !isStatsRequest(got) {
				// The client asked fewer times than recorded: skip this
				// request and its reply, and compare with what follows.
				j := s.nextOn(i, ev.Conn, "s")
				k := s.nextOn(j, ev.Conn, "c")
				if j < 0 || k < 0 {
					return fmt.Errorf("event %d: the client wrote % x instead of the recorded STATS request", i, got[:n])
				}
				i = k
				if b, err = hex.DecodeString(s.sess.Events[k].Hex); err != nil || len(b) < rpcapHeaderLen {
					return fmt.Errorf("event %d: bad recording (%v)", k, err)
				}
				got = append(got[:rpcapHeaderLen:rpcapHeaderLen], make([]byte, len(b)-rpcapHeaderLen)...)
			}
			if err == nil {
				var m int
				m, err = io.ReadFull(c, got[rpcapHeaderLen:])
				n += m
			}
		} else {
			n, err = io.ReadFull(c, got)
		}
		if !bytes.Equal(got[:n], b) {
			return fmt.Errorf("event %d: the client wrote on connection %d\n% x\nthe recording has\n% x\n(%v)", i, ev.Conn+1, got[:n], b, err)
		}
	}
	return nil
}

// rpcapHeaderLen is the length of an rpcap message's header: version,
// type, value (2 bytes), payload length (4 bytes).
const rpcapHeaderLen = 8

// isStatsRequest reports whether b starts with an rpcap STATS request.
func isStatsRequest(b []byte) bool { return len(b) >= 2 && b[1] == 9 }

// nextOn returns the index of the first event after i on connection conn
// in direction dir, -1 when there is none.
func (s *ReplayServer) nextOn(i, conn int, dir string) int {
	for j := i + 1; j < len(s.sess.Events); j++ {
		if e := s.sess.Events[j]; e.Conn == conn && e.Dir == dir {
			return j
		}
	}
	return -1
}

// statsReply returns the recorded reply to a STATS request, the first
// at or after event i, else the last before it; nil when there is none.
func (s *ReplayServer) statsReply(i int) []byte {
	var last []byte
	for j, e := range s.sess.Events {
		b, err := hex.DecodeString(e.Hex)
		if err != nil || e.Dir != "s" || len(b) < 2 || b[1] != 9|0x80 {
			continue
		}
		if last = b; j >= i {
			return b
		}
	}
	return last
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

// ReadLocal reads a session's local capture (Session.Local, in the
// trace's folder).
func ReadLocal(t testing.TB, file string) []pcapio.Packet {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := samplegen.ReadAll(b)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return pkts
}

// SamePackets compares the client's packets with a local capture's of
// the same traffic: the same bytes (those the snap length kept), the same
// length on the wire, and timestamps within 1 ms (each capturing socket
// stamps the packet itself: they differ by a few microseconds).
func SamePackets(t testing.TB, name string, got, want []pcapio.Packet, snaplen int) {
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
