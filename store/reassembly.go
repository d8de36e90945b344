package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/pkttap/pkttap/defrag"
	"github.com/pkttap/pkttap/dissect"
)

// IP reassembly. The indexer's stream tracker feeds every packet, in
// order, to a defrag.Table (streams.Tracker.AddDefrag); a packet whose fragment
// completes a datagram is summarized with the datagram (its Info is the
// reassembled UDP's, say), and the frame numbers of the datagram's
// fragments go to the reassembly file. Packet, rows and filter jobs put
// the datagram together again from those frames when they need it: only
// the packets that complete a datagram have a record, found by a binary
// search of an index held in memory (12 bytes per datagram).
//
// A record is the packet's 0-based index, the number of fragments and
// their frame numbers in capture order, each a little-endian uint32.

// reassemblyName is the file of fragment lists in a store's folder.
const reassemblyName = "reassembly"

// reassembly is a store's index of its reassembled datagrams, guarded by
// Store.mu.
type reassembly struct {
	f    *os.File
	pkts []int32 // 0-based indexes of the packets that complete a datagram, ascending
	offs []int64 // their records' offsets in f
	end  int64   // where the next record goes
}

// openReassembly creates (or empties) the reassembly file of s; the
// indexer writes it through w.
func (s *Store) openReassembly() (*bufio.Writer, error) {
	f, err := os.OpenFile(filepath.Join(s.dir, reassemblyName), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create reassembly records: %w", err)
	}
	s.reasm = reassembly{f: f}
	return bufio.NewWriterSize(chargedWriter{w: f, d: s.disk}, 16<<10), nil
}

// loadReassembly reads the index of a reassembly file written before (a
// store reopened), or leaves s with none when there is no such file.
func (s *Store) loadReassembly() error {
	f, err := os.Open(filepath.Join(s.dir, reassemblyName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	r := reassembly{f: f}
	br := bufio.NewReader(io.NewSectionReader(f, 0, math.MaxInt64))
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err == io.EOF {
			break
		} else if err != nil {
			f.Close()
			return fmt.Errorf("read reassembly records: %w", err)
		}
		pkt, n := binary.LittleEndian.Uint32(hdr[:]), binary.LittleEndian.Uint32(hdr[4:])
		if n == 0 || n > maxFragments || (len(r.pkts) > 0 && int32(pkt) <= r.pkts[len(r.pkts)-1]) {
			f.Close()
			return fmt.Errorf("reassembly record at offset %d: packet %d with %d fragments", r.end, pkt+1, n)
		}
		if _, err := br.Discard(int(n) * 4); err != nil {
			f.Close()
			return fmt.Errorf("read reassembly records: %w", err)
		}
		r.pkts, r.offs = append(r.pkts, int32(pkt)), append(r.offs, r.end)
		r.end += 8 + int64(n)*4
	}
	s.mu.Lock()
	s.reasm = r
	s.reasmCount.Store(int64(len(r.pkts)))
	s.mu.Unlock()
	return nil
}

// maxFragments bounds a datagram's fragments in a record: 8-byte pieces
// of a datagram of at most 65528+65535 bytes.
const maxFragments = (65528 + 65535) / 8

// noteReassembled records that the packet at 0-based index i completes
// the datagram r.
func (st *streamTrack) noteReassembled(s *Store, i int, r *dissect.Reassembled) {
	if st.rw == nil || len(r.Fragments) > maxFragments {
		return
	}
	frames := make([]uint32, 0, len(r.Fragments))
	for _, f := range r.Fragments {
		frames = append(frames, f.Frame)
	}
	slices.Sort(frames) // capture order, as they are replayed
	b := binary.LittleEndian.AppendUint32(nil, uint32(i))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(frames)))
	for _, fr := range frames {
		b = binary.LittleEndian.AppendUint32(b, fr)
	}
	st.rw.Write(b) // a failure is the file's, reported by flush
	s.mu.Lock()
	s.reasm.pkts = append(s.reasm.pkts, int32(i))
	s.reasm.offs = append(s.reasm.offs, s.reasm.end)
	s.reasm.end += int64(len(b))
	s.reasmCount.Store(int64(len(s.reasm.pkts)))
	s.mu.Unlock()
}

// reassembled returns the datagram the packet at 0-based index i
// completes, put together again from its fragments' frames; nil when it
// completes none.
func (s *Store) reassembled(i int) (*dissect.Reassembled, error) {
	if s == nil || s.reasmCount.Load() == 0 {
		return nil, nil
	}
	s.mu.Lock()
	k, found := slices.BinarySearch(s.reasm.pkts, int32(i))
	var off int64
	f := s.reasm.f
	if found {
		off = s.reasm.offs[k]
	}
	s.mu.Unlock()
	if !found || f == nil {
		return nil, nil
	}
	var hdr [8]byte
	if _, err := f.ReadAt(hdr[:], off); err != nil {
		return nil, fmt.Errorf("read reassembly record of packet %d: %w", i+1, err)
	}
	n := binary.LittleEndian.Uint32(hdr[4:])
	if n == 0 || n > maxFragments {
		return nil, fmt.Errorf("reassembly record of packet %d: %d fragments", i+1, n)
	}
	raw := make([]byte, 4*n)
	if _, err := f.ReadAt(raw, off+8); err != nil {
		return nil, fmt.Errorf("read reassembly record of packet %d: %w", i+1, err)
	}
	t := defrag.New()
	t.MaxPending = math.MaxInt
	var r *dissect.Reassembled
	for k := range int(n) {
		fr := binary.LittleEndian.Uint32(raw[4*k:])
		rec, err := s.record(int(fr) - 1)
		if err != nil {
			return nil, fmt.Errorf("fragment of packet %d: %w", i+1, err)
		}
		data, err := s.packetData(&rec)
		if err != nil {
			return nil, fmt.Errorf("fragment of packet %d: %w", i+1, err)
		}
		r = t.Add(fr, rec.LinkType, data, int(rec.WireLen))
	}
	if r == nil {
		return nil, fmt.Errorf("packet %d: its fragments do not make a datagram again", i+1)
	}
	return r, nil
}

// reassembledFor is reassembled for a filter: nil when the datagram cannot
// be read (the packet is then judged as a fragment).
func (s *Store) reassembledFor(i int) *dissect.Reassembled {
	r, _ := s.reassembled(i)
	return r
}
