//go:build linux

package remote

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/internal/sshdtest"
	"github.com/pkttap/pkttap/internal/testenv"
)

// TestSSHHostKeysAndAuthentication: an unknown host fails with its
// fingerprint (as ssh-keygen prints it) and connects once accepted; a
// changed key and a wrong user key fail with errors that say so.
func TestSSHHostKeysAndAuthentication(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})

	t.Run("unknown host", func(t *testing.T) {
		cfg := sshConfig(s)
		cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts") // missing: knows no host
		_, err := dial(t, s, cfg)
		var unknown *UnknownHostKeyError
		if !errors.As(err, &unknown) {
			t.Fatalf("err = %v, want *UnknownHostKeyError", err)
		}
		if want := sshdtest.Fingerprint(t, s.HostPub); unknown.Fingerprint != want || !strings.Contains(err.Error(), want) {
			t.Errorf("fingerprint %q (%v), ssh-keygen says %s", unknown.Fingerprint, err, want)
		}
		// The user accepts the key: the next connection succeeds.
		if err := AddKnownHost(cfg.KnownHostsFile, unknown.Host, unknown.Key); err != nil {
			t.Fatal(err)
		}
		if _, err := dial(t, s, cfg); err != nil {
			t.Fatalf("after AddKnownHost: %v", err)
		}
	})

	t.Run("changed host key", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other")
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
		cfg := sshConfig(s)
		cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		if err := AddKnownHost(cfg.KnownHostsFile, s.Addr, sshdtest.ReadPublicKey(t, other+".pub")); err != nil {
			t.Fatal(err)
		}
		_, err := dial(t, s, cfg)
		var changed *ChangedHostKeyError
		if !errors.As(err, &changed) {
			t.Fatalf("err = %v, want *ChangedHostKeyError", err)
		}
		if changed.Fingerprint != sshdtest.Fingerprint(t, s.HostPub) || len(changed.Known) != 1 || changed.Known[0].Line != 1 || !strings.Contains(err.Error(), "has changed") {
			t.Errorf("err = %v (%+v)", err, changed)
		}
	})

	t.Run("wrong user key", func(t *testing.T) {
		wrong := filepath.Join(t.TempDir(), "id_wrong")
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", wrong).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
		cfg := sshConfig(s)
		cfg.IdentityFiles = []string{wrong}
		_, err := dial(t, s, cfg)
		if !errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), "authorized_keys") {
			t.Fatalf("err = %v, want ErrAuthentication saying what to do", err)
		}
	})

	t.Run("unknown interface", func(t *testing.T) {
		h, err := dial(t, s, sshConfig(s))
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.Capture(CaptureOptions{Interface: "nosuch0"})
		if !errors.Is(err, ErrNoSuchInterface) || !strings.Contains(err.Error(), "nosuch0") {
			t.Fatalf("err = %v, want ErrNoSuchInterface naming it", err)
		}
	})
}

// TestSSHTcpdumpMissing: a host whose PATH has no tcpdump.
func TestSSHTcpdumpMissing(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{Path: t.TempDir()})
	h, err := dial(t, s, sshConfig(s))
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Capture(CaptureOptions{Interface: s.Pair.IfB})
	if !errors.Is(err, ErrTcpdumpMissing) || !strings.Contains(err.Error(), "install") {
		t.Fatalf("Capture: err = %v, want ErrTcpdumpMissing", err)
	}
	if _, err := h.Interfaces(); !errors.Is(err, ErrTcpdumpMissing) {
		t.Fatalf("Interfaces: err = %v, want ErrTcpdumpMissing", err)
	}
}

// TestSSHInterfacesFromIPLink: without tcpdump, Interfaces falls back to
// ip -o link.
func TestSSHInterfacesFromIPLink(t *testing.T) {
	ip := testenv.LookPath(t, "netns", "ip")
	bin := t.TempDir()
	if err := os.Symlink(ip, filepath.Join(bin, "ip")); err != nil {
		t.Fatal(err)
	}
	s := sshdtest.Start(t, sshdtest.Options{Path: bin})
	h, err := dial(t, s, sshConfig(s))
	if err != nil {
		t.Fatal(err)
	}
	ifs, err := h.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"lo": false, s.Pair.IfB: false}
	for _, ifc := range ifs {
		if _, ok := want[ifc.Name]; ok {
			want[ifc.Name] = ifc.Up
		}
	}
	if !want["lo"] || !want[s.Pair.IfB] {
		t.Fatalf("Interfaces() = %+v, want lo and %s, up", ifs, s.Pair.IfB)
	}
}

// fakeTcpdump is a script standing in for an old tcpdump: it answers -L
// as tcpdump does for an Ethernet interface, --help without
// --immediate-mode, and runs body for a capture.
func fakeTcpdump(t *testing.T, body string) string {
	return sshdtest.FakeBin(t, "tcpdump", sshdtest.FakeTcpdumpHead+body)
}

// TestSSHGarbageStream: a remote "tcpdump" that writes text.
func TestSSHGarbageStream(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{Path: fakeTcpdump(t, "echo 'Welcome to the machine!'\n")})
	h, err := dial(t, s, sshConfig(s))
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Capture(CaptureOptions{Interface: "eth0"})
	if !errors.Is(err, ErrNotPcap) || !strings.Contains(err.Error(), "Welcome to the machine!") {
		t.Fatalf("err = %v, want ErrNotPcap quoting what came", err)
	}
}

// pcapStream returns a pcap header and n Ethernet records of 60 bytes,
// then the header and first 10 bytes of one more: a stream cut inside a
// packet.
func pcapStream(n int) []byte {
	b := pcapHeader()
	for i := range n + 1 {
		b = pcapRecordHeader(b, uint32(1000+i), 0, 60)
		frame := make([]byte, 60)
		frame[59] = byte(i)
		if i == n {
			frame = frame[:10]
		}
		b = append(b, frame...)
	}
	return b
}

