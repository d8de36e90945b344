package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/syncbuf"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

// TestMain removes the binary built for the live tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// inspectBinary builds pkttap-inspect once per test run.
func inspectBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "pkttap-inspect-test")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "pkttap-inspect")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// newVethPair makes the test's namespaces, A (198.18.8.1) sending and B
// (198.18.8.2) capturing, with static neighbour entries so only the test's
// traffic crosses the link.
func newVethPair(t *testing.T) *netnstest.Pair {
	t.Helper()
	return netnstest.NewPair(t, netnstest.Options{Name: "inspect", Subnet: 8, Static: true})
}

// startInNetns starts pkttap-inspect in namespace ns and returns it with
// its stdout and stderr buffers.
func startInNetns(t *testing.T, ns string, args ...string) (*exec.Cmd, *syncbuf.Buffer, *syncbuf.Buffer) {
	t.Helper()
	bin := inspectBinary(t)
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
	var out, errb syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, &out, &errb
}

// waitExit waits for cmd, at most 10 s; with send it meanwhile sends a UDP
// datagram from A to B's port 9999 every 20 ms, at most 200 of them.
func waitExit(t *testing.T, v *netnstest.Pair, cmd *exec.Cmd, send bool) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			if send && i < 200 {
				v.SendUDP(t, 9999, []byte("pkttap-inspect live test"))
			}
			if i > 500 {
				t.Fatal("pkttap-inspect did not exit within 10s")
			}
		}
	}
}

func TestLiveCount(t *testing.T) {
	v := newVethPair(t)
	cmd, out, errb := startInNetns(t, v.NSB, "-c", "3", v.IfB, "udp", "port", "9999")
	if err := waitExit(t, v, cmd, true); err != nil {
		t.Fatalf("pkttap-inspect: %v\n%s", err, errb)
	}
	lines := strings.Split(out.String(), "\n")
	headers := 0
	for _, l := range lines {
		if m := headerRE.FindStringSubmatch(l); m != nil {
			headers++
			if m[4] != "Ethernet" || m[5] != "66" {
				t.Errorf("header %q: want an Ethernet packet of 66 bytes", l)
			}
		}
	}
	if headers != 3 || !strings.Contains(out.String(), "|-inspect live te|") || !strings.Contains(out.String(), "\n3 packets captured\n") {
		t.Errorf("output:\n%s", out)
	}
	if !regexp.MustCompile(`\n\d+ packets received by filter\n0 packets dropped by kernel\n$`).MatchString(out.String()) {
		t.Errorf("no kernel counts at the end of:\n%s", out)
	}
}

// TestLiveInterrupt stops a live capture with SIGINT, as Ctrl-C does, and
// with SIGTERM and SIGHUP (a closed terminal), and checks each flushes and
// closes the -w file and prints the counts.
func TestLiveInterrupt(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) { liveInterrupt(t, sig) })
	}
}

