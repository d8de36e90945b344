package streams

// The tshark oracle: every packet of a capture is tracked and dissected
// by pkttap and read by tshark 4.0 (TCP desegmentation off, its other
// preferences at their defaults, so its sequence analysis and relative
// numbers are on), and the stream fields must be equal packet by packet.
//
// Deliberate differences, not counted:
//   - Packets tshark sees through what pkttap does not decode: IPComp
//     payloads (tshark decompresses them and finds TCP segments inside),
//     OpenFlow and NSH (their inner UDP datagrams), IPv4 and IPv6
//     fragments (tshark reassembles them and tracks the reassembled
//     datagram at its last fragment; pkttap does not reassemble yet), and
//     IPv6 chains longer than pkttap's nesting limit. Such frames are
//     skipped, and so are the other frames of a TCP stream one of them
//     belongs to, since its analysis depends on the segments tshark saw.
//   - Those hidden datagrams start UDP streams pkttap cannot number, so in
//     captures that have them the stream numbers are compared as an order:
//     tshark's numbers must map to pkttap's one to one and increasing.
//   - A packet with two UDP headers (UDP in a tunnel over UDP) gets
//     udp.stream on the first only; tshark gives both.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// oracleFields are the fields compared, after frame.number.
var oracleFields = []string{
	"tcp.stream", "udp.stream", "tcp.seq", "tcp.ack", "tcp.nxtseq", "tcp.len",
	"tcp.window_size", "tcp.window_size_scalefactor", "tcp.options.sack_le", "tcp.options.sack_re",
	"tcp.analysis", "tcp.analysis.flags",
	"tcp.analysis.retransmission", "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission",
	"tcp.analysis.out_of_order", "tcp.analysis.lost_segment", "tcp.analysis.ack_lost_segment",
	"tcp.analysis.duplicate_ack", "tcp.analysis.duplicate_ack_num", "tcp.analysis.duplicate_ack_frame",
	"tcp.analysis.zero_window", "tcp.analysis.zero_window_probe", "tcp.analysis.zero_window_probe_ack",
	"tcp.analysis.window_full", "tcp.analysis.window_update",
	"tcp.analysis.keep_alive", "tcp.analysis.keep_alive_ack", "tcp.analysis.reused_ports",
	"tcp.analysis.acks_frame", "tcp.analysis.ack_rtt", "tcp.analysis.bytes_in_flight",
}

// oracleRow is one frame's fields as text, as tshark -T fields prints them.
type oracleRow []string

// ourRows tracks and dissects every packet of the capture at path and
// returns its fields and Info column.
func ourRows(t *testing.T, path string) (rows []oracleRow, info []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapio.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tr := New()
	for n := 1; ; n++ {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: packet %d: %v", path, n, err)
		}
		si := tr.Add(p.LinkType, p.Data, p.Length, p.Timestamp)
		o := dissect.Options{Stream: &si}
		tree := o.Dissect(p.LinkType, p.Data, p.Length)
		row := oracleRow{strconv.Itoa(n)}
		for _, vals := range dfilter.FieldValues(tree, n, oracleFields) {
			var b []byte
			for j, v := range vals {
				if j > 0 {
					b = append(b, ',')
				}
				if v.Type == dissect.TypeNone {
					b = append(b, '1')
					continue
				}
				b = v.AppendText(b, dissect.BaseDec)
			}
			row = append(row, string(b))
		}
		rows = append(rows, row)
		info = append(info, o.Summarize(p.LinkType, p.Data, p.Length).Info)
	}
	return rows, info
}

