package store

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/pcapio"
)

// newTestPool opens a pool on a fresh data dir (unless cfg names one),
// closed when the test ends.
func newTestPool(t testing.TB, cfg Config) *Pool {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Logger == nil && !testing.Verbose() {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p, err := OpenPool(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// synthetic returns a capture of n synthetic packets.
func synthetic(t testing.TB, format pcapio.Format, n int) []byte {
	return samplegen.MustSynthetic(t, format, n)
}

// readPackets reads every packet of a capture file.
func readPackets(t testing.TB, data []byte) []pcapio.Packet {
	return samplegen.MustReadAll(t, data)
}

// pcapngOf writes pkts as a pcapng file with an interface of each link
// type lts, in order (a packet's InterfaceIndex names its own).
func pcapngOf(t testing.TB, pkts []pcapio.Packet, lts ...pcapio.LinkType) []byte {
	t.Helper()
	data, err := samplegen.Pcapng(pkts, lts...)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// addCapture adds data to p as a new store and waits until it is indexed.
func addCapture(t testing.TB, p *Pool, name string, data []byte) *Store {
	t.Helper()
	s, err := p.Add(name, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(60 * time.Second):
		t.Fatalf("%s still indexing after 60 s: %+v", name, s.Info())
	}
	return s
}

// openCapture adds n synthetic packets to p and waits until they are
// indexed.
func openCapture(t testing.TB, p *Pool, n int) *Store {
	t.Helper()
	return addCapture(t, p, "q.pcap", synthetic(t, pcapio.FormatPcap, n))
}

// startJob starts the job for expr on s as client asks for it.
func startJob(t testing.TB, s *Store, expr, client string) *Job {
	t.Helper()
	j, err := s.StartFilter(expr, client)
	if err != nil {
		t.Fatalf("start %q: %v", expr, err)
	}
	return j
}

// waitDone waits (a bounded time) until j is done.
func waitDone(t testing.TB, j *Job) {
	t.Helper()
	select {
	case <-j.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("job %q not done after 30 s: %+v", j.expr, j.status())
	}
}
