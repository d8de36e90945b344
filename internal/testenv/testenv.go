// Package testenv decides what a test does when something it needs from the
// machine is missing: skip with a clear message on a developer's machine, or
// fail when PKTTAP_REQUIRE says the prerequisite must be there (as CI does).
//
// PKTTAP_REQUIRE is a comma-separated list of prerequisite names ("root",
// "netns", "tcpdump", "tshark", "chromium", "corpus", "libpcap", "cc") or
// "all". ("hexdump", from bsdextrautils, "setpriv", from util-linux,
// "proc", a mounted /proc, "sshd", Debian's OpenSSH server, "sudo", sudo and useradd (a test user who runs tcpdump through sudo), "loopback", the whole of 127.0.0.0/8 as
// local addresses as Linux has it, and "fdlimit", a limit on open
// descriptors that can be raised to 1100, are ones too. "rpcapd", libpcap's
// remote capture daemon, which Debian does not package, is demanded only
// when named: "all" does not include it; see MissingUnpackaged.)
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Required reports whether PKTTAP_REQUIRE demands the named prerequisite.
func Required(name string) bool {
	for _, r := range strings.Split(os.Getenv("PKTTAP_REQUIRE"), ",") {
		r = strings.TrimSpace(r)
		if r == "all" || r == name {
			return true
		}
	}
	return false
}

// Missing skips the test, or fails it when PKTTAP_REQUIRE demands name, with
// a message saying what is missing and how to get it.
func Missing(t testing.TB, name, why string) {
	t.Helper()
	if Required(name) {
		t.Fatalf("prerequisite %q missing (PKTTAP_REQUIRE=%s): %s", name, os.Getenv("PKTTAP_REQUIRE"), why)
	}
	t.Skipf("skipping: prerequisite %q missing: %s (set PKTTAP_REQUIRE=%s to make this a failure)", name, why, name)
}

// MissingUnpackaged is Missing for a prerequisite Debian does not package
// (so CI, which installs Debian's packages, cannot have it): it fails only
// when PKTTAP_REQUIRE names it, not under "all".
func MissingUnpackaged(t testing.TB, name, why string) {
	t.Helper()
	for _, r := range strings.Split(os.Getenv("PKTTAP_REQUIRE"), ",") {
		if strings.TrimSpace(r) == name {
			t.Fatalf("prerequisite %q missing (PKTTAP_REQUIRE=%s): %s", name, os.Getenv("PKTTAP_REQUIRE"), why)
		}
	}
	t.Skipf("skipping: prerequisite %q missing: %s (set PKTTAP_REQUIRE=%s to make this a failure)", name, why, name)
}

// LookPath returns the path of the named program, or skips/fails the test
// under the prerequisite name req when it is not installed.
func LookPath(t testing.TB, req, program string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		Missing(t, req, program+" is not installed (apt-get install -y "+debianPackage(program)+")")
	}
	return p
}

func debianPackage(program string) string {
	switch program {
	case "tshark":
		return "tshark"
	case "chromium":
		return "chromium"
	case "ip":
		return "iproute2"
	case "hexdump":
		return "bsdextrautils"
	case "ssh-keygen":
		return "openssh-client"
	case "setpriv":
		return "util-linux"
	case "cc", "gcc":
		return "gcc libpcap-dev"
	}
	return program
}

// Root skips or fails the test unless it runs as root on Linux.
func Root(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		Missing(t, "root", "live capture tests run on Linux only")
	}
	if os.Geteuid() != 0 {
		Missing(t, "root", "needs root (CAP_NET_ADMIN and CAP_NET_RAW) to create network namespaces and packet sockets")
	}
}

// SharedDir returns the shared data folder beside the repository (the
// folder holding corpus/, filters/, pcapng-suite/), taken from PKTTAP_SHARED
// or found by walking up from the working directory to a "shared" sibling
// of the module root. It skips or fails (prerequisite "corpus") when absent.
func SharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("PKTTAP_SHARED"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		Missing(t, "corpus", "PKTTAP_SHARED="+d+" is not a directory")
	}
	if d := findShared(); d != "" {
		return d
	}
	Missing(t, "corpus", "the shared data folder (../shared beside the repository) was not found; set PKTTAP_SHARED")
	return ""
}

func findShared() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			cand := filepath.Join(filepath.Dir(dir), "shared")
			if st, err := os.Stat(filepath.Join(cand, "corpus")); err == nil && st.IsDir() {
				return cand
			}
			return ""
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}

// BuildWithLibpcap compiles the C program src with cc -O2 against libpcap
// into the test's temporary directory and returns the binary, named after
// src without ".c". Without cc or libpcap's headers it skips, or fails
// under PKTTAP_REQUIRE ("cc", "libpcap"); a program that does not compile
// fails the test.
func BuildWithLibpcap(t testing.TB, src string) string {
	t.Helper()
	cc := LookPath(t, "cc", "cc")
	if _, err := os.Stat("/usr/include/pcap/pcap.h"); err != nil {
		Missing(t, "libpcap", "libpcap's headers are not installed (apt-get install -y libpcap-dev)")
	}
	name := strings.TrimSuffix(filepath.Base(src), ".c")
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command(cc, "-O2", "-o", bin, src, "-lpcap").CombinedOutput(); err != nil {
		t.Fatalf("building %s against libpcap: %v\n%s", filepath.Base(src), err, out)
	}
	return bin
}
