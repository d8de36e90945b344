package pcapio

import (
	"errors"
	"fmt"
	"io"
)

const (
	// initialBufSize is the read buffer a Reader starts with.
	initialBufSize = 64 << 10
	// streamBufSize is what the buffer grows to once the stream has shown
	// it is longer than the initial buffer: large reads are what make
	// reading fast.
	streamBufSize = 1 << 20
	// sharedBufSize is the size of the buffers that replace one whose
	// bytes were handed out by Reader.Next: small, because a packet kept
	// keeps its whole buffer alive.
	sharedBufSize = 64 << 10
	// maxBlockSize is the largest pcapng block accepted (libpcap's limit).
	maxBlockSize = 16 << 20
)

// buffer is the Reader's window on its source: buf[pos:end] holds bytes not
// yet consumed, and buf[0] is at stream offset base.
type buffer struct {
	src  io.Reader
	buf  []byte
	pos  int
	end  int
	base int64
	err  error // sticky error from src (io.EOF at its end)
	// shared is set when bytes of buf were handed to a caller to keep:
	// buf must then never be written again.
	shared bool
}

// offset returns the stream offset of buf[pos].
func (b *buffer) offset() int64 { return b.base + int64(b.pos) }

// avail returns how many unconsumed bytes are buffered.
func (b *buffer) avail() int { return b.end - b.pos }

// fill makes at least n unconsumed bytes available in buf[pos:], reading
// from the source as needed. The buffer only grows once it is full of real
// bytes, so a hostile length field cannot make it allocate more than the
// input holds (plus at most a doubling). It returns the source's error
// (io.EOF at the end) when fewer than n bytes are left.
func (b *buffer) fill(n int) error {
	if b.end-b.pos >= n {
		return nil
	}
	empty := 0
	for b.end-b.pos < n {
		if b.err != nil {
			return b.err
		}
		if len(b.buf)-b.pos < n || len(b.buf)-b.end < len(b.buf)/2 {
			b.compact(n)
		}
		m, err := b.src.Read(b.buf[b.end:])
		if m < 0 || m > len(b.buf)-b.end {
			b.err = errors.New("pcapio: source returned an invalid byte count")
			return b.err
		}
		b.end += m
		if err != nil {
			b.err = err
		} else if m == 0 {
			if empty++; empty >= 100 {
				b.err = io.ErrNoProgress
			}
		}
	}
	return nil
}

// compact moves the unconsumed bytes to the start of the buffer and grows
// it when it is full and still too small for n bytes, or when the stream
// has proved longer than the initial buffer. A shared buffer is left as it
// is: the unconsumed bytes move to a new one instead.
func (b *buffer) compact(n int) {
	if b.shared {
		// Sized by the bytes carried over, never by n: n may come from a
		// hostile length field, and the buffer grows later as bytes arrive.
		nb := make([]byte, max(sharedBufSize, 2*(b.end-b.pos)))
		b.end = copy(nb, b.buf[b.pos:b.end])
		b.base += int64(b.pos)
		b.pos = 0
		b.buf = nb
		b.shared = false
		return
	}
	if b.pos > 0 {
		copy(b.buf, b.buf[b.pos:b.end])
		b.base += int64(b.pos)
		b.end -= b.pos
		b.pos = 0
	}
	size := len(b.buf)
	switch {
	case size == 0:
		size = initialBufSize
	case b.end == size && size < n:
		size *= 2 // full of real bytes: doubling is bounded by the input read so far
	case b.base >= int64(size) && size < streamBufSize:
		size = streamBufSize
	}
	if size != len(b.buf) {
		nb := make([]byte, size)
		copy(nb, b.buf[:b.end])
		b.buf = nb
	}
}

// truncated builds the error for a structure (what) at offset off that the
// source ended or failed in the middle of: a *FormatError wrapping
// io.ErrUnexpectedEOF when the input simply ended, the source's own error
// (wrapped) otherwise.
func (b *buffer) truncated(off int64, what string, need int) error {
	if b.err == io.EOF || b.err == io.ErrUnexpectedEOF {
		return &FormatError{
			Offset: off,
			Msg:    fmt.Sprintf("truncated %s: input ends after %d of its %d bytes", what, b.end-b.pos, need),
			Err:    io.ErrUnexpectedEOF,
		}
	}
	return fmt.Errorf("pcapio: reading %s at offset %d: %w", what, off, b.err)
}
