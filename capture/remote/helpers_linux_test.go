//go:build linux

package remote

import (
	"bufio"
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/sshdtest"
)

// sshConfig returns an SSHConfig that reaches the server as root with the
// generated key and the known_hosts file that knows it.
func sshConfig(s *sshdtest.Server) SSHConfig {
	return SSHConfig{Addr: s.Addr, User: "root", IdentityFiles: []string{s.UserKey}, KnownHostsFile: s.KnownHosts, NoAgent: true, Timeout: 5 * time.Second}
}

// dial connects to s from side A, as DialSSH does.
func dial(t testing.TB, s *sshdtest.Server, cfg SSHConfig) (h *Host, err error) {
	t.Helper()
	netnstest.Run(t, s.Pair.NSA, func() { h, err = DialSSH(cfg) })
	if err == nil {
		t.Cleanup(func() { h.Close() })
	}
	return h, err
}

// tcpdumpHex reads a capture file with tcpdump -r -xx and returns each
// packet's bytes as tcpdump prints them.
func tcpdumpHex(t *testing.T, file string) [][]byte {
	t.Helper()
	out, err := exec.Command("tcpdump", "-r", file, "-nn", "-xx").Output()
	if err != nil {
		t.Fatalf("tcpdump -r %s: %v", file, err)
	}
	var pkts [][]byte
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "\t0x") {
			pkts = append(pkts, nil)
			continue
		}
		_, hexPart, _ := strings.Cut(line, ":")
		for _, w := range strings.Fields(hexPart) {
			for i := 0; i+2 <= len(w); i += 2 {
				v, err := strconv.ParseUint(w[i:i+2], 16, 8)
				if err != nil {
					t.Fatalf("tcpdump hex %q: %v", line, err)
				}
				pkts[len(pkts)-1] = append(pkts[len(pkts)-1], byte(v))
			}
		}
	}
	return pkts
}
