package store

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/follow"
)

// Follow Stream on a store. The packets of a stream are found in the
// stream records (one read of the streams file, in blocks), followed
// without their bytes (the follower works on lengths), and the result is
// a map of the stream's chunks: which bytes of which packet each is. The
// bytes of a page are read from the spool when asked for, so a long
// stream never sits in memory, only its map (about 40 bytes a chunk).

// FollowChunk is one piece of a followed stream: bytes of one packet's
// payload, or a gap the capture missed.
type FollowChunk struct {
	Dir     uint8  // 0 from the client (node 0), 1 from the server
	No      uint32 // the packet's number (1-based); for a gap, the packet that revealed it
	Off     uint32 // where the bytes start in the packet's captured data
	Len     uint32
	Missing uint32 // not 0 for a gap: the bytes missing (its text is follow.GapText)
	// Reassembled says Off is in the IP datagram the packet completes,
	// not in its captured data.
	Reassembled bool
	// Start is where the chunk starts among the bytes of both directions
	// in order, DirStart among its direction's bytes; DirIndex is its
	// number among its direction's chunks.
	Start, DirStart int64
	DirIndex        uint32
}

// FollowMap is a followed stream's chunks in order, as of Packets packets
// of the capture.
type FollowMap struct {
	Proto          follow.Proto
	Stream         uint32
	Client, Server follow.Endpoint
	Chunks         []FollowChunk
	Total          [2]int64 // bytes per direction
	Count          [2]int   // chunks per direction
	Packets        int      // the capture's packets when the map was made
	StreamPackets  int      // packets of the stream
}

// ErrNoStreams reports a capture without stream records (indexed before
// pkttap tracked streams): open it again to index it anew.
var ErrNoStreams = errors.New("the capture has no stream records")

// followScanBlock is how many stream records a scan reads at once.
const followScanBlock = 4096

// Follow follows stream number stream (0-based, as tcp.stream and
// udp.stream) of protocol p over the packets indexed so far.
func (s *Store) Follow(ctx context.Context, p follow.Proto, stream uint32) (*FollowMap, error) {
	s.mu.Lock()
	f := s.strm
	s.mu.Unlock()
	if f == nil {
		return nil, ErrNoStreams
	}
	n := s.Count()
	m := &FollowMap{Proto: p, Stream: stream, Packets: n}
	sel := follow.Selector{Proto: p, Stream: stream}
	payloads := map[uint32]uint32{} // where each followed packet's payload starts
	inDatagram := map[uint32]bool{} // the packets whose payload is in their reassembled datagram
	fl := follow.New(p, func(c *follow.Chunk) {
		fc := FollowChunk{Dir: c.Dir, No: c.Frame, Len: c.Len, Missing: c.Missing, Start: m.Total[0] + m.Total[1], DirStart: m.Total[c.Dir], DirIndex: uint32(m.Count[c.Dir])}
		if c.Missing == 0 {
			fc.Off, fc.Reassembled = c.Off+payloads[c.Frame], inDatagram[c.Frame]
		}
		m.Chunks = append(m.Chunks, fc)
		m.Total[c.Dir] += int64(c.Len)
		m.Count[c.Dir]++
	})
	buf := make([]byte, followScanBlock*streamRecSize)
	var tps []dissect.Transport
	for start := 0; start < n; start += followScanBlock {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k := min(followScanBlock, n-start)
		if _, err := f.ReadAt(buf[:k*streamRecSize], int64(start)*streamRecSize); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read stream records: %w", err)
		}
		for i := 0; i < k; i++ {
			r := buf[i*streamRecSize:]
			id := le32(r[0:])
			if p == follow.UDP {
				id = le32(r[4:])
			}
			if id != stream+1 {
				continue
			}
			idx := start + i
			si := getStreamInfo(r[:streamRecSize])
			rec, err := s.record(idx)
			if err != nil {
				return nil, err
			}
			data, err := s.packetData(&rec)
			if err != nil {
				return nil, err
			}
			ra, err := s.reassembled(idx)
			if err != nil {
				return nil, err
			}
			pk := follow.Packet{Frame: uint32(idx + 1), Link: rec.LinkType, Data: data, WireLen: int(rec.WireLen), Stream: &si, Reassembled: ra}
			seg, more, ok := sel.Segment(&pk, tps)
			tps = more
			if !ok {
				continue
			}
			m.StreamPackets++
			base := data
			if seg.Reassembled {
				base = ra.Data
				inDatagram[seg.Frame] = true
			}
			payloads[seg.Frame] = uint32(cap(base) - cap(seg.Data)) // seg.Data is a part of base
			seg.Data = nil                                          // the map keeps places, not bytes
			fl.Add(&seg)
		}
	}
	m.Client, m.Server = fl.Nodes()
	return m, nil
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// ChunkData returns the bytes of chunk c of a map of s: read from the
// spool, or a gap's text.
func (s *Store) ChunkData(c *FollowChunk) ([]byte, error) {
	if c.Missing != 0 {
		return follow.GapText(c.Missing), nil
	}
	if c.Reassembled {
		r, err := s.reassembled(int(c.No) - 1)
		if err != nil {
			return nil, err
		}
		if r == nil || uint64(c.Off)+uint64(c.Len) > uint64(len(r.Data)) {
			return nil, fmt.Errorf("packet %d: follow chunk past its reassembled datagram", c.No)
		}
		return append([]byte(nil), r.Data[c.Off:c.Off+c.Len]...), nil
	}
	rec, err := s.record(int(c.No) - 1)
	if err != nil {
		return nil, err
	}
	if uint64(c.Off)+uint64(c.Len) > uint64(rec.CapLen) {
		return nil, fmt.Errorf("packet %d: follow chunk past its %d bytes", c.No, rec.CapLen)
	}
	buf := make([]byte, c.Len)
	if _, err := s.spool.ReadAt(buf, rec.DataOff+int64(c.Off)); err != nil {
		return nil, fmt.Errorf("read packet %d's payload: %w", c.No, err)
	}
	return buf, nil
}
