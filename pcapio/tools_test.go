package pcapio

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/testenv"
)

// This file runs the reference tools (tshark, capinfos, tcpdump) over a
// capture and parses what they say about each packet and interface.

// tsFrame is one record as tshark reports it.
type tsFrame struct {
	raw     []byte
	noRaw   bool   // tshark printed no bytes for this record
	md5     string // hex MD5 of the bytes, instead of raw (tsharkHashes)
	length  int
	caplen  int
	epoch   string // "sec.nnnnnnnnn", "" when the record has no time
	ifid    int    // -1 when tshark names no interface
	section int    // from 1
	custom  bool   // a custom block tshark lists as a record
	comment string
}

// tshark reads path with tshark (one process) and returns its records, and
// whatever tshark wrote to stderr.
func tshark(t *testing.T, path string) ([]tsFrame, string) {
	t.Helper()
	out, stderr := runTshark(t, path, "-T", "ek", "-x")
	var frames []tsFrame
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte(`{"timestamp"`)) && !bytes.Contains(line, []byte(`"layers"`)) {
			continue
		}
		var rec struct {
			Layers map[string]json.RawMessage `json:"layers"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("tshark -T ek output for %s: %v", path, err)
		}
		var f tsFrame
		if raw, ok := rec.Layers["frame_raw"]; ok {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatalf("frame_raw of %s: %v", path, err)
			}
			// tshark writes a message instead of the bytes when its
			// dissectors trip over a field ("field length invalid!").
			var err error
			if f.raw, err = hex.DecodeString(s); err != nil {
				f.raw, f.noRaw = nil, true
			}
		}
		var fields map[string]any
		if err := json.Unmarshal(rec.Layers["frame"], &fields); err != nil {
			t.Fatalf("frame fields of %s: %v", path, err)
		}
		str := func(k string) string { return ekString(fields["frame_frame_"+k]) }
		num := func(k string, def int) int { return atoiOr(str(k), def) }
		f.length, f.caplen = num("len", -1), num("cap_len", -1)
		f.epoch = str("time_epoch")
		f.ifid = num("interface_id", -1)
		f.section = num("section_number", 1)
		f.custom = str("cb_pen") != ""
		if pc, ok := rec.Layers["pkt_comment"]; ok {
			var c struct {
				Comment any `json:"frame_frame_comment"`
			}
			if err := json.Unmarshal(pc, &c); err != nil {
				t.Fatalf("pkt_comment of %s: %v", path, err)
			}
			f.comment = ekString(c.Comment)
		}
		frames = append(frames, f)
	}
	return frames, stderr
}

// ekString returns a field of tshark's -T ek output as text: a string as
// it is, a list's items joined by newlines, anything else as "".
func ekString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var ss []string
		for _, e := range v {
			ss = append(ss, fmt.Sprint(e))
		}
		return strings.Join(ss, "\n")
	}
	return ""
}

// atoiOr returns s as a decimal number, or def when it is not one.
func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// runTshark runs tshark -n -r path with args and returns its output and
// what it wrote to stderr. It fails the test when tshark fails without
// output, except when it cannot read the file's link type: then out is
// empty.
func runTshark(t *testing.T, path string, args ...string) (out []byte, stderr string) {
	t.Helper()
	bin := testenv.LookPath(t, "tshark", "tshark")
	cmd := exec.Command(bin, append([]string{"-n", "-r", path}, args...)...)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	out, err := cmd.Output()
	if err != nil && len(out) == 0 && !strings.Contains(errBuf.String(), "unknown or unsupported") {
		t.Fatalf("tshark -r %s: %v: %s", path, err, errBuf.String())
	}
	return out, errBuf.String()
}

// tsharkHashes is the lighter tshark: one process printing, for each
// record, the MD5 of its bytes, its lengths and time (the fields output
// skips building the protocol tree tshark -T ek needs).
func tsharkHashes(t *testing.T, path string) ([]tsFrame, string) {
	t.Helper()
	out, stderr := runTshark(t, path, "-o", "frame.generate_md5_hash:TRUE",
		"-T", "fields", "-E", "separator=/t", "-e", "frame.md5_hash", "-e", "frame.len",
		"-e", "frame.cap_len", "-e", "frame.time_epoch", "-e", "frame.interface_id",
		"-e", "frame.section_number", "-e", "frame.cb_pen")
	var frames []tsFrame
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 7 {
			t.Fatalf("tshark fields line %q has %d columns, want 7", line, len(c))
		}
		frames = append(frames, tsFrame{
			md5: c[0], length: atoiOr(c[1], -1), caplen: atoiOr(c[2], -1), epoch: c[3],
			ifid: atoiOr(c[4], -1), section: atoiOr(c[5], 1), custom: c[6] != "", noRaw: c[0] == "",
		})
	}
	return frames, stderr
}

// epoch formats a timestamp as tshark's frame.time_epoch.
func epoch(ts time.Time) string {
	return fmt.Sprintf("%d.%09d", ts.Unix(), ts.Nanosecond())
}

// capIface is one interface as capinfos describes it.
type capIface map[string]string

var capKey = regexp.MustCompile(`^\s+([A-Za-z ]+?) = (.*)$`)

// capinfos returns the interfaces capinfos lists for path, over all
// sections, each as its "Key = value" lines (continuation lines joined with
// newlines).
func capinfos(t *testing.T, path string) ([]capIface, capIface) {
	t.Helper()
	bin := testenv.LookPath(t, "tshark", "capinfos")
	out, err := exec.Command(bin, path).Output()
	if err != nil {
		t.Fatalf("capinfos %s: %v", path, err)
	}
	var ifs []capIface
	var cur capIface
	top := capIface{} // the first section's header: "Capture hardware:" ...
	last := ""
	for _, line := range strings.Split(string(out), "\n") {
		if m := capTop.FindStringSubmatch(line); m != nil {
			if _, seen := top[m[1]]; !seen { // later sections repeat the keys
				top[m[1]] = m[2]
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "Interface #"):
			if strings.HasPrefix(line, "Interface #0 ") && len(ifs) > 0 {
				// capinfos repeats the whole list once per section.
				return ifs, top
			}
			cur = capIface{}
			ifs = append(ifs, cur)
			last = ""
		case cur == nil:
		case capKey.MatchString(line):
			m := capKey.FindStringSubmatch(line)
			last = m[1]
			cur[last] = m[2]
		case last != "" && line != "" && !strings.Contains(line, ":"):
			cur[last] += "\n" + line
		default:
			cur, last = nil, ""
		}
	}
	return ifs, top
}

var capTop = regexp.MustCompile(`^Capture (hardware|oper-sys|application|comment):\s+(.*)$`)

// tdPacket is one packet as `tcpdump -tt -nn -e -xx` prints it.
type tdPacket struct {
	ts     string
	length int
	data   []byte
}

var tdLength = regexp.MustCompile(`length (\d+)`)

func parseTcpdump(t *testing.T, out []byte) []tdPacket {
	t.Helper()
	var pkts []tdPacket
	for _, line := range strings.Split(string(out), "\n") {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "\t0x") {
			if len(pkts) == 0 {
				t.Fatalf("tcpdump hex line before any packet: %q", line)
			}
			_, hexpart, _ := strings.Cut(line, ":  ")
			b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(hexpart), " ", ""))
			if err != nil {
				t.Fatalf("tcpdump hex line %q: %v", line, err)
			}
			pkts[len(pkts)-1].data = append(pkts[len(pkts)-1].data, b...)
			continue
		}
		ts, _, _ := strings.Cut(line, " ")
		m := tdLength.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("tcpdump line without a length: %q", line)
		}
		n, _ := strconv.Atoi(m[1])
		pkts = append(pkts, tdPacket{ts: ts, length: n})
	}
	return pkts
}
