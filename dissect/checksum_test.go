package dissect

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/testenv"
)

// checksumLines returns the checksum lines of a tree, as tshark -V prints
// them: the checksum fields and their generated status lines.
func checksumLines(tree *Tree) []string {
	var out []string
	tree.Walk(func(n *Node, _ int) bool {
		if strings.HasSuffix(n.Field, ".checksum") || strings.HasSuffix(n.Field, ".checksum.status") {
			out = append(out, n.Label)
		}
		return true
	})
	return out
}

// tsharkChecksumLines runs tshark -V over file with the given -o prefs and
// returns, per frame, the lines that say what a checksum is or whether it
// was verified (the calculated checksum, which pkttap does not show, is
// left out).
func tsharkChecksumLines(t *testing.T, tshark, file string, prefs ...string) [][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := runTshark(ctx, tshark, append([]string{"-n", "-r", file, "-V"}, prefs...)...)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Frame ") {
			frames = append(frames, nil)
			continue
		}
		l = strings.TrimSpace(l)
		if len(frames) > 0 && (strings.HasPrefix(l, "Checksum: ") || strings.HasPrefix(l, "Header Checksum: ") ||
			strings.HasPrefix(l, "[Checksum Status: ") || strings.HasPrefix(l, "[Header checksum status: ")) {
			frames[len(frames)-1] = append(frames[len(frames)-1], l)
		}
	}
	return frames
}

// TestChecksumWording: by default the IPv4, TCP, UDP and SCTP checksums
// are not verified and the tree says so in tshark 4.0's words
// ("Checksum: 0x1421 [unverified]", "[Checksum Status: Unverified]"), and
// the summary has no "bad-checksum" tag, even for checksums that are wrong
// (most TCP checksums of a capture taken on a host with checksum offload);
// ICMP and IGMP checksums are verified, as by tshark. With
// ValidateChecksums the same packets get tshark's status lines with its
// checksum preferences on, and the wrong ones the tag.
func TestChecksumWording(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	dir := filepath.Join(testenv.SharedDir(t), "corpus")
	cases := []struct {
		file string
		no   int
		bad  bool // a checksum of the packet is wrong
		// offload: the TCP or UDP checksum holds the pseudo-header sum
		// only, as a sending host with checksum offload captures it;
		// validated, pkttap says it was left for the NIC (unverified, not
		// tagged) where tshark says Bad.
		offload bool
	}{
		{"print-flags.pcap", 1, false, false},     // IPv4 and TCP, both right
		{"kday2.pcap", 2, true, false},            // TCP checksum wrong
		{"ikev2four.pcap", 1, true, false},        // UDP checksum wrong
		{"accecn_handshake.pcap", 1, false, true}, // TCP checksum left for the NIC
		{"forces1.pcap", 1, false, false},         // SCTP, right
		{"isup.pcap", 1, true, false},             // SCTP, wrong
		{"IGMP_V2.pcap", 1, false, false},         // IGMP: always verified
	}
	// One file of the packets, so tshark starts once per preference set.
	var pkts []oraclePacket
	for _, c := range cases {
		all, err := readPackets(filepath.Join(dir, c.file))
		if err != nil {
			testenv.Missing(t, "corpus", err.Error())
		}
		if len(all) < c.no {
			t.Fatalf("%s has %d packets, want at least %d", c.file, len(all), c.no)
		}
		pkts = append(pkts, oraclePacket{where: c.file, pkt: all[c.no-1]})
	}
	merged := filepath.Join(t.TempDir(), "checksums.pcapng")
	writeMerged(t, merged, pkts)

	for _, validating := range []bool{false, true} {
		o := Options{ValidateChecksums: validating}
		var prefs []string
		if validating {
			prefs = []string{"-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "sctp.checksum:CRC 32c"}
		}
		frames := tsharkChecksumLines(t, tshark, merged, prefs...)
		if len(frames) != len(cases) {
			t.Fatalf("tshark -V shows %d frames, want %d", len(frames), len(cases))
		}
		for i, c := range cases {
			p := &pkts[i].pkt
			mine, theirs := checksumLines(o.Dissect(p.LinkType, p.Data, p.Length)), frames[i]
			if len(theirs) == 0 {
				t.Fatalf("%s#%d: tshark -V shows no checksum lines", c.file, c.no)
			}
			switch {
			case !validating && !slices.Equal(mine, theirs):
				t.Errorf("%s#%d: checksum lines:\n  pkttap %q\n  tshark %q", c.file, c.no, mine, theirs)
			case validating && !c.offload:
				// pkttap's wording of a bad checksum is its own
				// ("incorrect", without tshark's guess at the cause):
				// the status lines must agree.
				status := func(ls []string) []string {
					return slices.DeleteFunc(slices.Clone(ls), func(l string) bool { return !strings.HasPrefix(l, "[") })
				}
				if !slices.Equal(status(mine), status(theirs)) {
					t.Errorf("%s#%d validated: status lines:\n  pkttap %q\n  tshark %q", c.file, c.no, status(mine), status(theirs))
				}
			}
			s := o.Summarize(p.LinkType, p.Data, p.Length)
			if got, want := slices.Contains(s.Tags, "bad-checksum"), validating && c.bad; got != want {
				t.Errorf("%s#%d validating %v: tags %v, want bad-checksum %v", c.file, c.no, validating, s.Tags, want)
			}
		}
	}
}