// TestSSHConnectionCutMidPacket: the connection dies while a packet is
// half sent; the packets before it are returned, then ErrConnectionLost.
func TestSSHConnectionCutMidPacket(t *testing.T) {
	dir := t.TempDir()
	stream := filepath.Join(dir, "stream.pcap")
	sshdtest.WriteFile(t, stream, string(pcapStream(3)), 0o644)
	s := sshdtest.Start(t, sshdtest.Options{Path: fakeTcpdump(t, "/bin/cat "+stream+"\nexec /bin/sleep 20\n")})
	h, err := dial(t, s, sshConfig(s))
	if err != nil {
		t.Fatal(err)
	}
	c, err := h.Capture(CaptureOptions{Interface: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pkts := readPackets(t, c, 3)
	for i, p := range pkts {
		if len(p.Data) != 60 || p.Data[59] != byte(i) {
			t.Errorf("packet %d: % x", i+1, p.Data)
		}
	}
	s.KillSessions(t) // the server side of the connection dies
	_, err = c.Next()
	if !errors.Is(err, ErrConnectionLost) || !strings.Contains(err.Error(), "inside a packet") || !strings.Contains(err.Error(), "after 3 packets") {
		t.Fatalf("err = %v, want ErrConnectionLost after 3 packets, inside a packet", err)
	}
	if st, _ := c.Stats(); st.Received != 3 {
		t.Errorf("Stats().Received = %d, want 3", st.Received)
	}
}

// TestSSHHostileArguments: filters and interface names made to break out
// of the remote command never run anything there (a marker file is never
// created): filters the compiler rejects are not sent (the error has the
// column), interface names reach tcpdump as one word, and valid filters
// full of shell metacharacters reach tcpdump intact (the capture works).
func TestSSHHostileArguments(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	h, err := dial(t, s, sshConfig(s))
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "marker")
	hostile := []string{
		"udp; touch " + marker,
		"$(touch " + marker + ")",
		"`touch " + marker + "`",
		"udp' ; touch " + marker + " ; echo '",
		"udp\ntouch " + marker,
		`udp" ; touch ` + marker + ` ; echo "`,
		"udp && touch " + marker,
		"udp | touch " + marker,
		"udp > " + marker,
	}
	for _, f := range hostile {
		_, err := h.Capture(CaptureOptions{Interface: s.Pair.IfB, Filter: f})
		var fe *filter.Error
		if !errors.As(err, &fe) || fe.Column < 1 || !strings.Contains(err.Error(), "nothing was sent") {
			t.Errorf("filter %q: err = %v, want a *filter.Error with its column", f, err)
		}
	}
	for _, name := range hostile {
		_, err := h.Capture(CaptureOptions{Interface: name})
		if !errors.Is(err, ErrNoSuchInterface) {
			t.Errorf("interface %q: err = %v, want ErrNoSuchInterface", name, err)
		}
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a hostile argument ran a command on the remote host: %s exists (%v)", marker, err)
	}

	// Valid filters with &, |, !, <, >, *, parentheses and a newline.
	expr := fmt.Sprintf("udp port %d and (ip[0] & 0xf != 0 or ip[1] | 1 > 0)\nand !(ip[8] * 2 < 1) and not tcp", testPort)
	c, err := h.Capture(CaptureOptions{Interface: s.Pair.IfB, Filter: expr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s.Pair.SendUDP(t, testPort+1, []byte("not this one"))
	s.Pair.SendUDP(t, testPort, payloads(3)...)
	for i, p := range readPackets(t, c, 3) {
		if !strings.Contains(string(p.Data), fmt.Sprintf("datagram %03d", i)) {
			t.Errorf("packet %d is not datagram %d: %q", i+1, i, p.Data)
		}
	}
}

// pcapHeader returns a little-endian pcap file header for Ethernet with
// the maximum snap length.
func pcapHeader() []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b2c3d4)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 262144)
	return le.AppendUint32(b, 1)
}

// pcapRecordHeader appends a record header for a whole packet of n bytes.
func pcapRecordHeader(b []byte, sec, usec uint32, n int) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, sec)
	b = le.AppendUint32(b, usec)
	b = le.AppendUint32(b, uint32(n))
	return le.AppendUint32(b, uint32(n))
}

// TestSSHSilentHost: the host stops answering in the middle of a capture
// (its link goes down: no reset, no end of file, nothing). The keepalive
// notices within a few intervals and the capture ends with
// ErrConnectionLost saying so, after the packets received before.
func TestSSHSilentHost(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	cfg := sshConfig(s)
	cfg.KeepAlive = 200 * time.Millisecond
	h, err := dial(t, s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := h.Capture(CaptureOptions{Interface: s.Pair.IfB, Filter: fmt.Sprintf("udp port %d", testPort)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s.Pair.SendUDP(t, testPort, payloads(3)...)
	readPackets(t, c, 3)
	if out, err := exec.Command("ip", "-n", s.Pair.NSB, "link", "set", s.Pair.IfB, "down").CombinedOutput(); err != nil {
		t.Fatalf("ip link set down: %v\n%s", err, out)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { _, err := c.Next(); done <- err }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the capture of a silent host did not end within 10 s")
	}
	if !errors.Is(err, ErrConnectionLost) || !strings.Contains(err.Error(), "went silent") || !strings.Contains(err.Error(), "after 3 packets") {
		t.Fatalf("err = %v, want ErrConnectionLost: the host went silent after 3 packets", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("noticed after %v; the keepalive interval is %v", took, cfg.KeepAlive)
	}
}
