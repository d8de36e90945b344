//go:build linux

package remote

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/sshdtest"
)

// TestSSHSudo logs in as a user who may not capture but may run tcpdump
// through a real sudo without a password: without Sudo the capture is
// refused with what to do; with it ("sudo -n tcpdump") the packets are
// those a local tcpdump captured, and Close leaves no tcpdump running;
// once the sudoers rule is gone, sudo's refusal says what to do.
func TestSSHSudo(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	user := s.AddUser(t, true)
	cfg := sshConfig(s)
	cfg.User = user
	h, err := dial(t, s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	expr := fmt.Sprintf("udp port %d", testPort)
	_, err = h.Capture(CaptureOptions{Interface: s.Pair.IfB, Filter: expr})
	if !errors.Is(err, ErrPermissionDenied) || !strings.Contains(err.Error(), "turn on sudo") {
		t.Fatalf("without sudo: %v, want ErrPermissionDenied suggesting sudo", err)
	}

	cfg.Sudo = true
	h, err = dial(t, s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stopLocal := s.LocalTcpdump(t, expr)
	c, err := h.Capture(CaptureOptions{Interface: s.Pair.IfB, Filter: expr})
	if err != nil {
		t.Fatal(err)
	}
	sendAndCompare(t, s, c, stopLocal, 8)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	waitNoTcpdump(t, s)

	s.RemoveSudo(t, user)
	_, err = h.Capture(CaptureOptions{Interface: s.Pair.IfB, Filter: expr})
	if !errors.Is(err, ErrPermissionDenied) || !strings.Contains(err.Error(), "NOPASSWD") {
		t.Fatalf("sudo without a rule: %v, want ErrPermissionDenied asking for a NOPASSWD rule", err)
	}
}
