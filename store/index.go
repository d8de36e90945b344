package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// recordSize is the size in bytes of one packet's index record.
const recordSize = 48

// record is one packet's entry in a capture's index file. On disk it is
// recordSize bytes, little-endian:
//
//	0  dataOff  int64   offset of the packet's first byte in the spool
//	8  tsNanos  int64   timestamp, nanoseconds since the Unix epoch
//	16 capLen   uint32  captured length
//	20 wireLen  uint32  length on the wire
//	24 linkType uint32  LINKTYPE_ value
//	28 ifIndex  uint32  interface index (pcapng IDB number)
//	32 sumOff   int64   offset of the summary in the summaries file
//	40 sumLen   uint32  length of the summary
//	44 flags    uint32  flagComment when the summary holds a packet comment,
//	                    flagNoTime when the packet has no timestamp
type record struct {
	DataOff  int64
	TSNanos  int64
	CapLen   uint32
	WireLen  uint32
	LinkType pcapio.LinkType
	IfIndex  uint32
	SumOff   int64
	SumLen   uint32
	Flags    uint32
}

// Bits of record.Flags: flagComment, the packet has a comment, kept in its
// summary; flagNoTime, the packet has no timestamp (a pcapng Simple Packet
// Block): tsNanos is 0, the epoch, which is what a download writes.
const (
	flagComment = 1 << 0
	flagNoTime  = 1 << 1
)

// noTime reports whether the packet has no timestamp.
func (rec *record) noTime() bool { return rec.Flags&flagNoTime != 0 }

// put encodes rec into b, which must hold recordSize bytes.
func (rec *record) put(b []byte) {
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(rec.DataOff))
	le.PutUint64(b[8:], uint64(rec.TSNanos))
	le.PutUint32(b[16:], rec.CapLen)
	le.PutUint32(b[20:], rec.WireLen)
	le.PutUint32(b[24:], uint32(rec.LinkType))
	le.PutUint32(b[28:], rec.IfIndex)
	le.PutUint64(b[32:], uint64(rec.SumOff))
	le.PutUint32(b[40:], rec.SumLen)
	le.PutUint32(b[44:], rec.Flags)
}

// get decodes rec from b, which must hold recordSize bytes.
func (rec *record) get(b []byte) {
	le := binary.LittleEndian
	rec.DataOff = int64(le.Uint64(b[0:]))
	rec.TSNanos = int64(le.Uint64(b[8:]))
	rec.CapLen = le.Uint32(b[16:])
	rec.WireLen = le.Uint32(b[20:])
	rec.LinkType = pcapio.LinkType(le.Uint32(b[24:]))
	rec.IfIndex = le.Uint32(b[28:])
	rec.SumOff = int64(le.Uint64(b[32:]))
	rec.SumLen = le.Uint32(b[40:])
	rec.Flags = le.Uint32(b[44:])
}

// Time returns the record's timestamp.
func (rec *record) Time() time.Time { return time.Unix(0, rec.TSNanos).UTC() }

// summary is the packet list's columns for one packet, as stored in the
// summaries file.
type summary struct {
	Source, Destination, Protocol, Info string
	Tags                                []string
	Comment                             string // the packet's pcapng comment
}

// appendSummary encodes s as four length-prefixed strings, the number of
// tags and the tags, then, only when there is one, the comment, and appends
// it to dst.
func appendSummary(dst []byte, s *summary) []byte {
	put := func(str string) {
		dst = binary.AppendUvarint(dst, uint64(len(str)))
		dst = append(dst, str...)
	}
	put(s.Source)
	put(s.Destination)
	put(s.Protocol)
	put(s.Info)
	dst = binary.AppendUvarint(dst, uint64(len(s.Tags)))
	for _, t := range s.Tags {
		put(t)
	}
	if s.Comment != "" {
		put(s.Comment)
	}
	return dst
}

var errBadSummary = errors.New("corrupt summary record")

// decodeSummary decodes a summary written by appendSummary.
func decodeSummary(b []byte) (summary, error) {
	var s summary
	str := func() (string, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", errBadSummary
		}
		v := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return v, nil
	}
	var err error
	for _, p := range []*string{&s.Source, &s.Destination, &s.Protocol, &s.Info} {
		if *p, err = str(); err != nil {
			return s, err
		}
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return s, errBadSummary
	}
	b = b[k:]
	for range n {
		t, err := str()
		if err != nil {
			return s, err
		}
		s.Tags = append(s.Tags, t)
	}
	if len(b) > 0 {
		if s.Comment, err = str(); err != nil {
			return s, err
		}
	}
	return s, nil
}

// readRecords reads the records [start, start+len(dst)) of an index file.
func readRecords(f io.ReaderAt, start int, dst []record) error {
	if len(dst) == 0 {
		return nil
	}
	buf := make([]byte, len(dst)*recordSize)
	if _, err := f.ReadAt(buf, int64(start)*recordSize); err != nil {
		return fmt.Errorf("read index records %d-%d: %w", start, start+len(dst)-1, err)
	}
	for i := range dst {
		dst[i].get(buf[i*recordSize:])
	}
	return nil
}

// records reads the records [start, start+len(dst)) of the index file r
// reads, as readRecords does but through r's mapping or window, allocating
// nothing once r's window is large enough.
func (r *spoolReader) records(start int, dst []record) error {
	if len(dst) == 0 {
		return nil
	}
	b, err := r.readAt(int64(start)*recordSize, len(dst)*recordSize)
	if err != nil {
		return fmt.Errorf("read index records %d-%d: %w", start, start+len(dst)-1, err)
	}
	for i := range dst {
		dst[i].get(b[i*recordSize:])
	}
	return nil
}
