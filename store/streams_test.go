package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/defrag"
	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/streams"
)

// TestStreamsIndexed indexes the shared display-filter capture (the
// corpus and real HTTP traffic; package streams checks its stream fields
// against tshark) and checks that the store gives every packet what
// tracking the capture in order gives it: the Info column of its row,
// the stream record of Packet, and the verdicts of display filters on
// stream fields run as parallel filter jobs.
func TestStreamsIndexed(t *testing.T) {
	path := filepath.Join(testenv.SharedDir(t), "dfilters", "capture.pcapng")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pkts := readPackets(t, data)
	infos, reasm := inOrder(pkts)
	p := newTestPool(t, Config{})
	s := addCapture(t, p, "capture.pcapng", data)

	page, err := s.Rows(0, s.Count(), nil, dissect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	marked := 0
	for i, row := range page.Rows {
		want := dissect.Options{Stream: &infos[i], Reassembled: reasm[i]}.Summarize(pkts[i].LinkType, pkts[i].Data, pkts[i].Length).Info
		if row.Info != want {
			t.Fatalf("row %d: Info %q, want %q", i+1, row.Info, want)
		}
		if strings.HasPrefix(row.Info, "[TCP ") {
			marked++
		}
	}
	if marked < 100 {
		t.Errorf("only %d rows with TCP analysis marks", marked)
	}
	for _, no := range []int{1, 5452, 5557, len(pkts)} {
		pk, err := s.Packet(no, dissect.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if pk.Stream == nil || *pk.Stream != infos[no-1] {
			t.Errorf("packet %d: stream record %+v, want %+v", no, pk.Stream, infos[no-1])
		}
	}

	for _, expr := range []string{"tcp.analysis.retransmission", "tcp.stream == 10", "tcp.analysis.flags && !tcp.analysis.window_update", "udp.stream >= 100", "tcp.analysis.ack_rtt > 0.01", "tcp.seq == 1 && tcp.len > 0"} {
		want, got := inOrderMatches(t, expr, pkts, infos, reasm), jobMatches(t, s, expr)
		if len(want) == 0 || !equalInts(got, want) {
			t.Errorf("%s: the job matches %d packets, tracking in order %d", expr, len(got), len(want))
		}
	}
}

// inOrder reads pkts as the index pass does: IP fragments reassembled and
// streams tracked in capture order. It returns each packet's stream record
// and the datagram it completes (nil for most).
func inOrder(pkts []pcapio.Packet) (infos []dissect.StreamInfo, reasm []*dissect.Reassembled) {
	tr, df := streams.New(), defrag.New()
	infos = make([]dissect.StreamInfo, len(pkts))
	reasm = make([]*dissect.Reassembled, len(pkts))
	for i, p := range pkts {
		infos[i], reasm[i] = tr.AddDefrag(df, p.LinkType, p.Data, p.Length, p.Timestamp)
	}
	return infos, reasm
}

// inOrderMatches returns the numbers of the packets the display filter
// expr matches, each with its stream record and datagram from inOrder.
func inOrderMatches(t *testing.T, expr string, pkts []pcapio.Packet, infos []dissect.StreamInfo, reasm []*dissect.Reassembled) []int {
	t.Helper()
	f, err := dfilter.Compile(expr)
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for i, pk := range pkts {
		if f.Match(dfilter.Packet{LinkType: pk.LinkType, Data: pk.Data, Length: pk.Length, Number: i + 1, Stream: &infos[i], Reassembled: reasm[i]}) {
			want = append(want, i+1)
		}
	}
	return want
}

// jobMatches runs expr as a filter job on s and returns the numbers of
// the packets it matches.
func jobMatches(t *testing.T, s *Store, expr string) []int {
	t.Helper()
	j := startJob(t, s, expr, "test")
	waitDone(t, j)
	page, err := s.Rows(0, s.Count(), j, dissect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.CancelFilter(expr)
	var got []int
	for _, row := range page.Rows {
		got = append(got, row.No)
	}
	return got
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
