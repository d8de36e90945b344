package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/rpcapdtest"
	"github.com/pkttap/pkttap/internal/sshdtest"
)

// TestSSHSource runs pkttap-inspect against a real sshd: an unknown host
// is refused with its fingerprint and the flag that accepts it; -D with
// that flag lists the remote interfaces and remembers the host; an
// ssh:// source captures with a filter into a file tcpdump reads.
func TestSSHSource(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	base := []string{"--identity", s.UserKey, "--known-hosts", kh}
	host := "ssh://root@" + s.Addr

	cmd, _, errb := startInNetns(t, s.Pair.NSA, append(base, "-D", host)...)
	if err := cmd.Wait(); err == nil {
		t.Fatal("an unknown host was accepted")
	}
	fp := sshdtest.Fingerprint(t, s.HostPub)
	if !strings.Contains(errb.String(), "--accept-host-key "+fp) {
		t.Fatalf("stderr does not offer to accept %s:\n%s", fp, errb)
	}

	cmd, out, errb := startInNetns(t, s.Pair.NSA, append(base, "-D", host, "--accept-host-key", fp)...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("-D: %v\n%s", err, errb)
	}
	if !strings.Contains(out.String(), "."+s.Pair.IfB+" [Up]\n") {
		t.Errorf("-D printed:\n%s", out)
	}

	file := filepath.Join(t.TempDir(), "remote.pcap")
	cmd, out, errb = startInNetns(t, s.Pair.NSA, append(base, "-c", "3", "-w", file, "-q", host+"/"+s.Pair.IfB, "udp", "port", "9999")...)
	if err := waitExit(t, s.Pair, cmd, true); err != nil {
		t.Fatalf("pkttap-inspect: %v\n%s", err, errb)
	}
	if !strings.Contains(out.String(), "3 packets captured\n3 packets received by filter\n") {
		t.Errorf("output:\n%s", out)
	}
	read, err := exec.Command("tcpdump", "-r", file, "-nn", "-A").Output()
	if err != nil {
		t.Fatalf("tcpdump -r: %v", err)
	}
	if n := strings.Count(string(read), "pkttap-inspect live test"); n != 3 || strings.Count(string(read), ".9999: UDP") != 3 {
		t.Errorf("tcpdump reads %d of the test datagrams in:\n%s", n, read)
	}
	if left := s.Running(t, "tcpdump"); len(left) > 0 {
		t.Errorf("tcpdump still runs on the remote host after pkttap-inspect ended: %v", left)
	}
}

func TestParseSSHURL(t *testing.T) {
	for _, tc := range []struct {
		in, addr, user, iface string
		bad                   bool
	}{
		{in: "ssh://root@198.18.1.2/eth0", addr: "198.18.1.2:22", user: "root", iface: "eth0"},
		{in: "ssh://me@host:2222/any", addr: "host:2222", user: "me", iface: "any"},
		{in: "ssh://host", addr: "host:22"},
		{in: "ssh://u@[2001:db8::1]:22/en0", addr: "[2001:db8::1]:22", user: "u", iface: "en0"},
		{in: "ssh://u:secret@host/eth0", bad: true},
		{in: "ssh:///eth0", bad: true},
		{in: "ssh://host/eth0?x=1", bad: true},
	} {
		addr, user, iface, err := parseSSHURL(tc.in)
		if (err != nil) != tc.bad || !tc.bad && (addr != tc.addr || user != tc.user || iface != tc.iface) {
			t.Errorf("%s: %q %q %q %v", tc.in, addr, user, iface, err)
		}
	}
}

// TestRPCAPSource runs pkttap-inspect against a real rpcapd: -D lists the
// server's interfaces; an rpcap:// source logs in with the password from
// the environment and captures with a filter into a file tcpdump reads; a
// wrong password fails with what to do.
func TestRPCAPSource(t *testing.T) {
	s := rpcapdtest.Start(t, rpcapdtest.Options{Accounts: []rpcapdtest.Account{{Name: "root", Password: "inspect-pw"}}})
	host := "rpcap://root@" + s.Addr
	t.Setenv("PKTTAP_RPCAP_PASSWORD", "inspect-pw")
	cmd, out, errb := startInNetns(t, s.Pair.NSA, "-D", host)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("-D: %v\n%s", err, errb)
	}
	if !strings.Contains(out.String(), "."+s.Pair.IfB+" [Up]\n") {
		t.Errorf("-D printed:\n%s", out)
	}
	for _, data := range []string{"tcp", "udp"} {
		file := filepath.Join(t.TempDir(), "remote.pcap")
		cmd, out, errb = startInNetns(t, s.Pair.NSA, "--rpcap-data", data, "-c", "3", "-w", file, "-q", host+"/"+s.Pair.IfB, "udp", "port", "9999")
		if err := waitExit(t, s.Pair, cmd, true); err != nil {
			t.Fatalf("pkttap-inspect: %v\n%s", err, errb)
		}
		if !strings.Contains(out.String(), "3 packets captured\n") {
			t.Errorf("output:\n%s", out)
		}
		read, err := exec.Command("tcpdump", "-r", file, "-nn", "-A").Output()
		if err != nil {
			t.Fatalf("tcpdump -r: %v", err)
		}
		if n := strings.Count(string(read), "pkttap-inspect live test"); n != 3 || strings.Count(string(read), ".9999: UDP") != 3 {
			t.Errorf("--rpcap-data %s: tcpdump reads %d of the test datagrams in:\n%s", data, n, read)
		}
	}
	t.Setenv("PKTTAP_RPCAP_PASSWORD", "wrong")
	cmd, _, errb = startInNetns(t, s.Pair.NSA, "-D", host)
	if err := cmd.Wait(); err == nil || !strings.Contains(errb.String(), "authentication failed") {
		t.Errorf("a wrong password: %v\n%s", err, errb)
	}
}

func TestParseRPCAPURL(t *testing.T) {
	for _, tc := range []struct {
		in, addr, user, iface string
		bad                   bool
	}{
		{in: "rpcap://198.18.1.2/eth0", addr: "198.18.1.2:2002", iface: "eth0"},
		{in: "rpcap://me@host:2222/any", addr: "host:2222", user: "me", iface: "any"},
		{in: "rpcap://host", addr: "host:2002"},
		{in: "rpcap://[2001:db8::1]:2002/en0", addr: "[2001:db8::1]:2002", iface: "en0"},
		{in: `rpcap://win/\Device\NPF_{8A4B2E0C-1D2E-4F5A-9B6C-7D8E9F0A1B2C}`, addr: "win:2002", iface: `\Device\NPF_{8A4B2E0C-1D2E-4F5A-9B6C-7D8E9F0A1B2C}`},
		{in: "rpcap://u:secret@host/eth0", bad: true},
		{in: "rpcap:///eth0", bad: true},
		{in: "rpcap://host:99999/eth0", bad: true},
		{in: "rpcap://host?x=1/eth0", bad: true},
	} {
		addr, user, iface, err := parseRPCAPURL(tc.in)
		if (err != nil) != tc.bad || !tc.bad && (addr != tc.addr || user != tc.user || iface != tc.iface) {
			t.Errorf("%s: %q %q %q %v", tc.in, addr, user, iface, err)
		}
	}
}
