package remote

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/rpcapdtest"
)

// TestRPCAPReplay replays the conversations recorded from a real rpcapd
// (see rpcapTraceFile; Debian does not package rpcapd, so CI cannot run
// one): a fake server plays the recorded server side on loopback, byte for
// byte, and checks that the client sends exactly the bytes the recording
// has, for the same script. The packets the client returns must equal the
// local capture of the same traffic made while recording (which the live
// test compared with tshark's reading).
func TestRPCAPReplay(t *testing.T) {
	tr := rpcapdtest.ReadTrace(t, rpcapTraceFile)
	if len(tr.Sessions) == 0 {
		t.Fatalf("%s holds no session", rpcapTraceFile)
	}
	for _, sess := range tr.Sessions {
		t.Run(sess.Name, func(t *testing.T) {
			srv := rpcapdtest.NewReplayServer(t, sess)
			cfg := RPCAPConfig{Addr: sess.Conns[0].Remote, Timeout: 5 * time.Second, Dial: srv.Dial}
			res := runSession(t, sess, cfg, func(f func()) { f() }, nil)
			if err := srv.Wait(); err != nil {
				t.Fatal(err)
			}
			if got := prefixes(res.ifs, sess.Interface); sess.WantErr == "" && got != sess.IfAddresses {
				t.Errorf("Interfaces lists %s with %s, the recording %s", sess.Interface, got, sess.IfAddresses)
			}
			if sess.Local == "" {
				return
			}
			rpcapdtest.SamePackets(t, sess.Name, res.pkts, rpcapdtest.ReadLocal(t, filepath.Join("testdata", sess.Local)), sess.Snaplen)
			if res.stats.Received != sess.Received {
				t.Errorf("Stats after Close = %+v, the recording's server counted %d", res.stats, sess.Received)
			}
		})
	}
}
