package capture_test

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// chanReader is a merge input the test feeds: each packet sent on pkts
// is returned by Next; an error sent on errs ends it.
type chanReader struct {
	pkts   chan pcapio.Packet
	errs   chan error
	closed chan struct{}
	reads  atomic.Int64
	once   atomic.Bool
}

func newChanReader() *chanReader {
	return &chanReader{pkts: make(chan pcapio.Packet), errs: make(chan error, 1), closed: make(chan struct{})}
}

func (r *chanReader) Next() (pcapio.Packet, error) {
	select {
	case p := <-r.pkts:
		r.reads.Add(1)
		return p, nil
	case err := <-r.errs:
		return pcapio.Packet{}, err
	case <-r.closed:
		return pcapio.Packet{}, capture.ErrClosed
	}
}

func (r *chanReader) Stats() (capture.Stats, error) {
	return capture.Stats{Received: uint64(r.reads.Load())}, nil
}

func (r *chanReader) Close() error {
	if !r.once.Swap(true) {
		close(r.closed)
	}
	return nil
}

func pkt(sec int, tag byte) pcapio.Packet {
	return pcapio.Packet{Timestamp: time.Unix(int64(1700000000+sec), 0), Data: []byte{tag}, Length: 1}
}

// mergedNext calls m.Next, failing the test if it takes longer than d.
func mergedNext(t *testing.T, m *capture.Merged, d time.Duration) (pcapio.Packet, time.Duration) {
	t.Helper()
	type res struct {
		p   pcapio.Packet
		err error
	}
	ch := make(chan res, 1)
	start := time.Now()
	go func() { p, err := m.Next(); ch <- res{p, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Next: %v", r.err)
		}
		return r.p, time.Since(start)
	case <-time.After(d):
		t.Fatalf("Next blocked for more than %v", d)
	}
	panic("unreachable")
}

