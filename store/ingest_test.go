package store

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/pcapio"
)

// replaySource is a LiveSource that hands out the packets it is given, in
// turn, then waits until it is closed, as an idle interface does.
type replaySource struct {
	pkts   []pcapio.Packet
	n      int
	closed chan struct{}
	once   sync.Once
}

func newReplaySource(pkts []pcapio.Packet) *replaySource {
	return &replaySource{pkts: pkts, closed: make(chan struct{})}
}

func (r *replaySource) NextZeroCopy() (pcapio.Packet, error) {
	if r.n < len(r.pkts) {
		select {
		case <-r.closed:
			return pcapio.Packet{}, capture.ErrClosed
		default:
		}
		r.n++
		return r.pkts[r.n-1], nil
	}
	<-r.closed
	return pcapio.Packet{}, capture.ErrClosed
}

func (r *replaySource) LinkType() pcapio.LinkType { return pcapio.LinkTypeEthernet }

func (r *replaySource) Stats() (capture.Stats, error) {
	return capture.Stats{Received: uint64(len(r.pkts))}, nil
}

func (r *replaySource) Close() error {
	r.once.Do(func() { close(r.closed) })
	return nil
}

// indexOf reads a store's whole index: its records, with the spool offset
// left out (a file's packets are where the file has them, a live
// capture's where its spool put them), each packet's bytes read from the
// spool at that offset, and its summary.
func indexOf(t testing.TB, s *Store) ([]record, [][]byte, []summary) {
	t.Helper()
	n := s.Count()
	recs := make([]record, n)
	if err := readRecords(s.index, 0, recs); err != nil {
		t.Fatal(err)
	}
	data := make([][]byte, n)
	for i := range recs {
		d, err := s.packetData(&recs[i])
		if err != nil {
			t.Fatal(err)
		}
		data[i] = d
	}
	sums, err := s.summaries(recs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		recs[i].DataOff = 0
	}
	return recs, data, sums
}

// TestFileAndLiveIndexesSame feeds the same packets to the ingest pipeline
// from a capture file and from a live source, and checks that the two
// stores' indexes are the same: records (but for where the spool keeps the
// bytes), the bytes at those places, summaries, and what the stores say of
// themselves. The packets cross several batches.
func TestFileAndLiveIndexesSame(t *testing.T) {
	const n = 5000
	data := synthetic(t, pcapio.FormatPcap, n)
	pkts := readPackets(t, data)
	p := newTestPool(t, Config{})
	fs := addCapture(t, p, "same.pcapng", pcapngOf(t, pkts, pcapio.LinkTypeEthernet))
	src := newReplaySource(pkts)
	ls, err := p.AddLive(src, LiveOptions{Interface: "replay", Snaplen: capture.MaxSnaplen})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ls.Count() < n; {
		changed := ls.Changed()
		if ls.Count() >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live store: %d of %d packets after 30 s", ls.Count(), n)
		}
		select {
		case <-changed:
		case <-time.After(time.Second):
		}
	}
	if err := ls.Stop("test"); err != nil {
		t.Fatal(err)
	}
	<-ls.Done()

	frecs, fdata, fsums := indexOf(t, fs)
	lrecs, ldata, lsums := indexOf(t, ls)
	if len(frecs) != n || len(lrecs) != n {
		t.Fatalf("%d packets from the file, %d live; want %d", len(frecs), len(lrecs), n)
	}
	for i := range n {
		if frecs[i] != lrecs[i] || !bytes.Equal(fdata[i], ldata[i]) || !bytes.Equal(fdata[i], pkts[i].Data) {
			t.Fatalf("packet %d: file %+v % x\nlive %+v % x", i+1, frecs[i], fdata[i], lrecs[i], ldata[i])
		}
		if fsums[i].Info != lsums[i].Info || fsums[i].Protocol != lsums[i].Protocol || fsums[i].Source != lsums[i].Source {
			t.Fatalf("packet %d: summaries %+v and %+v", i+1, fsums[i], lsums[i])
		}
	}
	fi, li := fs.Info(), ls.Info()
	if fi.Packets != li.Packets || fi.First != li.First || fi.Last != li.Last || fi.SpanSeconds != li.SpanSeconds ||
		fi.FirstSec != li.FirstSec || fi.State != StateReady || li.State != StateReady {
		t.Errorf("file %+v\nlive %+v", fi, li)
	}
}
