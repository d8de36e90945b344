package remote

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/rpcapdtest"
)

// rpcapFuzzSeeds returns the server's side of each recorded session: what
// it sent on the control connection, and on the data connection.
func rpcapFuzzSeeds(f *testing.F) [][2][]byte {
	b, err := os.ReadFile(rpcapTraceFile)
	if err != nil {
		f.Fatal(err)
	}
	var tr rpcapdtest.Trace
	if err := json.Unmarshal(b, &tr); err != nil {
		f.Fatal(err)
	}
	var seeds [][2][]byte
	for _, sess := range tr.Sessions {
		// The control connection is the last one to the server's port
		// (a session may first try a wrong password).
		ctrl := 0
		for i, c := range sess.Conns {
			if c.Remote == sess.Conns[0].Remote {
				ctrl = i
			}
		}
		var s [2][]byte
		for _, ev := range sess.Events {
			if ev.Dir != "s" || ev.Conn < ctrl {
				continue
			}
			d, _ := hex.DecodeString(ev.Hex)
			if ev.Conn == ctrl {
				s[0] = append(s[0], d...)
			} else {
				s[1] = append(s[1], d...)
			}
		}
		seeds = append(seeds, s)
	}
	return seeds
}

// FuzzRPCAPClient plays arbitrary bytes as the server's side of the
// control and data connections to a client that authenticates, lists the
// interfaces, captures and closes: it must never panic or hang, every
// error must be one the package documents, and every packet must keep
// within the snap length it asked for.
func FuzzRPCAPClient(f *testing.F) {
	for _, s := range rpcapFuzzSeeds(f) {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, ctrl, data []byte) {
		served := [][]byte{ctrl, data}
		dials := 0
		dial := func(string, string) (net.Conn, error) {
			if dials >= len(served) {
				return nil, errors.New("no more connections")
			}
			c, srv := net.Pipe()
			go io.Copy(io.Discard, srv)
			go func(b []byte) {
				srv.Write(b)
				srv.Close()
			}(served[dials])
			dials++
			return c, nil
		}
		const snaplen = 300
		h, err := DialRPCAP(RPCAPConfig{Addr: "192.0.2.1:2002", Timeout: time.Second, Dial: dial})
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		defer h.Close()
		if _, err := h.Interfaces(); err != nil {
			checkFuzzErr(t, err)
		}
		c, err := h.Capture(CaptureOptions{Interface: "eth0", Snaplen: snaplen})
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		defer c.Close()
		for range 1000 {
			p, err := c.Next()
			if err != nil {
				checkFuzzErr(t, err)
				break
			}
			if len(p.Data) > snaplen || p.Length < len(p.Data) {
				t.Fatalf("a packet of %d bytes, %d on the wire (snap length %d)", len(p.Data), p.Length, snaplen)
			}
		}
	})
}

// checkFuzzErr fails unless err is one the package documents.
func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	var se *rpcapServerError
	for _, known := range []error{ErrProtocol, ErrConnectionLost, ErrAuthentication, ErrNoSuchInterface, ErrPermissionDenied} {
		if errors.Is(err, known) {
			return
		}
	}
	if errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return
	}
	if err.Error() != "" && (containsFold(err.Error(), "protocol versions") || containsFold(err.Error(), "closed")) {
		return
	}
	t.Fatalf("an undocumented error: %v (%T)", err, err)
}
