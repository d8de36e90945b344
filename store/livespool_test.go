package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/pcapio"
)

// BenchmarkLiveSpool measures what writing the live spool as pcapng costs
// per packet (pcapio's writer into memory, then one write per flush)
// against the anchor of writing the batch's raw bytes, as the spool was
// written before it had block headers, in the same run: batches of 1024
// packets of samplegen's mix, one flush per batch.
func BenchmarkLiveSpool(b *testing.B) {
	bt := &batch{}
	for i := range batchPackets {
		data := samplegen.SyntheticPacket(i, nil)
		start := len(bt.data)
		bt.data = append(bt.data, data...)
		bt.pkts = append(bt.pkts, batchPkt{start: start, end: len(bt.data), ts: int64(i) * 1000, wireLen: len(data), linkType: pcapio.LinkTypeEthernet})
	}
	open := func(b *testing.B) *os.File {
		f, err := os.Create(filepath.Join(b.TempDir(), "spool"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bt.pkts)), "ns/pkt")
	}
	b.Run("raw", func(b *testing.B) {
		f := open(b)
		var off int64
		for i := range b.N {
			if i%256 == 0 {
				f.Truncate(0)
				off = 0
			}
			if _, err := f.WriteAt(bt.data, off); err != nil {
				b.Fatal(err)
			}
			off += int64(len(bt.data))
		}
		report(b)
	})
	b.Run("pcapng", func(b *testing.B) {
		f := open(b)
		var sp *liveSpool
		for i := range b.N {
			if i%256 == 0 {
				f.Truncate(0)
				var err error
				if sp, err = newLiveSpool(f, []pcapio.Interface{{LinkType: pcapio.LinkTypeEthernet}}); err != nil {
					b.Fatal(err)
				}
			}
			if _, _, err := sp.add(bt, 1<<62); err != nil {
				b.Fatal(err)
			}
			if err := sp.flush(); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
}
