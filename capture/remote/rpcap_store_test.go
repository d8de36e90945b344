package remote

import (
	"encoding/hex"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/internal/rpcapdtest"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// TestRPCAPSourceInStore runs an rpcap capture as pkttap-web runs a live
// source, through store.Pool.AddLive: the data connection carries what the
// real rpcapd sent in the recorded null-auth session (the control
// connection is answered by the fake server, since the store asks for
// counts when it likes), and the store's packets must equal the local
// capture of the same traffic.
func TestRPCAPSourceInStore(t *testing.T) {
	tr := rpcapdtest.ReadTrace(t, rpcapTraceFile)
	var sess rpcapdtest.Session
	for _, s := range tr.Sessions {
		if s.Name == "null-auth" {
			sess = s
		}
	}
	var data []byte
	for _, ev := range sess.Events {
		if ev.Conn == 1 && ev.Dir == "s" {
			b, err := hex.DecodeString(ev.Hex)
			if err != nil {
				t.Fatal(err)
			}
			data = append(data, b...)
		}
	}
	want := rpcapdtest.ReadLocal(t, filepath.Join("testdata", sess.Local))
	addr := startHostile(t, &hostileServer{data: data})
	c, err := OpenRPCAP(RPCAPConfig{Addr: addr, Timeout: 2 * time.Second}, CaptureOptions{Interface: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	var _ store.LiveSource = c
	p, err := store.OpenPool(store.Config{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := p.AddLive(c, store.LiveOptions{Interface: "rpcap://" + addr + "/eth0", Snaplen: capture.MaxSnaplen})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); s.Count() < len(want); {
		if time.Now().After(deadline) {
			t.Fatalf("the store has %d of %d packets after 10 s", s.Count(), len(want))
		}
		select {
		case <-s.Changed():
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := s.Stop("test"); err != nil {
		t.Fatal(err)
	}
	<-s.Done()
	var got []pcapio.Packet
	for i := range s.Count() {
		sp, err := s.Packet(i+1, dissect.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, pcapio.Packet{Timestamp: sp.Time, Data: sp.Data, Length: sp.Row.Length, LinkType: sp.LinkType})
	}
	rpcapdtest.SamePackets(t, "store", got, want, 0)
}
