package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
)

// TestFieldColumnsTshark compares custom columns with tshark -T fields -e
// on the shared display-filter capture (the corpus and real HTTP/HTTPS
// traffic): every packet's value of each field, several occurrences joined
// by ',' (ip.addr gives the source then the destination; ICMP errors carry
// a second IP header). Packets that tshark decodes to other protocols than
// dissect does (frame.protocols: tunnels dissect does not decode,
// reassembled IP fragments) are left out, as pkttap-inspect's -T fields
// test leaves them.
func TestFieldColumnsTshark(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	path := filepath.Join(testenv.SharedDir(t), "dfilters", "capture.pcapng")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"frame.protocols", "ip.ttl", "ip.addr", "eth.src", "tcp.srcport", "tcp.flags", "udp.dstport", "tcp.flags.syn", "ip.flags", "ipv6.src", "dns.qry.name", "frame.len", "tcp.len"}
	args := []string{"-n", "-r", path, "-o", "tcp.desegment_tcp_streams:FALSE", "-T", "fields", "-E", "separator=/t"}
	for _, n := range names {
		args = append(args, "-e", n)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	s := addCapture(t, newTestPool(t, Config{}), "capture.pcapng", data)
	if s.Count() != len(lines) {
		t.Fatalf("%d packets, tshark printed %d lines", s.Count(), len(lines))
	}
	const batch = 500
	compared, bad, skipped := 0, 0, 0
	for lo := 1; lo <= s.Count(); lo += batch {
		var nos []int
		for no := lo; no < lo+batch && no <= s.Count(); no++ {
			nos = append(nos, no)
		}
		cols, err := s.FieldColumns(nos, names)
		if err != nil {
			t.Fatal(err)
		}
		for k, no := range nos {
			want := strings.Split(lines[no-1], "\t")
			if strings.ReplaceAll(want[0], ":data", "") != strings.ReplaceAll(cols[k][0], ":data", "") {
				skipped++
				continue
			}
			for i, name := range names[1:] {
				i++
				compared++
				if cols[k][i] != want[i] {
					if bad++; bad <= 10 {
						t.Errorf("packet %d, %s: %q, tshark %q", no, name, cols[k][i], want[i])
					}
				}
			}
		}
	}
	t.Logf("%d values compared, %d differ; %d packets decoded to other protocols left out", compared, bad, skipped)
	if compared < 40000 {
		t.Errorf("only %d values compared", compared)
	}
}

// TestFieldColumnsErrors refuses unknown fields and packets, naming them.
func TestFieldColumnsErrors(t *testing.T) {
	s := openCapture(t, newTestPool(t, Config{}), 10)
	if _, err := s.FieldColumns([]int{1}, []string{"ip.ttl", "ip.nonesuch"}); !errors.Is(err, ErrNoField) || !strings.Contains(err.Error(), `"ip.nonesuch"`) {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := s.FieldColumns([]int{11}, []string{"ip.ttl"}); !errors.Is(err, ErrNoPacket) {
		t.Errorf("packet 11 of 10: %v", err)
	}
}
