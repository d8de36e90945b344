package web

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/pcapio"
)

// BenchmarkLiveIndex measures how fast a live capture spools and indexes
// packets handed over as fast as it takes them (samplegen's synthetic mix,
// from a fake source: no kernel, no socket), against the anchor of the
// index pass over a .pcap file of the same packets, in the same run. It
// reports packets per second; the live path is the one to compare with the
// rates an interface can deliver.
func BenchmarkLiveIndex(b *testing.B) {
	const n = 200_000
	b.Run("file", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "anchor.pcap")
		if err := os.WriteFile(path, synthetic(b, pcapio.FormatPcap, n), 0o600); err != nil {
			b.Fatal(err)
		}
		s, _ := newTestServer(b, Config{})
		b.ResetTimer()
		for range b.N {
			c, err := s.OpenFile(path)
			if err != nil {
				b.Fatal(err)
			}
			<-c.Done()
			if c.Count() != n {
				b.Fatalf("%d packets indexed, want %d", c.Count(), n)
			}
			b.StopTimer()
			s.pool.Remove(c.ID())
			b.StartTimer()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	})
	b.Run("live", func(b *testing.B) {
		// The first 4096 packets of the mix, in turn, made beforehand so
		// the source costs next to nothing.
		frames := make([][]byte, 4096)
		for i := range frames {
			frames[i] = samplegen.SyntheticPacket(i, nil)
		}
		s, _ := newTestServer(b, Config{Live: &fakeBackend{ifaces: fakeInterfaces(), replay: n, frames: frames}})
		b.ResetTimer()
		for range b.N {
			c, err := s.StartLive(LiveOptions{Interface: "veth0"})
			if err != nil {
				b.Fatal(err)
			}
			for {
				changed := c.Changed()
				if c.Count() >= n {
					break
				}
				<-changed
			}
			b.StopTimer()
			s.pool.Remove(c.ID())
			b.StartTimer()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	})
}
