package remote

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

// hostileWords are strings made to break out of a shell word.
var hostileWords = []string{
	"", "plain", "two words", "it's", "'", "''", `'\''`, `"`, `\`, `\'`,
	"$(touch MARKER)", "`touch MARKER`", "; touch MARKER", "a\ntouch MARKER",
	"$HOME", "${HOME}", "*", "?", "[a]", "~", "!", "a|touch MARKER",
	"a&touch MARKER", "a>MARKER", "<MARKER", "#comment", "-n", "\t\r\v\f",
	"é ü 漢字", "'$(touch MARKER)'", "\\\n",
}

// FuzzShellQuote runs the real sh: printf %s with the quoted word must
// print the word unchanged, and nothing in it may run (MARKER, a file in
// the working folder, is never created).
func FuzzShellQuote(f *testing.F) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		f.Skip("no sh")
	}
	for _, w := range hostileWords {
		f.Add(w)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			if checkArg("word", s) == nil {
				t.Fatal("checkArg accepted a NUL byte")
			}
			return
		}
		cmd := exec.Command(sh, "-c", "printf %s "+shellQuote(s))
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sh -c printf %%s %s: %v", shellQuote(s), err)
		}
		if string(out) != s {
			t.Fatalf("the shell read %q as %q", s, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "MARKER")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("quoting %q ran a command", s)
		}
	})
}

func TestParseTcpdumpD(t *testing.T) {
	out := "1.eth0 [Up, Running, Connected]\n2.any (Pseudo-device that captures on all interfaces) [Up, Running]\n3.lo [Up, Running, Loopback]\n4.nflog (Linux netfilter log (NFLOG) interface) [none]\ntcpdump: warning\n"
	want := []Interface{
		{Name: "eth0", Up: true},
		{Name: "any", Description: "Pseudo-device that captures on all interfaces", Up: true},
		{Name: "lo", Up: true, Loopback: true},
		{Name: "nflog", Description: "Linux netfilter log (NFLOG) interface"},
	}
	if got := parseTcpdumpD([]byte(out)); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestParseIPLink(t *testing.T) {
	out := "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n" +
		"5: veth0@if4: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN\\    link/ether 02:70:6b:00:00:0b brd ff:ff:ff:ff:ff:ff\n"
	want := []Interface{{Name: "lo", Up: true, Loopback: true}, {Name: "veth0"}}
	if got := parseIPLink([]byte(out)); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestParseLinkTypes(t *testing.T) {
	for _, tc := range []struct {
		out  string
		want pcapio.LinkType
		bad  bool
	}{
		{out: "Data link types for eth0 (use option -y to set):\n  EN10MB (Ethernet)\n  DOCSIS (DOCSIS) (printing not supported)\n", want: pcapio.LinkTypeEthernet},
		{out: "Data link types for any (use option -y to set):\n  LINUX_SLL (Linux cooked v1)\n  LINUX_SLL2 (Linux cooked v2)\n", want: pcapio.LinkTypeLinuxSLL},
		{out: "", bad: true},
		{out: "Data link types for x:\n  NOSUCHTYPE (what)\n", bad: true},
	} {
		got, _, err := parseLinkTypes([]byte(tc.out))
		if (err != nil) != tc.bad || !tc.bad && got != tc.want {
			t.Errorf("%q: %v, %v", tc.out, got, err)
		}
	}
}

func TestClassify(t *testing.T) {
	h := &Host{addr: "h:22", user: "u"}
	for _, tc := range []struct {
		status int
		stderr string
		want   error
	}{
		{127, "sh: 1: exec: tcpdump: not found", ErrTcpdumpMissing},
		{127, "bash: line 1: tcpdump: command not found", ErrTcpdumpMissing},
		{1, "tcpdump: eth0: You don't have permission to perform this capture on that device\n(socket: Operation not permitted)", ErrPermissionDenied},
		{1, "sudo: a password is required", ErrPermissionDenied},
		{1, "tcpdump: nosuch: No such device exists\n(No such device exists)", ErrNoSuchInterface},
		{1, "tcpdump: something else", ErrRemoteExited},
	} {
		if err := classify(h, "eth0", tc.status, []byte(tc.stderr)); !errors.Is(err, tc.want) {
			t.Errorf("%d %q: %v, want %v", tc.status, tc.stderr, err, tc.want)
		}
	}
}
