//go:build linux

package rpcapdtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/testenv"
)

// Env names the environment variable that gives the rpcapd binary.
const Env = "PKTTAP_RPCAPD"

// Port is the port the server listens on (rpcapd's default).
const Port = 2002

// Account is a user the server's system knows, with a password.
type Account struct {
	Name, Password string
	UID            int
}

// Options say how Start runs the server.
type Options struct {
	// NullAuth lets clients in without a user name (rpcapd -n).
	NullAuth bool
	// Accounts replace the system's users for the server (root is always
	// there, with no password unless listed): the server sees a passwd and
	// shadow file made by the test, bind-mounted in its own mount
	// namespace; the machine's are not touched.
	Accounts []Account
}

// Server is a real rpcapd made for one test, in side B of a fresh
// namespace pair, listening on B's address; the test connects from side A
// over the veth.
type Server struct {
	Pair    *netnstest.Pair
	Addr    string // 198.18.N.2:2002
	Version string // what rpcapd -h says it was built with
	cmd     *exec.Cmd
	logs    *bytes.Buffer
}

// Binary returns the rpcapd binary named by PKTTAP_RPCAPD, or skips the
// test (fails it only when PKTTAP_REQUIRE names "rpcapd").
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(Env)
	if bin == "" {
		testenv.MissingUnpackaged(t, "rpcapd", "Debian does not package libpcap's rpcapd: build it from libpcap's source and set "+Env+" to the binary (the replay tests cover the protocol without it)")
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		t.Fatalf("%s=%s is not an executable: %v", Env, bin, err)
	}
	return bin
}

// Start starts a server; it skips without rpcapd, root or namespaces.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := Binary(t)
	testenv.Root(t)
	pair := netnstest.NewPair(t, netnstest.Options{Name: "rpcap", Static: true})
	s := &Server{Pair: pair, Addr: net.JoinHostPort(pair.IPB.String(), fmt.Sprint(Port)), logs: &bytes.Buffer{}}
	help, _ := exec.Command(bin, "-h").CombinedOutput()
	for _, l := range strings.Split(string(help), "\n") {
		if strings.HasPrefix(l, "Compiled with") {
			s.Version = strings.TrimSpace(l)
		}
	}
	args := []string{bin, "-b", pair.IPB.String(), "-p", fmt.Sprint(Port), "-4"}
	if o.NullAuth {
		args = append(args, "-n")
	}
	script := "exec " + quoteAll(args)
	if len(o.Accounts) > 0 {
		dir := t.TempDir()
		passwd := "root:x:0:0:root:/root:/bin/sh\n"
		rootShadow, shadow := "root:*:19000:0:99999:7:::\n", ""
		for _, a := range o.Accounts {
			hash, err := exec.Command("openssl", "passwd", "-6", "-salt", "pkttaptest", a.Password).Output()
			if err != nil {
				testenv.Missing(t, "openssl", "openssl passwd makes the accounts' password hashes (apt-get install -y openssl)")
			}
			entry := fmt.Sprintf("%s:%s:19000:0:99999:7:::\n", a.Name, strings.TrimSpace(string(hash)))
			if a.Name == "root" {
				rootShadow = entry
				continue
			}
			passwd += fmt.Sprintf("%s:x:%d:%d::/nonexistent:/usr/sbin/nologin\n", a.Name, a.UID, a.UID)
			shadow += entry
		}
		write(t, filepath.Join(dir, "passwd"), passwd, 0o644)
		write(t, filepath.Join(dir, "shadow"), rootShadow+shadow, 0o640)
		// ip netns exec runs the command in a mount namespace of its own,
		// slave to the machine's: the bind mounts stay there.
		script = fmt.Sprintf("mount --bind %s /etc/passwd && mount --bind %s /etc/shadow && %s",
			filepath.Join(dir, "passwd"), filepath.Join(dir, "shadow"), script)
	}
	s.cmd = exec.Command("ip", "netns", "exec", pair.NSB, "sh", "-c", script)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start rpcapd: %v", err)
	}
	t.Cleanup(func() {
		// rpcapd forks a process per connection: end the whole group.
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		s.cmd.Wait()
		if t.Failed() && s.logs.Len() > 0 {
			t.Logf("rpcapd's log:\n%s", s.logs.String())
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; {
		var c net.Conn
		var err error
		netnstest.Run(t, pair.NSA, func() { c, err = net.DialTimeout("tcp", s.Addr, time.Second) })
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rpcapd does not accept connections on %s: %v\n%s", s.Addr, err, s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// quoteAll quotes each argument for sh.
func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func write(t testing.TB, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}
