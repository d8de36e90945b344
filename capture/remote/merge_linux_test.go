//go:build linux

package remote

import (
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/sshdtest"
	"github.com/pkttap/pkttap/pcapio"
)

// TestSSHMergeSlowReader: a remote tcpdump's stream is drained while the
// reader of the merged capture it is a source of reads nothing (a slow
// disk): during a flood the source keeps receiving, the packets its
// bounded queue cannot hold are dropped and counted, and the reader then
// gets the queued packets at once.
func TestSSHMergeSlowReader(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	h, err := dial(t, s, sshConfig(s))
	if err != nil {
		t.Fatal(err)
	}
	c, err := h.Capture(CaptureOptions{Interface: s.Pair.IfB, Filter: "udp dst port 9", Snaplen: 128})
	if err != nil {
		t.Fatal(err)
	}
	const maxPending = 64 << 10
	m, err := capture.Merge(capture.MergeOptions{MaxPending: maxPending},
		capture.MergeInput{Reader: c, Interface: pcapio.Interface{Name: "host:" + s.Pair.IfB, LinkType: c.LinkType()}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if netnstest.FloodPort != 9 {
		t.Fatalf("the flood goes to port %d", netnstest.FloodPort)
	}
	stop := s.Pair.Flood(t)
	time.Sleep(500 * time.Millisecond)
	early := m.Sources()[0]
	time.Sleep(time.Second)
	stop()
	time.Sleep(300 * time.Millisecond)
	late := m.Sources()[0]
	t.Logf("nobody reading: received %d after 0.5 s, %d after 1.5 s; %d dropped by the merge", early.Stats.Received, late.Stats.Received, late.Overflow)
	if late.Stats.Received <= early.Stats.Received || late.Overflow == 0 {
		t.Fatalf("the source was not drained while the merged capture was not read: %+v then %+v", early, late)
	}
	queued := late.Stats.Received - late.Overflow
	if queued*128 > 2*maxPending {
		t.Errorf("%d packets queued, more than %d bytes hold", queued, maxPending)
	}
	start := time.Now()
	for range queued {
		if _, err := m.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("reading the %d queued packets took %v", queued, took)
	}
}
