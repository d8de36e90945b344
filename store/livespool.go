package store

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// A live capture's spool is a pcapng file: a Section Header Block, one
// Interface Description Block per source (the interface, its capture
// filter and snap length) and one Enhanced Packet Block per packet,
// without options. Its
// blocks reach the file whole, at least every liveFlushEvery, before the
// packets are published, so after a crash tcpdump, tshark and pkttap-web
// itself read every published packet; a block cut by a crash in the middle
// of a write is cut off by truncateSpool on recovery.
const (
	epbHeaderLen  = 28 // an Enhanced Packet Block's bytes before its packet data
	epbTrailerLen = 4  // its bytes after the data's padding (no options)
)

// epbEnd returns the offset just past the spool's Enhanced Packet Block
// whose capLen bytes of packet data start at dataOff.
func epbEnd(dataOff int64, capLen int) int64 {
	return dataOff + int64(capLen+(-capLen&3)) + epbTrailerLen
}

// liveSpool writes a live capture's packets to its spool file as pcapng
// with pcapio's writer. The writer encodes into memory; flush writes what
// it encoded with one write at the file's end, so the file only ever grows
// by whole blocks.
type liveSpool struct {
	f    *os.File
	w    *pcapio.Writer
	buf  bytes.Buffer // what the writer encoded since the last flush
	size int64        // bytes in the file
	end  int64        // where the next block starts: size plus what buf holds
	data int64        // captured bytes spooled, which Config.MaxLive limits
}

// newLiveSpool writes the spool's section header and interface
// descriptions for ifcs to f, which must be empty.
func newLiveSpool(f *os.File, ifcs []pcapio.Interface) (*liveSpool, error) {
	s := &liveSpool{f: f}
	w, err := pcapio.NewWriter(&s.buf, pcapio.WriterOptions{Format: pcapio.FormatPcapNg, Interfaces: ifcs})
	if err != nil {
		return nil, fmt.Errorf("spool header: %w", err)
	}
	s.w = w
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("spool header: %w", err)
	}
	s.end = int64(s.buf.Len())
	if err := s.flush(); err != nil {
		return nil, err
	}
	return s, nil
}

// add encodes the packets of b as far as limit (captured bytes in all)
// allows, and sets each one's spool offset. It returns how many packets it
// took and whether the limit cut the batch. They reach the file at the
// next flush.
func (s *liveSpool) add(b *batch, limit int64) (int, bool, error) {
	var p pcapio.Packet
	for i := range b.pkts {
		bp := &b.pkts[i]
		data := b.data[bp.start:bp.end]
		if s.data+int64(len(data)) > limit {
			return i, true, nil
		}
		p = pcapio.Packet{Timestamp: time.Unix(0, bp.ts), Data: data, Length: bp.wireLen, LinkType: bp.linkType, InterfaceIndex: bp.ifIndex}
		if err := s.w.WritePacket(&p); err != nil {
			return i, false, fmt.Errorf("write spool: %w", err)
		}
		bp.dataOff = s.end + epbHeaderLen
		s.end = epbEnd(bp.dataOff, len(data))
		s.data += int64(len(data))
	}
	return len(b.pkts), false, nil
}

// blockBytes returns the bytes the packets of b take in the spool, block
// headers and padding included.
func blockBytes(b *batch) int64 {
	var n int64
	for _, bp := range b.pkts {
		n += epbEnd(epbHeaderLen, bp.end-bp.start)
	}
	return n
}

// flush writes the blocks encoded since the last flush to the file.
func (s *liveSpool) flush() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write spool: %w", err)
	}
	if s.buf.Len() == 0 {
		return nil
	}
	n, err := s.f.WriteAt(s.buf.Bytes(), s.size)
	s.size += int64(n)
	if err != nil {
		return fmt.Errorf("write spool: %w", err)
	}
	s.buf.Reset()
	return nil
}
