//go:build linux

package sshdtest

import (
	"bytes"
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
	"golang.org/x/crypto/ssh/knownhosts"
)

// Options say how Start sets up its server.
type Options struct {
	// Path is the PATH of the server's sessions (SetEnv); "" keeps
	// sshd's default.
	Path string
}

// Server is a real OpenSSH server made for one test: running as
// `sshd -D -f CONFIG` in side B of a fresh namespace pair, with a
// generated host key and a generated user key (for root) in a temporary
// folder. The test connects from side A over the veth.
type Server struct {
	Pair       *netnstest.Pair
	Dir        string
	Addr       string // 198.18.N.2:22
	HostKey    ssh.PublicKey
	HostPub    string // the host key's .pub file
	UserKey    string // the user's private key file
	KnownHosts string // a known_hosts file that knows the host key
	cmd        *exec.Cmd
}

// Start starts a server; it skips (or fails under PKTTAP_REQUIRE)
// without root, namespaces, sshd or tcpdump.
func Start(t testing.TB, o Options) *Server {
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
	s := &Server{Pair: pair, Dir: dir, Addr: net.JoinHostPort(pair.IPB.String(), "22")}
	for _, k := range []string{"host_ed25519", "id_ed25519"} {
		if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "pkttap-test", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	s.HostPub = filepath.Join(dir, "host_ed25519.pub")
	s.UserKey = filepath.Join(dir, "id_ed25519")
	s.HostKey = ReadPublicKey(t, s.HostPub)
	userPub, err := os.ReadFile(s.UserKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	WriteFile(t, filepath.Join(dir, "authorized_keys"), string(userPub), 0o600)
	s.KnownHosts = filepath.Join(dir, "known_hosts")
	WriteFile(t, s.KnownHosts, knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey)+"\n", 0o600)
	conf := []string{
		"ListenAddress " + s.Addr,
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
	if o.Path != "" {
		env += " PATH=" + o.Path
	}
	conf = append(conf, env)
	config := filepath.Join(dir, "sshd_config")
	WriteFile(t, config, strings.Join(conf, "\n")+"\n", 0o600)
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
		s.KillSessions(t)
		s.cmd.Process.Signal(syscall.SIGTERM)
		s.cmd.Wait()
		if t.Failed() && logs.Len() > 0 {
			t.Logf("sshd's log:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; {
		var c net.Conn
		netnstest.Run(t, pair.NSA, func() { c, err = net.DialTimeout("tcp", s.Addr, time.Second) })
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd does not accept connections on %s: %v\n%s", s.Addr, err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// descendants returns the processes below sshd (the connections' sshd
// processes and what they run): pid -> command name.
func (s *Server) Descendants(t testing.TB) map[int]string {
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
func (s *Server) Running(t testing.TB, name string) []int {
	var pids []int
	for pid, c := range s.Descendants(t) {
		if c == name {
			pids = append(pids, pid)
		}
	}
	return pids
}

// KillSessions kills every process below sshd: the connections' sshd
// processes (which cuts the connections) and what they run.
func (s *Server) KillSessions(t testing.TB) {
	// The connections' sshd processes first: were the remote command
	// killed first, its shell could report the kill and the session pass
	// that exit status on before the connection dies, and the client
	// would see a command that failed instead of a connection cut.
	procs := s.Descendants(t)
	for pid, comm := range procs {
		if strings.HasPrefix(comm, "sshd") {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for pid, comm := range procs {
		if !strings.HasPrefix(comm, "sshd") {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// FakeTcpdumpHead begins a script standing in for an old tcpdump (with
// no --immediate-mode): it answers --help, and -L as tcpdump does for an
// Ethernet interface; what follows it in the script runs for a capture.
const FakeTcpdumpHead = `case "$1" in
-L) echo "Data link types for $3 (use option -y to set):" >&2; echo "  EN10MB (Ethernet)" >&2; exit 0;;
--help) echo "Usage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#] [ -B size ] [ -c count ]" >&2; exit 0;;
esac
`

// FakeBin makes a folder holding an executable named name with the given
// shell script, for the server's PATH.
func FakeBin(t testing.TB, name, script string) string {
	t.Helper()
	dir := t.TempDir()
	WriteFile(t, filepath.Join(dir, name), "#!/bin/sh\n"+script, 0o755)
	return dir
}

func WriteFile(t testing.TB, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

func ReadPublicKey(t testing.TB, path string) ssh.PublicKey {
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
func Fingerprint(t testing.TB, pub string) string {
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

// AddUser creates a system user (no home, a POSIX shell) who logs in to
// the server with its user key, and deletes it when the test ends; with
// sudoTcpdump a sudoers rule lets it run tcpdump as root without a
// password ("sudo -n tcpdump"), and RemoveSudo takes the rule away. It
// skips (or fails under PKTTAP_REQUIRE, prerequisite "sudo") without
// sudo or useradd.
func (s *Server) AddUser(t testing.TB, sudoTcpdump bool) (name string) {
	t.Helper()
	testenv.LookPath(t, "sudo", "sudo")
	useradd := testenv.LookPath(t, "sudo", "useradd")
	userdel := testenv.LookPath(t, "sudo", "userdel")
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	name = "pkttap" + strconv.FormatInt(int64(os.Getpid()%100000), 36) + strconv.FormatInt(time.Now().UnixNano()%1296, 36)
	// Password "*": no password logs in, but the account is not locked
	// ("!"), which sshd without PAM refuses even for a key.
	if out, err := exec.Command(useradd, "-M", "-N", "-p", "*", "-d", s.Dir, "-s", "/bin/sh", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		// The user's sessions end first (this runs before the server's
		// own cleanup); their processes may take a moment to go.
		s.KillSessions(t)
		var out []byte
		var err error
		for range 50 {
			if out, err = exec.Command(userdel, name).CombinedOutput(); err == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("userdel %s: %v\n%s", name, err, out)
	})
	// sshd reads the authorized keys as the user (the test's temporary
	// folders are the root's alone).
	for _, p := range []string{filepath.Dir(s.Dir), s.Dir, filepath.Join(s.Dir, "authorized_keys")} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if sudoTcpdump {
		rule := s.sudoersFile(name)
		WriteFile(t, rule, name+" ALL=(root) NOPASSWD: "+tcpdump+"\n", 0o440)
		t.Cleanup(func() { os.Remove(rule) })
	}
	return name
}

// sudoersFile is the sudoers rule file AddUser writes for user.
func (s *Server) sudoersFile(user string) string { return "/etc/sudoers.d/" + user }

// RemoveSudo takes away the sudoers rule AddUser gave user.
func (s *Server) RemoveSudo(t testing.TB, user string) {
	t.Helper()
	if err := os.Remove(s.sudoersFile(user)); err != nil {
		t.Fatal(err)
	}
}
