package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/testenv"
)

// followSubset are the captures TestFollowTshark checks in CI: the
// display-filter capture (every corpus capture and real HTTP traffic
// between namespaces, 150 TCP and 130 UDP streams) and corpus captures
// with out-of-order and retransmitted segments.
var followSubset = []string{"dfilters/capture.pcapng"}

// knownFollowDiffs are the streams whose followed payload differs from
// tshark 4.0's although both find the same packets in them, keyed
// "capture filter", with the reason.
var knownFollowDiffs = map[string]string{
	"capture.pcapng tcp.stream eq 56":  reasonInner + " (OpenFlow packet-in and packet-out: some segments count as the other direction's, so tshark sees gaps)",
	"capture.pcapng tcp.stream eq 78":  reasonInner + " (OpenFlow packet-out)",
	"capture.pcapng udp.stream eq 63":  reasonInner + " (GRE-in-UDP)",
	"capture.pcapng udp.stream eq 64":  reasonInner + " (GRE-in-UDP)",
	"capture.pcapng udp.stream eq 65":  reasonInner + " (GRE-in-UDP)",
	"capture.pcapng udp.stream eq 66":  reasonInner + " (GRE-in-UDP)",
	"capture.pcapng udp.stream eq 80":  reasonInner + " (LWAPP)",
	"capture.pcapng udp.stream eq 81":  reasonInner + " (LWAPP: the inner 802.11 frame's MAC addresses)",
	"capture.pcapng udp.stream eq 82":  reasonInner + " (LWAPP: the inner 802.11 frame's MAC addresses)",
	"capture.pcapng udp.stream eq 83":  reasonInner + " (LWAPP)",
	"capture.pcapng udp.stream eq 90":  reasonInner + " (CAPWAP: the inner 802.11 frame's MAC addresses)",
	"capture.pcapng udp.stream eq 91":  reasonInner + " (CAPWAP: the inner 802.11 frame's MAC addresses)",
	"capture.pcapng udp.stream eq 92":  reasonInner + " (CAPWAP)",
	"capture.pcapng udp.stream eq 93":  reasonInner + " (CAPWAP)",
	"capture.pcapng udp.stream eq 107": reasonInner + " (VXLAN-GPE)",
	"capture.pcapng udp.stream eq 131": "a UDP datagram inside an OpenFlow packet-out: tshark follows it, pkttap's stream tracking numbers it but takes it for a quoted header, which it does not follow",
}

// reasonInner is why tshark's follow shows other endpoints than the
// packets' own for streams that carry other packets.
const reasonInner = "tshark's follow tap runs once the whole packet is dissected and takes the endpoints from the last addresses dissection set (pinfo->src): for a segment or datagram that carries another packet those are the inner packet's (even MAC addresses), so its Node lines and the direction of such packets differ; pkttap takes the addresses of the IP header in front of the TCP or UDP header"

