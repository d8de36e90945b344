package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/internal/testenv"
)

// TestReassemblyIndexed indexes a corpus capture of fragmented AFS
// replies (pkttap-inspect's reading of such captures is checked against
// tshark's) and checks that the store gives every packet what reading the
// capture in order gives it: the rows' Info (the reassembled UDP's on the
// packets that complete a datagram, "Fragmented IP protocol" on the
// others), the datagram of Packet, display-filter jobs on the reassembled
// fields, and all of it again after a restart.
func TestReassemblyIndexed(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), "corpus", "afs.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	pkts := readPackets(t, data)
	infos, reasm := inOrder(pkts)
	completed := 0
	for _, r := range reasm {
		if r != nil {
			completed++
		}
	}
	if completed < 40 {
		t.Fatalf("only %d datagrams reassembled reading in order", completed)
	}
	dir := t.TempDir()
	p1, err := OpenPool(Config{DataDir: dir, Logger: newTestPool(t, Config{}).log})
	if err != nil {
		t.Fatal(err)
	}
	s := addCapture(t, p1, "afs.pcap", data)
	id := s.ID()
	check := func(s *Store, when string) {
		t.Helper()
		page, err := s.Rows(0, s.Count(), nil, dissect.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range page.Rows {
			o := dissect.Options{Stream: &infos[i], Reassembled: reasm[i]}
			if want := o.Summarize(pkts[i].LinkType, pkts[i].Data, pkts[i].Length).Info; row.Info != want {
				t.Fatalf("%s: row %d: Info %q, want %q", when, i+1, row.Info, want)
			}
		}
		// Rows decoded again with options (checksums verified) keep the
		// datagrams.
		page, err = s.Rows(0, s.Count(), nil, dissect.Options{ValidateChecksums: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range page.Rows {
			o := dissect.Options{Stream: &infos[i], Reassembled: reasm[i], ValidateChecksums: true}
			if want := o.Summarize(pkts[i].LinkType, pkts[i].Data, pkts[i].Length).Info; row.Info != want {
				t.Fatalf("%s: row %d with checksums verified: Info %q, want %q", when, i+1, row.Info, want)
			}
		}
		for i := range pkts {
			pk, err := s.Packet(i+1, dissect.Options{})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case (pk.Reassembled == nil) != (reasm[i] == nil):
				t.Fatalf("%s: packet %d: reassembled %v, reading in order %v", when, i+1, pk.Reassembled != nil, reasm[i] != nil)
			case pk.Reassembled != nil && (!bytes.Equal(pk.Reassembled.Data, reasm[i].Data) || len(pk.Reassembled.Fragments) != len(reasm[i].Fragments)):
				t.Fatalf("%s: packet %d: the datagram differs from the one reassembled in order", when, i+1)
			}
		}
		for _, expr := range []string{"udp.length > 1500", "ip.fragment.count == 4", "ip.fragment == 125", "udp.stream == 3 && ip.reassembled.length", "ip.flags.mf == 1"} {
			want, got := inOrderMatches(t, expr, pkts, infos, reasm), jobMatches(t, s, expr)
			if len(want) == 0 || !equalInts(got, want) {
				t.Errorf("%s: %s: the job matches %v, reading in order %v", when, expr, got, want)
			}
		}
	}
	check(s, "indexed")
	if err := p1.Close(); err != nil {
		t.Fatal(err)
	}
	p2 := newTestPool(t, Config{DataDir: dir})
	s2, ok := p2.Get(id)
	if !ok {
		t.Fatalf("capture %s not recovered", id)
	}
	check(s2, "after a restart")
}
