//go:build linux

package remote

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/internal/sshdtest"
	"github.com/pkttap/pkttap/pcapio"
)

// testPort is the UDP port the tests' known traffic goes to.
const testPort = 5555

func payloads(n int) [][]byte {
	var ps [][]byte
	for i := range n {
		ps = append(ps, fmt.Appendf(nil, "pkttap remote capture test datagram %03d %s", i, strings.Repeat("x", i*17)))
	}
	return ps
}

// TestSSHCaptureMatchesLocalTcpdump captures known UDP traffic on a
// remote interface through a real sshd and tcpdump, and compares every
// packet's bytes with tcpdump's reading of a local capture of the same
// traffic. Close must leave no tcpdump running on the remote host.
func TestSSHCaptureMatchesLocalTcpdump(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	h, err := dial(t, s, sshConfig(s))
	if err != nil {
		t.Fatal(err)
	}
	ifs, err := h.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, ifc := range ifs {
		found = found || ifc.Name == s.Pair.IfB && ifc.Up
	}
	if !found {
		t.Fatalf("Interfaces() = %+v, want %s, up", ifs, s.Pair.IfB)
	}

	opts, err := h.FilterOptions(s.Pair.IfB, 0)
	if err != nil || opts.LinkType != pcapio.LinkTypeEthernet || opts.Target != filter.TargetLinuxSocket {
		t.Errorf("FilterOptions(%s) = %+v, %v; want Ethernet for a Linux socket", s.Pair.IfB, opts, err)
	}

	expr := fmt.Sprintf("udp port %d", testPort)
	stopLocal := s.LocalTcpdump(t, expr)
	c, err := h.Capture(CaptureOptions{Interface: s.Pair.IfB, Filter: expr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.LinkType() != pcapio.LinkTypeEthernet {
		t.Errorf("LinkType() = %v, want Ethernet", c.LinkType())
	}
	if got := s.Running(t, "tcpdump"); len(got) != 1 {
		t.Errorf("%d tcpdump processes run under sshd while capturing, want 1", len(got))
	}
	const n = 20
	sendAndCompare(t, s, c, stopLocal, n)
	st, err := c.Stats()
	if err != nil || st.Received != n {
		t.Errorf("Stats() = %+v, %v; want %d received", st, err, n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Next(); !errors.Is(err, capture.ErrClosed) {
		t.Errorf("Next after Close = %v, want ErrClosed", err)
	}
	waitNoTcpdump(t, s)
}

// sendAndCompare sends n datagrams to the server's side, reads them from
// c and compares each with the local tcpdump's capture stopLocal returns:
// the same bytes, lengths and link type.
func sendAndCompare(t *testing.T, s *sshdtest.Server, c *capture.Capture, stopLocal func(int) string, n int) {
	t.Helper()
	s.Pair.SendUDP(t, testPort, payloads(n)...)
	got := readPackets(t, c, n)
	want := tcpdumpHex(t, stopLocal(n))
	if len(want) != n {
		t.Fatalf("the local tcpdump captured %d packets, want %d", len(want), n)
	}
	for i := range n {
		if !bytes.Equal(got[i].Data, want[i]) {
			t.Errorf("packet %d: the SSH source has\n% x\nthe local tcpdump\n% x", i+1, got[i].Data, want[i])
		}
		if got[i].Length != len(want[i]) || got[i].LinkType != pcapio.LinkTypeEthernet {
			t.Errorf("packet %d: length %d link type %v", i+1, got[i].Length, got[i].LinkType)
		}
	}
}

// waitNoTcpdump fails the test unless no tcpdump runs under sshd within a
// few seconds.
func waitNoTcpdump(t *testing.T, s *sshdtest.Server) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		left := s.Running(t, "tcpdump")
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tcpdump still runs on the remote host after Close: pids %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
