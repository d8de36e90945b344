//go:build linux

package remote

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/testenv"
	"golang.org/x/crypto/ssh"
)

// sshdOptions say how startSSHD sets up its server.
type sshdOptions struct {
	// path is the PATH of the server's sessions (SetEnv); "" keeps
	// sshd's default.
	path string
}

// testSSHD is a real OpenSSH server made for one test: running as
// `sshd -D -f CONFIG` in side B of a fresh namespace pair, with a
// generated host key and a generated user key (for root) in a temporary
// folder. The test connects from side A over the veth.
type testSSHD struct {
	pair       *netnstest.Pair
	dir        string
	addr       string // 198.18.N.2:22
	hostKey    ssh.PublicKey
	hostPub    string // the host key's .pub file
	userKey    string // the user's private key file
	knownHosts string // a known_hosts file that knows the host key
	cmd        *exec.Cmd
}

// startSSHD starts a server; it skips (or fails under PKTTAP_REQUIRE)
// without root, namespaces, sshd or tcpdump.
func startSSHD(t *testing.T, o sshdOptions) *testSSHD {
	t.Helper()
	testenv.Root(t)
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		testenv.Missing(t, "sshd", "Debian's OpenSSH server is not installed (apt-get install -y openssh-server)")
	}
	keygen := testenv.LookPath(t, "sshd", "ssh-keygen")
	testenv.LookPath(t, "tcpdump", "tcpdump")
	pair := netnstest.NewPair(t, netnstest.Options{Name: "remote", Static: true})
	dir := t.TempDir()
	s := &testSSHD{pair: pair, dir: dir, addr: net.JoinHostPort(pair.IPB.String(), "22")}
	for _, k := range []string{"host_ed25519", "id_ed25519"} {
		if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "pkttap-test", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	s.hostPub = filepath.Join(dir, "host_ed25519.pub")
	s.userKey = filepath.Join(dir, "id_ed25519")
	s.hostKey = readPublicKey(t, s.hostPub)
	userPub, err := os.ReadFile(s.userKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "authorized_keys"), string(userPub), 0o600)
	s.knownHosts = filepath.Join(dir, "known_hosts")
	if err := AddKnownHost(s.knownHosts, s.addr, s.hostKey); err != nil {
		t.Fatal(err)
	}
	conf := []string{
		"ListenAddress " + s.addr,
		"HostKey " + filepath.Join(dir, "host_ed25519"),
		"PidFile none",
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"StrictModes no",
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"LogLevel ERROR",
	}
	// HOME is the test's folder: no login script of the machine's root
	// (which may be slow, or print) runs in the sessions.
	env := "SetEnv HOME=" + dir
	if o.path != "" {
		env += " PATH=" + o.path
	}
	conf = append(conf, env)
	config := filepath.Join(dir, "sshd_config")
	writeFile(t, config, strings.Join(conf, "\n")+"\n", 0o600)
	// sshd insists on its privilege separation folder.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s.cmd = exec.Command("ip", "netns", "exec", pair.NSB, sshd, "-D", "-e", "-f", config)
	s.cmd.Stderr = &logs
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		s.killSessions(t)
		s.cmd.Process.Signal(syscall.SIGTERM)
		s.cmd.Wait()
		if t.Failed() && logs.Len() > 0 {
			t.Logf("sshd's log:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; {
		var c net.Conn
		netnstest.Run(t, pair.NSA, func() { c, err = net.DialTimeout("tcp", s.addr, time.Second) })
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd does not accept connections on %s: %v\n%s", s.addr, err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// config returns an SSHConfig that reaches the server as root with the
// generated key and the known_hosts file that knows it.
func (s *testSSHD) config() SSHConfig {
	return SSHConfig{Addr: s.addr, User: "root", IdentityFiles: []string{s.userKey}, KnownHostsFile: s.knownHosts, NoAgent: true, Timeout: 5 * time.Second}
}

// dial connects from side A, as DialSSH does.
func (s *testSSHD) dial(t *testing.T, cfg SSHConfig) (h *Host, err error) {
	t.Helper()
	netnstest.Run(t, s.pair.NSA, func() { h, err = DialSSH(cfg) })
	if err == nil {
		t.Cleanup(func() { h.Close() })
	}
	return h, err
}

// descendants returns the processes below sshd (the connections' sshd
// processes and what they run): pid -> command name.
func (s *testSSHD) descendants(t *testing.T) map[int]string {
	t.Helper()
	parent, comm := map[int]int{}, map[int]string{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold blanks and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		j := bytes.IndexByte(stat, '(')
		if i < 0 || j < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		parent[pid], comm[pid] = ppid, string(stat[j+1:i])
	}
	out := map[int]string{}
	root := s.cmd.Process.Pid
	for pid := range parent {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == root {
				out[pid] = comm[pid]
				break
			}
		}
	}
	return out
}

// running returns the pids of the processes named name below sshd.
func (s *testSSHD) running(t *testing.T, name string) []int {
	var pids []int
	for pid, c := range s.descendants(t) {
		if c == name {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killSessions kills every process below sshd: the connections' sshd
// processes (which cuts the connections) and what they run.
func (s *testSSHD) killSessions(t *testing.T) {
	for pid := range s.descendants(t) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// fakeBin makes a folder holding an executable named name with the given
// shell script, for the server's PATH.
func fakeBin(t *testing.T, name, script string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, name), "#!/bin/sh\n"+script, 0o755)
	return dir
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

func readPublicKey(t *testing.T, path string) ssh.PublicKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return k
}

// fingerprint returns ssh-keygen's SHA256 fingerprint of a .pub file.
func fingerprint(t *testing.T, pub string) string {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-l", "-E", "sha256", "-f", pub).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -l: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		t.Fatalf("ssh-keygen -l printed %q", out)
	}
	return f[1]
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

var _ = fmt.Sprintf
