package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
)

// reStatus is a checksum status line of a protocol tree, as tshark -V and
// pkttap-inspect -V print it.
var reStatus = regexp.MustCompile(`\[(Checksum Status|Header checksum status): [A-Za-z ]+\]`)

// TestVerifyChecksums: -V shows the IPv4 header and TCP checksums
// unverified, as tshark -V does by default; with --verify-checksums it
// says which are good and which bad, as tshark does with its checksum
// preferences on. kday2.pcap's second packet has a wrong TCP checksum.
func TestVerifyChecksums(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	file := filepath.Join(testenv.SharedDir(t), "corpus", "kday2.pcap")
	for _, tt := range []struct {
		flags []string
		prefs []string
	}{
		{nil, nil},
		{[]string{"--verify-checksums"}, []string{"-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"}},
	} {
		out, errOut, code := runCLI(t, append(append([]string{"-V", "-c", "3"}, tt.flags...), file)...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", tt.flags, code, errOut)
		}
		want, err := exec.Command(tshark, append([]string{"-n", "-c", "3", "-V", "-r", file}, tt.prefs...)...).Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		got, theirs := reStatus.FindAllString(out, -1), reStatus.FindAllString(string(want), -1)
		if len(got) == 0 || !slices.Equal(got, theirs) {
			t.Errorf("%q: status lines\n  pkttap-inspect %q\n  tshark         %q", tt.flags, got, theirs)
		}
		if bad := slices.Contains(got, "[Checksum Status: Bad]"); bad != (tt.flags != nil) {
			t.Errorf("%q: a bad checksum shown: %v", tt.flags, bad)
		}
	}
	if _, errOut, code := runCLI(t, "--verify-checksums", file); code != 2 || !regexp.MustCompile(`-V`).MatchString(errOut) {
		t.Errorf("--verify-checksums without -V: exit %d, %q; want a usage error", code, errOut)
	}
}
