package main

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
)

// dfcheckKnown are the public display filters on which pkttap-inspect's
// packets differ from tshark 4.0's, each for a reason outside the filter
// language: protocols and link types pkttap does not decode (so their
// fields are missing, or tshark's names for the bytes differ), and
// tshark's cross-packet state (IP reassembly, which makes tshark decode a
// fragmented datagram on its last fragment instead of its first; TLS 1.3
// sessions, whose later records tshark names opaque_type). The test fails
// for any other difference, and says when a listed one has gone.
var dfcheckKnown = map[string]string{}

// dfReasons groups the known differences by reason, for the list above.
var dfReasons = map[string][]string{
	"link types pkttap does not decode (Frame Relay, IPNET, IPoIB, NFLOG, Cisco HDLC, 802.11, PPI, Juniper)": {},
	"protocols pkttap does not decode, whose payloads are data to pkttap and named protocols to tshark":       {},
	"IP reassembly in tshark: the datagram is decoded on its last fragment, not its first":                  {},
	"TLS 1.3: tshark names the records of an established session opaque_type, by what earlier packets said": {},
}

func init() {
	for reason, exprs := range dfReasons {
		for _, e := range exprs {
			dfcheckKnown[e] = reason
		}
	}
}

var dfcheckScore = regexp.MustCompile(`display filters identical to tshark: (\d+)/(\d+); invalid rejected: (\d+)/(\d+)`)

// TestDfcheck runs the shared display-filter judge, dfcheck.py, on a
// built pkttap-inspect: every public expression must select the packets
// tshark 4.0 selected (but the known differences), and every invalid one
// must be refused with a message and no packets.
func TestDfcheck(t *testing.T) {
	shared := testenv.SharedDir(t)
	script := filepath.Join(shared, "tools", "dfcheck.py")
	python := testenv.LookPath(t, "python3", "python3")
	bin := inspectBinary(t)
	out, _ := exec.Command(python, script, bin, "--notes").CombinedOutput()
	m := dfcheckScore.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("dfcheck.py gave no score:\n%s", out)
	}
	t.Logf("dfcheck: %s identical of %s, %s of %s invalid ones rejected", m[1], m[2], m[3], m[4])
	if m[3] != m[4] {
		t.Errorf("only %s of %s invalid expressions were refused", m[3], m[4])
	}
	differ := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "  '") && !strings.HasPrefix(line, `  "`) {
			continue
		}
		expr, why := splitNote(line)
		differ[expr] = true
		if _, known := dfcheckKnown[expr]; !known {
			t.Errorf("%s: %s", expr, why)
		}
	}
	for expr, reason := range dfcheckKnown {
		if !differ[expr] {
			t.Logf("%q now agrees with tshark: remove it from the known differences (%s)", expr, reason)
		}
	}
}

// splitNote splits one of dfcheck's notes, "  'expr': why" (Python's
// repr of the expression), into the expression and the reason.
func splitNote(line string) (expr, why string) {
	line = strings.TrimPrefix(line, "  ")
	q := line[0]
	var b strings.Builder
	i := 1
	for ; i < len(line) && line[i] != q; i++ {
		if line[i] == '\\' && i+1 < len(line) {
			i++
		}
		b.WriteByte(line[i])
	}
	return b.String(), strings.TrimPrefix(line[min(i+1, len(line)):], ": ")
}
