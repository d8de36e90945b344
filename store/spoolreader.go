package store

import (
	"fmt"
	"io"
)

// spoolWindow is how many spool bytes a spoolReader reads at once.
const spoolWindow = 1 << 20

// spoolReader reads a file (a spool, or an index) in ascending offset
// order. With a fileMap it hands out slices of the file's mappings, copying
// nothing; otherwise (pread mode: no map, or bytes the map cannot give,
// such as a read straddling two segments) it reads through one reusable
// window, so a scan over the whole capture makes one system call per
// window instead of one per packet.
type spoolReader struct {
	f      io.ReaderAt
	m      *fileMap // nil: pread mode; acquired by whoever set it
	seg    []byte   // the mapped segment last used
	segOff int64    // file offset of seg[0]
	buf    []byte   // the window, made when first needed (a mapped read needs none)
	window int      // its size; 0 means spoolWindow
	start  int64    // file offset of buf[0]
	n      int      // valid bytes in buf
}

func newSpoolReader(f io.ReaderAt) *spoolReader {
	return &spoolReader{f: f, buf: make([]byte, spoolWindow)}
}

// reset points the reader at f, through m unless m is nil, forgetting what
// it has read. m must stay acquired while the reader is used.
func (s *spoolReader) reset(f io.ReaderAt, m *fileMap) {
	s.f, s.m, s.seg, s.segOff, s.n = f, m, nil, 0, 0
}

// read returns the length bytes at off. The slice is valid until the next
// call, and, read from a mapping, until the map is released; it must not
// be written to.
func (s *spoolReader) read(off int64, length int) ([]byte, error) {
	b, err := s.readAt(off, length)
	if err != nil {
		return nil, fmt.Errorf("read spool at offset %d: %w", off, err)
	}
	return b, nil
}

// readAt is read, its error not wrapped.
func (s *spoolReader) readAt(off int64, length int) ([]byte, error) {
	if b := s.mapped(off, length); b != nil {
		return b, nil
	}
	if off >= s.start && off+int64(length) <= s.start+int64(s.n) {
		i := off - s.start
		return s.buf[i : i+int64(length)], nil
	}
	size := s.window
	if size == 0 {
		size = spoolWindow
	}
	if s.m != nil {
		size = 0 // the rare read the map cannot give (straddling two segments): just it
	}
	if size = max(size, length); len(s.buf) < size {
		s.buf = make([]byte, size)
	}
	n, err := s.f.ReadAt(s.buf[:size], off)
	if n < length {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		s.n = 0
		return nil, err
	}
	s.start, s.n = off, n
	return s.buf[:length], nil
}

// mapped returns the length bytes at off from the map, or nil when the map
// cannot give them.
func (s *spoolReader) mapped(off int64, length int) []byte {
	if i := off - s.segOff; len(s.seg) > 0 && i >= 0 && i <= int64(len(s.seg)-length) {
		return s.seg[i : i+int64(length) : i+int64(length)]
	}
	if s.m == nil {
		return nil
	}
	base, seg, more := s.m.segment(off, length)
	if seg == nil {
		if !more {
			s.m = nil // pread from now on
		}
		return nil
	}
	s.seg, s.segOff = seg, base
	i := off - base
	return seg[i : i+int64(length) : i+int64(length)]
}

// touchBytes is how much of each packet touch brings into the CPU's
// caches: the headers most filters read.
const touchBytes = 64

// touch reads a byte of each cache line of the first touchBytes of each
// packet of recs that is mapped, and returns a value made of them, for the
// caller to keep so that the reads are made. Read from a mapping, packets
// come from memory one cache miss at a time, each waited for while a
// filter runs between them; touched first, in one tight loop, their misses
// overlap, and the filter then finds them in the cache. (Read with pread,
// the copy has brought them into the cache.)
func (s *spoolReader) touch(recs []record) byte {
	if s.m == nil && s.seg == nil {
		return 0
	}
	var x byte
	for k := range recs {
		rec := &recs[k]
		if n := min(int(rec.CapLen), touchBytes); n > 0 {
			if b := s.mapped(rec.DataOff, n); b != nil {
				x ^= b[0] ^ b[n-1]
			}
		}
	}
	return x
}
