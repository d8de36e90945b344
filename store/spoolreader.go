package store

import (
	"fmt"
	"io"
)

// spoolWindow is how many spool bytes a spoolReader reads at once.
const spoolWindow = 1 << 20

// spoolReader reads packets from a spool in ascending offset order through
// one reusable window, so a scan over the whole capture makes one system
// call per window instead of one per packet.
type spoolReader struct {
	f     io.ReaderAt
	buf   []byte
	start int64 // spool offset of buf[0]
	n     int   // valid bytes in buf
}

func newSpoolReader(f io.ReaderAt) *spoolReader {
	return &spoolReader{f: f, buf: make([]byte, spoolWindow)}
}

// read returns the length bytes at off. The slice is valid until the next
// call.
func (s *spoolReader) read(off int64, length int) ([]byte, error) {
	if off >= s.start && off+int64(length) <= s.start+int64(s.n) {
		i := off - s.start
		return s.buf[i : i+int64(length)], nil
	}
	if length > len(s.buf) {
		s.buf = make([]byte, length)
	}
	n, err := s.f.ReadAt(s.buf, off)
	if n < length {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		s.n = 0
		return nil, fmt.Errorf("read spool at offset %d: %w", off, err)
	}
	s.start, s.n = off, n
	return s.buf[:length], nil
}