// TestMergeOrderAndWindow: packets of two sources come out in timestamp
// order, each with its source's index and link type, when both deliver
// within the window; a silent source holds the other's packets back by
// the window at most; a packet arriving after the window is returned
// out of order and counted late.
func TestMergeOrderAndWindow(t *testing.T) {
	a, b := newChanReader(), newChanReader()
	const window = 200 * time.Millisecond
	m, err := capture.Merge(capture.MergeOptions{Window: window},
		capture.MergeInput{Reader: a, Interface: pcapio.Interface{Name: "h1:eth0", LinkType: pcapio.LinkTypeEthernet}},
		capture.MergeInput{Reader: b, Interface: pcapio.Interface{Name: "h2:any", LinkType: pcapio.LinkTypeLinuxSLL}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	// B's packet 2 reaches the merge before A's packet 1: order by time.
	b.pkts <- pkt(2, 'b')
	a.pkts <- pkt(1, 'a')
	p, _ := mergedNext(t, m, time.Second)
	if p.Data[0] != 'a' || p.InterfaceIndex != 0 || p.LinkType != pcapio.LinkTypeEthernet {
		t.Fatalf("first packet %q ifindex %d %v, want A's (0, EN10MB)", p.Data, p.InterfaceIndex, p.LinkType)
	}
	// A is silent now: B's packet waits the window, no longer.
	p, took := mergedNext(t, m, 5*window)
	if p.Data[0] != 'b' || p.InterfaceIndex != 1 || p.LinkType != pcapio.LinkTypeLinuxSLL {
		t.Fatalf("second packet %q ifindex %d %v, want B's (1, LINUX_SLL)", p.Data, p.InterfaceIndex, p.LinkType)
	}
	if took < window/2 || took > 4*window {
		t.Errorf("B's packet, with A silent, waited %v; want about the window %v", took, window)
	}
	// A delivers a packet older than what was returned: late.
	a.pkts <- pkt(0, 'L')
	p, _ = mergedNext(t, m, 5*window)
	if p.Data[0] != 'L' {
		t.Fatalf("got %q, want the late packet", p.Data)
	}
	st := m.Sources()
	if st[0].Late != 1 || st[1].Late != 0 || st[0].Packets != 2 || st[1].Packets != 1 {
		t.Errorf("sources %+v; want A: 2 packets, 1 late; B: 1 packet", st)
	}
	if got := m.Interfaces(); len(got) != 2 || got[1].Name != "h2:any" {
		t.Errorf("Interfaces() = %+v", got)
	}
}

// TestMergeSlowReaderNeverBlocksSources: while nobody reads the merged
// capture, a source is still drained as fast as it delivers; what does
// not fit in its queue is dropped and counted.
func TestMergeSlowReaderNeverBlocksSources(t *testing.T) {
	a := newChanReader()
	m, err := capture.Merge(capture.MergeOptions{MaxPending: 100},
		capture.MergeInput{Reader: a, Interface: pcapio.Interface{Name: "a", LinkType: pcapio.LinkTypeEthernet}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	const n = 1000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			a.pkts <- pcapio.Packet{Timestamp: time.Unix(int64(i), 0), Data: make([]byte, 10), Length: 10}
		}
	}()
	select {
	case <-done: // every send was taken although Next was never called
	case <-time.After(5 * time.Second):
		t.Fatalf("the source blocked after %d of %d packets while the merged capture was not read", a.reads.Load(), n)
	}
	// The last packet taken may still be on its way into the queue.
	var st capture.SourceStatus
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if st = m.Sources()[0]; st.Overflow+uint64(len("0123456789")) >= n || time.Now().After(deadline) {
			break
		}
	}
	if st.Overflow != n-10 || st.Stats.Dropped != n-10 || st.Stats.Received != n {
		t.Errorf("source %+v; want %d received, %d dropped (a 100-byte queue holds 10)", st, n, n-10)
	}
	for i := range 10 {
		p, _ := mergedNext(t, m, 2*time.Second)
		if p.Timestamp.Unix() != int64(i) {
			t.Fatalf("packet %d has time %v: the queue keeps the first packets", i, p.Timestamp.Unix())
		}
	}
}

// TestMergeFailStopReconnect: a failed source keeps its packets and
// ends alone, the other goes on; with KeepFailed it can be reconnected
// (counts summed); StopSource ends a source; Next returns io.EOF once
// every source has ended.
func TestMergeFailStopReconnect(t *testing.T) {
	a, b := newChanReader(), newChanReader()
	m, err := capture.Merge(capture.MergeOptions{Window: 50 * time.Millisecond, KeepFailed: true},
		capture.MergeInput{Reader: a, Interface: pcapio.Interface{Name: "a", LinkType: pcapio.LinkTypeEthernet}},
		capture.MergeInput{Reader: b, Interface: pcapio.Interface{Name: "b", LinkType: pcapio.LinkTypeEthernet}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b.pkts <- pkt(1, 'b')
	lost := errors.New("the connection was cut")
	b.errs <- lost
	if p, _ := mergedNext(t, m, time.Second); p.Data[0] != 'b' {
		t.Fatalf("got %q, want B's packet received before it failed", p.Data)
	}
	waitState(t, m, 1, capture.SourceFailed)
	if st := m.Sources()[1]; !errors.Is(st.Err, lost) || st.Stats.Received != 1 {
		t.Errorf("B: %+v, want failed with its error, 1 received", st)
	}
	a.pkts <- pkt(2, 'a')
	if p, took := mergedNext(t, m, time.Second); p.Data[0] != 'a' || took > 500*time.Millisecond {
		t.Fatalf("got %q after %v: A goes on without B", p.Data, took)
	}
	if err := m.Reconnect(0, newChanReader()); !errors.Is(err, capture.ErrSourceRunning) {
		t.Errorf("Reconnect of a running source: %v, want ErrSourceRunning", err)
	}
	b2 := newChanReader()
	if err := m.Reconnect(1, b2); err != nil {
		t.Fatal(err)
	}
	b2.pkts <- pkt(3, 'c')
	a.pkts <- pkt(4, 'd')
	for _, want := range []struct {
		tag   byte
		index int
	}{{'c', 1}, {'d', 0}} {
		if p, _ := mergedNext(t, m, time.Second); p.Data[0] != want.tag || p.InterfaceIndex != want.index {
			t.Fatalf("got %q from source %d, want %q from %d", p.Data, p.InterfaceIndex, want.tag, want.index)
		}
	}
	if st := m.Sources()[1]; st.State != capture.SourceRunning || st.Stats.Received != 2 || st.Reconnects != 1 {
		t.Errorf("B after reconnecting: %+v, want running, 2 received in all", st)
	}
	m.StopSource(0)
	m.StopSource(1)
	if _, err := m.Next(); err != io.EOF {
		t.Fatalf("Next with every source stopped = %v, want io.EOF", err)
	}
	for i, st := range m.Sources() {
		if st.State != capture.SourceStopped || st.Err != nil {
			t.Errorf("source %d: %+v, want stopped on request", i, st)
		}
	}
	m.Close()
	if _, err := m.Next(); !errors.Is(err, capture.ErrClosed) {
		t.Errorf("Next after Close = %v, want ErrClosed", err)
	}
}

func waitState(t *testing.T, m *capture.Merged, i int, state string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); m.Sources()[i].State != state; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("source %d is %s, want %s", i, m.Sources()[i].State, state)
		}
	}
}

