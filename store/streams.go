package store

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkttap/pkttap/defrag"
	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/streams"
)

// Stream tracking. The ingest's indexer feeds every packet, in order, to a
// streams.Tracker before the batch's summaries are decoded (so their Info
// columns carry tshark's "[TCP Retransmission]" and relative Seq=), and
// writes what the tracker found for each packet to the streams file
// beside the index, one fixed-size record per packet. Rows, Packet and
// filter jobs, which read packets in any order and in parallel, read the
// records back instead of tracking again.

// streamsName is the file of stream records in a store's folder.
const streamsName = "streams"

// streamRecSize is the size of one stream record.
const streamRecSize = 56

// streamTracking turns stream tracking off when false, for the benchmark
// that measures what it costs (the records are then all empty).
var streamTracking = true

// streamTrack is the indexer's stream tracking: the tracker, the records
// of the batch being indexed and the writer of the streams file.
type streamTrack struct {
	tr    *streams.Tracker
	w     *bufio.Writer
	infos []dissect.StreamInfo
	buf   [streamRecSize]byte

	// IP reassembly (reassembly.go): the table, the datagram each packet
	// of the batch completes (mostly nil), the packets tracked so far and
	// the writer of the reassembly file.
	df    *defrag.Table
	reasm []*dissect.Reassembled
	n     int
	rw    *bufio.Writer
}

// openStreams creates (or empties) the streams file of s, unless it is
// open already, and returns the indexer's tracking for it.
func (s *Store) openStreams() (*streamTrack, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.strm == nil {
		f, err := os.OpenFile(filepath.Join(s.dir, streamsName), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create stream records: %w", err)
		}
		s.strm = f
		// Charged to the disk budget as the index and summaries are.
		s.strmTrack = &streamTrack{w: bufio.NewWriterSize(chargedWriter{w: f, d: s.disk}, 64<<10)}
		if streamTracking {
			s.strmTrack.tr = streams.New()
			s.strmTrack.df = defrag.New()
		}
		rw, err := s.openReassembly()
		if err != nil {
			return nil, err
		}
		s.strmTrack.rw = rw
	}
	return s.strmTrack, nil
}

// release lets the tracker's state go once the ingest has ended: a store
// is ingested once, and its records are on disk. The state is kept per
// conversation (a few hundred bytes each), so a capture with many
// streams would otherwise hold it for as long as the capture is open.
func (st *streamTrack) release() {
	if st != nil {
		st.tr, st.infos, st.df, st.reasm = nil, nil, nil, nil
	}
}

// track runs the tracker and the reassembly of s over the packets of b,
// in order.
func (st *streamTrack) track(s *Store, b *batch) {
	st.infos, st.reasm = st.infos[:0], st.reasm[:0]
	if st.tr == nil {
		st.infos = append(st.infos, make([]dissect.StreamInfo, len(b.pkts))...)
		st.reasm = append(st.reasm, make([]*dissect.Reassembled, len(b.pkts))...)
		st.n += len(b.pkts)
		return
	}
	for i := range b.pkts {
		bp := &b.pkts[i]
		data := b.data[bp.start:bp.end]
		st.n++
		si, r := st.tr.AddDefrag(st.df, bp.linkType, data, bp.wireLen, time.Unix(0, bp.ts))
		if r != nil {
			st.noteReassembled(s, st.n-1, r)
		}
		st.reasm = append(st.reasm, r)
		st.infos = append(st.infos, si)
	}
}

// write appends the record of the batch's packet i.
func (st *streamTrack) write(i int) {
	putStreamInfo(st.buf[:], &st.infos[i])
	st.w.Write(st.buf[:]) // a failure is the file's, reported by flush
}

func (st *streamTrack) flush() error {
	if err := st.w.Flush(); err != nil {
		return fmt.Errorf("write stream records: %w", err)
	}
	if st.rw != nil {
		if err := st.rw.Flush(); err != nil {
			return fmt.Errorf("write reassembly records: %w", err)
		}
	}
	return nil
}

func putStreamInfo(b []byte, si *dissect.StreamInfo) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], si.TCPStream)
	le.PutUint32(b[4:], si.UDPStream)
	var fl byte
	if si.Analyzed {
		fl |= 1
	}
	if si.HasAnalysis {
		fl |= 2
	}
	b[8], b[9], b[10], b[11] = fl, byte(si.WinScale), 0, 0
	for k, v := range [...]uint32{si.Seq, si.Ack, si.NxtSeq, si.Window, si.Flags, si.DupAckNum, si.DupAckFrame, si.AcksFrame, si.BytesInFlight} {
		le.PutUint32(b[12+4*k:], v)
	}
	le.PutUint64(b[48:], uint64(si.AckRTT))
}

func getStreamInfo(b []byte) dissect.StreamInfo {
	le := binary.LittleEndian
	si := dissect.StreamInfo{
		TCPStream: le.Uint32(b[0:]), UDPStream: le.Uint32(b[4:]),
		Analyzed: b[8]&1 != 0, HasAnalysis: b[8]&2 != 0, WinScale: int8(b[9]),
		AckRTT: int64(le.Uint64(b[48:])),
	}
	for k, p := range [...]*uint32{&si.Seq, &si.Ack, &si.NxtSeq, &si.Window, &si.Flags, &si.DupAckNum, &si.DupAckFrame, &si.AcksFrame, &si.BytesInFlight} {
		*p = le.Uint32(b[12+4*k:])
	}
	return si
}

// streamInfo returns the stream record of the packet at 0-based index i,
// nil when the store has none (a store indexed before stream tracking).
func (s *Store) streamInfo(i int) (*dissect.StreamInfo, error) {
	s.mu.Lock()
	f := s.strm
	s.mu.Unlock()
	if f == nil {
		return nil, nil
	}
	var b [streamRecSize]byte
	if _, err := f.ReadAt(b[:], int64(i)*streamRecSize); err != nil {
		return nil, fmt.Errorf("read stream record %d: %w", i+1, err)
	}
	si := getStreamInfo(b[:])
	return &si, nil
}

// streamFields are the prefixes of the fields only stream records give a
// packet: a display filter that names none of them reads no record.
var streamFields = []string{"tcp.stream", "udp.stream", "tcp.seq", "tcp.ack", "tcp.nxtseq", "tcp.window_size", "tcp.analysis", "tcp.options.sack"}

// ifStreams returns s when the display filter f reads stream fields, nil
// otherwise (its scans then read no stream record).
func (s *Store) ifStreams(f *dfilter.Filter) *Store {
	for _, name := range f.Fields() {
		for _, p := range streamFields {
			if strings.HasPrefix(name, p) {
				return s
			}
		}
	}
	return nil
}

// streamFor returns the stream record of the packet at 0-based index i
// for a filter, nil when s is nil or the record cannot be read (the
// packet is then judged without its stream fields).
func (s *Store) streamFor(i int) *dissect.StreamInfo {
	if s == nil {
		return nil
	}
	si, _ := s.streamInfo(i)
	return si
}