// tsharkRows reads the capture with tshark: the compared fields, then
// frame.protocols, the IP fragment marks and the Info column.
func tsharkRows(t *testing.T, path string) (rows []oracleRow, extra [][]string) {
	t.Helper()
	tshark := testenv.LookPath(t, "tshark", "tshark")
	args := []string{"-n", "-r", path, "-o", "tcp.desegment_tcp_streams:FALSE", "-T", "fields", "-E", "occurrence=a", "-e", "frame.number"}
	for _, f := range oracleFields {
		args = append(args, "-e", f)
	}
	args = append(args, "-e", "frame.protocols", "-e", "ip.flags.mf", "-e", "ip.frag_offset", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info")
	out, err := exec.Command(tshark, args...).Output()
	if err != nil && len(out) == 0 {
		t.Logf("tshark cannot read %s (%v): not compared", path, err)
		return nil, nil
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		c := strings.Split(l, "\t")
		if len(c) != 1+len(oracleFields)+5 {
			continue // a column with a line break: the next line continues it
		}
		rows = append(rows, c[:1+len(oracleFields)])
		extra = append(extra, c[1+len(oracleFields):])
	}
	return rows, extra
}

// hiddenFrame reports whether tshark sees the frame through something
// pkttap does not decode (see the file comment).
func hiddenFrame(protocols, mf, fragOff string) bool {
	for _, p := range []string{"ipcomp", "openflow", "nsh", "ipv6.fraghdr"} {
		if strings.Contains(":"+protocols+":", ":"+p+":") {
			return true
		}
	}
	return strings.Contains(mf, "1") || strings.Trim(fragOff, "0,") != ""
}

// oracleResult counts what compareOracle compared.
type oracleResult struct {
	frames, skipped, analyzed, infos int
	seen                             map[string]int // compared frames having each field, by tshark
}

// compareOracle compares pkttap's rows with tshark's for one capture and
// reports each difference (up to a few per capture).
func compareOracle(t *testing.T, name, path string, orderOnly bool) oracleResult {
	t.Helper()
	ours, info := ourRows(t, path)
	theirs, extra := tsharkRows(t, path)
	res := oracleResult{seen: map[string]int{}}
	if theirs == nil {
		return res
	}
	if len(ours) < len(theirs) || len(theirs) < len(ours)-1 {
		// (a line of tshark's may be lost to a line break in a column)
		t.Errorf("%s: pkttap read %d packets, tshark %d", name, len(ours), len(theirs))
		return res
	}
	// Streams that hold a hidden frame are skipped whole.
	skipStream := map[string]bool{}
	for i, e := range extra {
		if hiddenFrame(e[0], e[1], e[2]) && theirs[i][1] != "" {
			skipStream[theirs[i][1]] = true
		}
	}
	maps := [2]map[string]string{{}, {}} // tshark's stream -> pkttap's
	last := [2]int{-1, -1}
	errs := 0
	report := func(format string, args ...any) {
		if errs++; errs <= 8 {
			t.Errorf(name+": "+format, args...)
		}
	}
	for i := range theirs {
		a, e := theirs[i], extra[i]
		n, _ := strconv.Atoi(a[0])
		if n < 1 || n > len(ours) {
			t.Fatalf("%s: tshark's frame %q", name, a[0])
		}
		b := ours[n-1]
		if hiddenFrame(e[0], e[1], e[2]) || skipStream[a[1]] {
			res.skipped++
			continue
		}
		res.frames++
		for j := 1; j < len(a); j++ {
			field := oracleFields[j-1]
			if a[j] != "" {
				res.seen[field]++
			}
			if j <= 2 && orderOnly { // stream numbers: compared as an order
				tv, pv := firstValue(a[j]), firstValue(b[j])
				if (tv == "") != (pv == "") {
					report("frame %s: %s pkttap %q, tshark %q", a[0], field, b[j], a[j])
					continue
				}
				if tv == "" {
					continue
				}
				if m, ok := maps[j-1][tv]; ok {
					if m != pv {
						report("frame %s: %s %s is pkttap's %s here, %s before", a[0], field, tv, pv, m)
					}
					continue
				}
				n, _ := strconv.Atoi(pv)
				if n <= last[j-1] {
					report("frame %s: %s: tshark's new stream %s is pkttap's %s, not after %d", a[0], field, tv, pv, last[j-1])
				}
				maps[j-1][tv], last[j-1] = pv, n
				continue
			}
			if a[j] != b[j] && !(field == "udp.stream" && strings.HasPrefix(a[j], b[j]+",")) {
				report("frame %s: %s pkttap %q, tshark %q", a[0], field, b[j], a[j])
			}
		}
		if a[3] != "" {
			res.analyzed++
		}
		// The Info column where both name the same protocol.
		if e[3] == "TCP" && strings.Contains(e[4], "[TCP") {
			res.infos++
			if want := strings.TrimRight(e[4], " "); info[n-1] != want {
				report("frame %s: Info\n pkttap %q\n tshark %q", a[0], info[n-1], want)
			}
		}
	}
	if errs > 8 {
		t.Errorf("%s: %d differences in all", name, errs)
	}
	return res
}

func firstValue(s string) string {
	v, _, _ := strings.Cut(s, ",")
	return v
}

// readManifest lists the corpus captures.
func readManifest(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(dir + "/MANIFEST.tsv")
	if err != nil {
		testenv.Missing(t, "corpus", fmt.Sprintf("read corpus manifest: %v", err))
	}
	var names []string
	for i, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if i == 0 {
			continue
		}
		names = append(names, string(bytes.SplitN(l, []byte("\t"), 2)[0]))
	}
	return names
}

// TestTsharkCorpus compares the stream fields with tshark's on the
// display-filter capture, which is every capture of the shared corpus that
// tshark reads, one after the other, and real HTTP and HTTPS traffic.
// Starting tshark once per corpus file takes minutes on a loaded machine,
// so the files are compared one by one only with
// PKTTAP_STREAMS_CORPUS=1 (their streams can differ from the
// concatenation's only where two files share addresses and ports).
func TestTsharkCorpus(t *testing.T) {
	testenv.LookPath(t, "tshark", "tshark")
	shared := testenv.SharedDir(t)
	// Captures where tshark numbers streams pkttap cannot see.
	orderOnly := map[string]bool{"of13_ericsson.pcapng": true, "nsh-over-vxlan-gpe.pcap": true, "capture.pcapng": true}
	var total oracleResult
	paths := []string{shared + "/dfilters/capture.pcapng"}
	if os.Getenv("PKTTAP_STREAMS_CORPUS") == "1" {
		for _, f := range readManifest(t, shared+"/corpus") {
			paths = append(paths, shared+"/corpus/"+f)
		}
	}
	for _, p := range paths {
		name := p[strings.LastIndexByte(p, '/')+1:]
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !pkttapReads(p) {
			continue // a link type or format pkttap does not read: nothing to track
		}
		r := compareOracle(t, name, p, orderOnly[name])
		total.frames += r.frames
		total.skipped += r.skipped
		total.analyzed += r.analyzed
		total.infos += r.infos
	}
	t.Logf("compared %d frames (%d with TCP analysis, %d Info columns with analysis marks), skipped %d", total.frames, total.analyzed, total.infos, total.skipped)
	if total.analyzed < 1000 || total.infos < 100 {
		t.Errorf("too little compared: %+v", total)
	}
}

// pkttapReads reports whether pcapio reads the whole capture.
func pkttapReads(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	r, err := pcapio.NewReader(bufio.NewReader(f))
	if err != nil {
		return false
	}
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return false
		}
	}
}