// TestFollowTshark compares pkttap-inspect -q -z follow,PROTO,raw,N with
// tshark -q -z follow,PROTO,raw,N for every TCP and UDP stream of the
// captures, and the ascii and hex layouts for every TCP stream of the
// display-filter capture. Streams whose packets pkttap's stream tracking
// does not find as tshark's does (tshark sees inside IPComp, reassembles
// IP fragments...: package streams' differential test names them) are
// counted apart: following cannot give the same payload from other
// packets. By default (CI) it checks followSubset; PKTTAP_FOLLOW_CORPUS=all
// checks every capture of the shared corpus too (two tshark runs a
// capture: more than go test's default 10 minutes on a loaded machine).
func TestFollowTshark(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	shared := testenv.SharedDir(t)
	var files []string
	for _, f := range followSubset {
		files = append(files, filepath.Join(shared, f))
	}
	if os.Getenv("PKTTAP_FOLLOW_CORPUS") == "all" {
		all, err := filepath.Glob(filepath.Join(shared, "corpus", "*.pcap*"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, all...)
	}
	var total followTally
	for _, f := range files {
		r := compareFollow(t, tshark, f, strings.HasSuffix(f, "capture.pcapng"))
		total.add(r)
	}
	t.Logf("all captures: %v", total)
	if total.same == 0 {
		t.Error("no stream compared equal: the comparison compares nothing")
	}
}

// followTally counts a comparison's streams.
type followTally struct {
	same, known, tracking int
	bytes                 int // of the streams found equal
}

func (a *followTally) add(b followTally) {
	a.same += b.same
	a.known += b.known
	a.tracking += b.tracking
	a.bytes += b.bytes
}

func (a followTally) String() string {
	return fmt.Sprintf("%d streams equal (%d bytes of output), %d known differences, %d streams whose packets tracking finds otherwise", a.same, a.bytes, a.known, a.tracking)
}

// compareFollow follows every stream of the capture at path with tshark
// and pkttap-inspect, raw, and compares the outputs stream by stream;
// with layouts, the TCP streams 90 to 100 (the display-filter capture's
// real HTTP and HTTPS traffic) in the ascii and hex layouts too (every TCP stream
// under PKTTAP_FOLLOW_CORPUS=all).
func compareFollow(t *testing.T, tshark, path string, layouts bool) followTally {
	t.Helper()
	name := filepath.Base(path)
	theirs := streamFrames(t, tsharkOutput(t, tshark, "-n", "-r", path, "-T", "fields", "-e", "frame.number", "-e", "tcp.stream", "-e", "udp.stream"))
	out, errOut, code := runCLI(t, "-r", path, "-T", "fields", "-e", "frame.number", "-e", "tcp.stream", "-e", "udp.stream")
	if code != 0 {
		t.Fatalf("%s: pkttap-inspect -T fields: exit %d: %s", name, code, errOut)
	}
	ours := streamFrames(t, out)
	var keys []string
	for k := range theirs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var r followTally
	modes := []string{"raw"}
	if layouts {
		modes = append(modes, "ascii", "hex")
	}
	all := os.Getenv("PKTTAP_FOLLOW_CORPUS") == "all"
	var args []string
	for _, mode := range modes {
		for _, k := range keys {
			p, n, _ := strings.Cut(k, " ")
			if num, _ := strconv.Atoi(n); mode != "raw" && (p == "udp" || !all && num < 90) {
				continue
			}
			args = append(args, "-z", "follow,"+p+","+mode+","+n)
		}
	}
	// A few hundred follows a run: tshark and pkttap-inspect read the
	// capture once for them all.
	for len(args) > 0 {
		batch := args[:min(len(args), 2*300)]
		args = args[len(batch):]
		want := followBlocks(tsharkOutput(t, tshark, append([]string{"-n", "-r", path, "-q"}, batch...)...))
		out, errOut, code := runCLI(t, append([]string{"-q", "-r", path}, batch...)...)
		if code != 0 {
			t.Fatalf("%s: pkttap-inspect -z follow: exit %d: %s", name, code, errOut)
		}
		got := followBlocks(out)
		for i := 1; i < len(batch); i += 2 {
			z := strings.Split(batch[i], ",")
			filter := z[1] + ".stream eq " + z[3]
			key := z[1] + " " + z[3]
			block := z[1] + "," + z[2] + " " + filter
			w, g := want[block], got[block]
			switch {
			case w == "":
				t.Errorf("%s: tshark printed nothing for %s", name, batch[i])
			case w == g:
				r.same++
				r.bytes += len(w)
			case !slices.Equal(theirs[key], ours[key]):
				r.tracking++
			case knownFollowDiffs[name+" "+filter] != "":
				r.known++
			default:
				t.Errorf("%s: -z %s differs from tshark's:\n%s", name, batch[i], firstDiff(w, g))
			}
		}
	}
	t.Logf("%s: %v", name, r)
	return r
}

// tsharkOutput runs tshark and returns its standard output; a run past
// two minutes is stuck, and killed.
func tsharkOutput(t *testing.T, tshark string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, tshark, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", strings.Join(args[:min(len(args), 6)], " "), err, stderr.String())
	}
	return string(out)
}

// streamFrames reads -T fields lines of frame.number, tcp.stream and
// udp.stream into the frames of each stream, keyed "tcp N" or "udp N".
func streamFrames(t *testing.T, out string) map[string][]string {
	m := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			continue
		}
		for i, p := range []string{"tcp", "udp"} {
			for _, n := range strings.Split(f[i+1], ",") {
				if n != "" {
					k := p + " " + n
					if s := m[k]; len(s) == 0 || s[len(s)-1] != f[0] {
						m[k] = append(s, f[0])
					}
				}
			}
		}
	}
	return m
}

// followBlocks splits -z follow output into its streams' blocks, keyed by
// their "PROTO,MODE FILTER".
func followBlocks(out string) map[string]string {
	m := map[string]string{}
	for _, b := range strings.Split(out, "\n===================================================================\nFollow: ") {
		mode, rest, ok := strings.Cut(b, "\nFilter: ")
		if !ok {
			continue
		}
		filter, _, _ := strings.Cut(rest, "\n")
		m[strings.TrimPrefix(mode, "\n===================================================================\nFollow: ")+" "+filter] = b
	}
	return m
}

// firstDiff shows the first line where want and got differ, cut short.
func firstDiff(want, got string) string {
	return lineDiff(want, got, "tshark:", "pkttap:", true)
}