func liveInterrupt(t *testing.T, sig syscall.Signal) {
	v := newVethPair(t)
	file := filepath.Join(t.TempDir(), "live.pcapng")
	bin := inspectBinary(t)
	// ip netns exec execs pkttap-inspect in place, so the signal reaches it.
	cmd := exec.Command("ip", "netns", "exec", v.NSB, bin, "-w", file, "-S", v.IfB, "udp")
	var out, errb syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "→") && time.Now().Before(deadline) {
		v.SendUDP(t, 9999, []byte("before the interrupt"))
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, v, cmd, false); err != nil {
		t.Fatalf("after %v: %v\n%s", sig, err, errb.String())
	}
	m := regexp.MustCompile(`\n(\d+) packets captured\n(\d+) packets received by filter\n0 packets dropped by kernel\n$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output after %v:\n%s", sig, out.String())
	}
	n := len(readFile(t, file))
	if m[1] == "0" || m[1] != strconv.Itoa(n) {
		t.Errorf("printed %s packets captured, the -w file holds %d", m[1], n)
	}
}

// TestBrokenPipeClosesDump runs pkttap-inspect -S -w FILE with standard
// output a pipe nobody reads (as "| head" leaves it): writing the text
// fails instead of SIGPIPE killing the process with the -w file's packets
// still in its buffer, so the file is closed whole, and the process ends
// quietly, as tcpdump does under "| head".
func TestBrokenPipeClosesDump(t *testing.T) {
	var pkts []pcapio.Packet
	for i := range 500 {
		for _, p := range testPackets() {
			p.Timestamp = p.Timestamp.Add(time.Duration(i) * time.Second)
			pkts = append(pkts, p)
		}
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pcap"), filepath.Join(dir, "out.pcap")
	if err := capture.DumpPackets(in, pcapio.LinkTypeEthernet, pkts); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	cmd := exec.Command(inspectBinary(t), "-S", "-w", out, in)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &errb
	err = cmd.Run()
	w.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || errb.Len() != 0 {
		t.Fatalf("pkttap-inspect -S -w into a closed pipe: %v, %q; want exit status 1 and nothing on standard error, as \"| head\" expects", err, errb.String())
	}
	if n := len(readFile(t, out)); n == 0 {
		t.Error("the -w file after a broken pipe holds no packet")
	}
}

// TestDumpProgramForInterfaceUnprivileged: -d -i IF compiles for the link
// type the interface list gives, opening no capture, so it needs no
// privilege; unoptimized, it prints what tcpdump -O -d -i prints as root.
func TestDumpProgramForInterfaceUnprivileged(t *testing.T) {
	v := newVethPair(t)
	setpriv := testenv.LookPath(t, "setpriv", "setpriv")
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	bin := inspectBinary(t)
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-O", "-ddd", "-i", v.IfB, "tcp port 80"}, {"-O", "-d", "-i", "lo", "udp and not port 53"}} {
		got, err := exec.Command("ip", append([]string{"netns", "exec", v.NSB, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin}, args...)...).CombinedOutput()
		if err != nil {
			t.Errorf("unprivileged pkttap-inspect %q: %v\n%s", args, err, got)
			continue
		}
		want, err := exec.Command("ip", append([]string{"netns", "exec", v.NSB, tcpdump}, args...)...).Output()
		if err != nil {
			t.Fatalf("tcpdump %q: %v", args, err)
		}
		if string(got) != string(want) {
			t.Errorf("%q:\n--- pkttap-inspect (unprivileged)\n%s--- tcpdump (root)\n%s", args, got, want)
		}
	}
	out, err := exec.Command("ip", "netns", "exec", v.NSB, bin, "-d", "-i", "pkttap-none0", "ip").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "pkttap-inspect -l lists the interfaces") {
		t.Errorf("-d -i on a missing interface: %v, %q; want an error pointing to -l", err, out)
	}
}

func TestListInterfaces(t *testing.T) {
	v := newVethPair(t)
	cmd, out, errb := startInNetns(t, v.NSB, "-l")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pkttap-inspect -l: %v\n%s", err, errb)
	}
	want := regexp.MustCompile(`(?m)^\d+\.` + v.IfB + ` \[Up\] EN10MB 198\.18\.8\.2/24$`)
	if !want.MatchString(out.String()) || !regexp.MustCompile(`(?m)^\d+\.lo \[Up, Loopback\] EN10MB 127\.0\.0\.1/8`).MatchString(out.String()) ||
		!regexp.MustCompile(`(?m)^\d+\.any \(.*\) \[Up\] LINUX_SLL$`).MatchString(out.String()) {
		t.Errorf("pkttap-inspect -l in a namespace with lo and %s printed:\n%s", v.IfB, out)
	}
}

// TestLivePermissionDenied runs pkttap-inspect as an unprivileged user (no
// CAP_NET_RAW): it must fail with advice, not a bare errno.
func TestLivePermissionDenied(t *testing.T) {
	v := newVethPair(t)
	setpriv := testenv.LookPath(t, "setpriv", "setpriv")
	bin := inspectBinary(t)
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", v.NSB, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin, "-c", "1", v.IfB)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("unprivileged pkttap-inspect: %v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "CAP_NET_RAW") || !strings.Contains(string(out), "root") {
		t.Errorf("unprivileged pkttap-inspect says %q; want advice to run as root or grant CAP_NET_RAW", out)
	}
}

func TestLiveNoSuchInterface(t *testing.T) {
	v := newVethPair(t)
	out, err := exec.Command("ip", "netns", "exec", v.NSB, inspectBinary(t), "pkttap-none0").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "pkttap-inspect -l lists the interfaces") {
		t.Errorf("pkttap-inspect on a missing interface: %v, %q; want exit 1 and a hint to run -l", err, out)
	}
}