// TestMergeFilesAsMergecap merges two capture files of different link
// types and writes the result as pcapng with both interfaces: tshark
// reads the same packets, in the same order, with the same interfaces
// and times, as from mergecap's merge of the same files.
func TestMergeFilesAsMergecap(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	mergecap := testenv.LookPath(t, "tshark", "mergecap")
	corpus := filepath.Join(testenv.SharedDir(t), "corpus")
	files := []string{filepath.Join(corpus, "forces3.pcap"), filepath.Join(corpus, "mptcp-v0.pcap")}
	var inputs []capture.MergeInput
	for i, f := range files {
		c, err := capture.FromFile(f).Open()
		if err != nil {
			t.Fatal(err)
		}
		// mergecap names each interface after its file's.
		inputs = append(inputs, capture.MergeInput{Reader: c, Interface: pcapio.Interface{Name: fmt.Sprintf("file%d", i), LinkType: c.LinkType(), Snaplen: 262144}})
	}
	m, err := capture.Merge(capture.MergeOptions{}, inputs...)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "merged.pcapng")
	d, err := capture.ToFile(out).Interfaces(m.Interfaces()).Open()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		p, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := d.WritePacket(p); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if n != 154+264 {
		t.Fatalf("merged %d packets, want %d", n, 154+264)
	}
	want := filepath.Join(t.TempDir(), "mergecap.pcapng")
	if b, err := exec.Command(mergecap, "-w", want, files[0], files[1]).CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v\n%s", err, b)
	}
	read := func(file string) []string {
		b, err := exec.Command(tshark, "-r", file, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.interface_id",
			"-e", "frame.encap_type", "-e", "frame.len", "-e", "frame.cap_len").Output()
		if err != nil {
			t.Fatalf("tshark -r %s: %v", file, err)
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	got, exp := read(out), read(want)
	if len(got) != len(exp) {
		t.Fatalf("tshark reads %d packets from the merge, %d from mergecap's", len(got), len(exp))
	}
	for i := range got {
		if got[i] != exp[i] {
			t.Errorf("packet %d: merge %q, mergecap %q", i+1, got[i], exp[i])
		}
	}
}

// BenchmarkMerge reads two capture files through Merge, against the
// anchor of reading the same files one after the other with Next (the
// copies Merge's sources make): merged/direct is what merging costs per
// packet (a goroutine per source, a queue, the timestamp order).
func BenchmarkMerge(b *testing.B) {
	corpus := filepath.Join(testenv.SharedDir(b), "corpus")
	files := []string{filepath.Join(corpus, "forces3.pcap"), filepath.Join(corpus, "mptcp-v0.pcap")}
	open := func() []*capture.Capture {
		var cs []*capture.Capture
		for _, f := range files {
			c, err := capture.FromFile(f).Open()
			if err != nil {
				b.Fatal(err)
			}
			cs = append(cs, c)
		}
		return cs
	}
	var direct, merged time.Duration
	var n int
	for b.Loop() {
		start := time.Now()
		for _, c := range open() {
			for {
				if _, err := c.Next(); err != nil {
					break
				}
				n++
			}
			c.Close()
		}
		direct += time.Since(start)
		start = time.Now()
		var inputs []capture.MergeInput
		for _, c := range open() {
			inputs = append(inputs, capture.MergeInput{Reader: c, Interface: pcapio.Interface{LinkType: c.LinkType()}})
		}
		m, err := capture.Merge(capture.MergeOptions{}, inputs...)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := m.Next(); err != nil {
				break
			}
		}
		m.Close()
		merged += time.Since(start)
	}
	b.ReportMetric(float64(merged)/float64(direct), "merged/direct")
	b.ReportMetric(float64(n)/direct.Seconds(), "direct-pkts/s")
}
