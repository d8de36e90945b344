package platform

import (
	"encoding/binary"
	"fmt"
)

// BSD/macOS BPF read buffers. One read(2) on a /dev/bpf device returns a run
// of records, each a struct bpf_hdr followed by the captured bytes and
// padded so that the next record starts at a multiple of BPF_ALIGNMENT:
//
//	offset 0  bh_tstamp.tv_sec   uint32 (macOS: struct timeval32)
//	offset 4  bh_tstamp.tv_usec  uint32
//	offset 8  bh_caplen          uint32  bytes captured
//	offset 12 bh_datalen         uint32  bytes on the wire
//	offset 16 bh_hdrlen          uint16  header length, padding included
//	offset bh_hdrlen             captured bytes
//	next record at BPF_WORDALIGN(bh_hdrlen + bh_caplen)
//
// BPF_ALIGNMENT is sizeof(int32) on macOS, so records are 4-byte aligned
// whatever the word size (the trap gopacket's bsdbpf fell into). The parser
// is platform-neutral so that it is tested everywhere on hand-built buffers.
const (
	bpfHdrMinLen  = 18 // the fields above, without trailing padding
	bpfAlignment  = 4  // BPF_ALIGNMENT on macOS
	bpfTstampSize = 8
)

// bpfWordAlign rounds n up to BPF_ALIGNMENT (BPF_WORDALIGN).
func bpfWordAlign(n int) int { return (n + bpfAlignment - 1) &^ (bpfAlignment - 1) }

// bpfRecord is one record of a BPF read buffer.
type bpfRecord struct {
	sec, usec uint32
	datalen   int    // on-wire length
	data      []byte // the captured bytes, within the read buffer
}

// bpfBuffer walks the records of one read.
type bpfBuffer struct {
	buf []byte // the bytes the read returned
	off int    // the next record's offset
}

// reset starts walking the n bytes a read returned into buf.
func (b *bpfBuffer) reset(buf []byte, n int) {
	b.buf, b.off = buf[:n], 0
}

// next returns the next record; ok is false when the buffer is exhausted.
// A record that does not fit the buffer is an error, and ends the buffer.
func (b *bpfBuffer) next() (rec bpfRecord, ok bool, err error) {
	rest := len(b.buf) - b.off
	if rest <= 0 {
		return rec, false, nil
	}
	if rest < bpfHdrMinLen {
		b.off = len(b.buf)
		return rec, false, fmt.Errorf("bpf buffer: %d stray bytes at offset %d, less than a bpf_hdr", rest, len(b.buf)-rest)
	}
	h := b.buf[b.off:]
	ne := binary.NativeEndian
	caplen := int(ne.Uint32(h[8:]))
	hdrlen := int(ne.Uint16(h[16:]))
	if hdrlen < bpfHdrMinLen || caplen < 0 || caplen > rest || hdrlen+caplen > rest {
		at := b.off
		b.off = len(b.buf)
		return rec, false, fmt.Errorf("bpf buffer: record at offset %d (header %d + %d captured bytes) does not fit the %d bytes left", at, hdrlen, caplen, rest)
	}
	rec = bpfRecord{
		sec:     ne.Uint32(h[0:]),
		usec:    ne.Uint32(h[4:]),
		datalen: int(ne.Uint32(h[12:])),
		data:    h[hdrlen : hdrlen+caplen : hdrlen+caplen],
	}
	b.off += bpfWordAlign(hdrlen + caplen)
	return rec, true, nil
}
