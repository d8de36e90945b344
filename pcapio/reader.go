package pcapio

import (
	"encoding/binary"
	"io"
	"math/bits"
)

// Magic numbers at the start of a capture file, as read little-endian.
const (
	magicMicro      = 0xa1b2c3d4 // pcap, microsecond timestamps
	magicNano       = 0xa1b23c4d // pcap, nanosecond timestamps
	magicModified   = 0xa1b2cd34 // Kuznetzov's "modified" pcap: 24-byte record headers
	blockTypeSHB    = 0x0a0d0d0a // pcapng Section Header Block (a palindrome)
	byteOrderMagic  = 0x1a2b3c4d // pcapng SHB byte-order magic
	pcapFileHdrLen  = 24
	pcapRecordLen   = 16
	pcapModifiedLen = 24
)

// Reader reads packets from a pcap or pcapng stream. It reads the stream
// sequentially in large chunks and never seeks, so it works on pipes,
// sockets and HTTP bodies as well as on files of any size.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	b      buffer
	format Format
	be     bool  // the file's (pcap) or current section's (pcapng) byte order
	fatal  error // sticky: once the stream is malformed, every call returns this

	dataOff int64 // stream offset of the last packet's Data[0]

	// classic pcap
	recLen  int    // record header length: 16, or 24 for modified pcap
	tsMul   int64  // nanoseconds per fractional timestamp unit (1000 or 1)
	swapped int8   // lengthsNotSwapped, lengthsSwapped or lengthsMaybeSwapped
	maxCap  uint32 // largest captured length accepted

	// both: interfaces of the current section (one for classic pcap)
	ifaces  []Interface
	conv    []tsConv
	section int         // number of the current pcapng section, from 0
	info    SectionInfo // the current pcapng section's header options

	// onSection, when set (by tests), is called as a new section starts,
	// before the previous section's interfaces are dropped.
	onSection func()
}

// NewReader reads the file header (pcap) or the first Section Header Block
// and the Interface Description Blocks that follow it (pcapng) from r and
// returns a Reader positioned at the first packet. The format is detected
// from the magic number, not from any file name.
//
// NewReader reports malformed or truncated headers as *FormatError.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{b: buffer{src: r}}
	if err := rd.b.fill(4); err != nil {
		return nil, rd.b.truncated(0, "file header", 4)
	}
	m := binary.LittleEndian.Uint32(rd.b.buf[rd.b.pos:])
	sm := bits.ReverseBytes32(m) // the magic as read big-endian
	switch {
	case m == blockTypeSHB:
		rd.format = FormatPcapNg
		if err := rd.readSHB(); err != nil {
			return nil, err
		}
		rd.primePcapNg()
		return rd, nil
	case m == magicMicro || m == magicNano || m == magicModified:
		rd.be = false
	case sm == magicMicro || sm == magicNano || sm == magicModified:
		rd.be = true
	default:
		return nil, formatErrorf(0, "unknown magic number 0x%08x: not a pcap or pcapng file", sm)
	}
	if err := rd.readPcapHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

// Next returns the next packet, with Data in memory the caller owns: the
// reader never writes it again. Packets read together share the buffer
// they were read into (64 KiB once Next is in use), so keeping one packet
// keeps that buffer alive; copy a packet you keep for long if memory
// matters.
//
// Next returns io.EOF when the stream ends cleanly between packets. A
// stream cut off inside a header, record or block yields every complete
// packet before the cut and then a *FormatError wrapping
// io.ErrUnexpectedEOF; malformed data gives a *FormatError naming its byte
// offset. After any error other than a source I/O error, every later call
// returns the same error.
func (r *Reader) Next() (Packet, error) {
	p, err := r.NextZeroCopy()
	if err != nil {
		return p, err
	}
	p.Data = r.own(p.Data)
	return p, nil
}

// own returns the packet data d, which NextZeroCopy just returned from the
// read buffer, as memory the reader will never write again: it marks the
// buffer shared, so that the next refill continues in a new buffer instead
// of overwriting this one. No bytes are copied beyond the read itself. The
// capacity is capped at the length, so appending to one packet never
// overwrites the next.
func (r *Reader) own(d []byte) []byte {
	r.b.shared = true
	return d[:len(d):len(d)]
}

// NextInto is Next with memory the caller provides: it copies the packet's
// captured bytes to buf[:0], as append does, and returns the packet with
// Data set to the result. When buf has the capacity, nothing is allocated;
// otherwise a larger array is, as append would. The caller owns Data and
// the reader keeps no reference to it, so a loop that is done with each
// packet before reading the next can pass the previous packet's Data back
// and read a whole file with no allocation per packet:
//
//	var buf []byte
//	for {
//		p, err := r.NextInto(buf)
//		if err != nil { ... }
//		use(p)
//		buf = p.Data
//	}
//
// On error buf is left as it was. Errors are those of Next.
func (r *Reader) NextInto(buf []byte) (Packet, error) {
	p, err := r.NextZeroCopy()
	if err != nil {
		return p, err
	}
	p.Data = append(buf[:0], p.Data...)
	return p, nil
}

// NextZeroCopy is Next without the copy: Data points into the Reader's
// buffer and is valid only until the next call to Next, NextInto or
// NextZeroCopy.
// It makes no allocation per packet (a packet with a pcapng comment
// allocates the Comment string). Use it on hot paths that look at each
// packet once; copy what must be kept.
func (r *Reader) NextZeroCopy() (Packet, error) {
	if r.fatal != nil {
		return Packet{}, r.fatal
	}
	var p Packet
	var err error
	if r.format == FormatPcapNg {
		err = r.nextPcapNg(&p)
	} else {
		err = r.nextPcap(&p)
	}
	if err != nil && err != io.EOF {
		if _, ok := err.(*FormatError); ok {
			r.fatal = err
		}
	}
	return p, err
}

// Format returns the stream's format: FormatPcap, FormatPcapNano or
// FormatPcapNg.
func (r *Reader) Format() Format { return r.format }

// ByteOrder returns the byte order of the pcap file, or of the current
// pcapng section (sections may differ). Filters compiled for a file need
// it, as libpcap does: NULL's address-family word is stored in the
// capturing host's order.
func (r *Reader) ByteOrder() binary.ByteOrder {
	if r.be {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// LinkType returns the link type of the pcap file header, or of the first
// interface of the current pcapng section (0 when the section has none
// yet). In pcapng, packets of other interfaces may have other link types:
// use each Packet's LinkType.
func (r *Reader) LinkType() LinkType {
	if len(r.ifaces) == 0 {
		return 0
	}
	return r.ifaces[0].LinkType
}

// Interfaces returns the interfaces of the current section as read so far:
// for classic pcap one, built from the file header. A new pcapng section
// starts a new list. The slice must not be modified.
func (r *Reader) Interfaces() []Interface { return r.ifaces }

// Section returns the number of the current pcapng section, counting from
// 0 (always 0 for classic pcap). Interfaces and interface indices are per
// section.
func (r *Reader) Section() int { return r.section }

// SectionInfo describes a pcapng section: the options of its Section
// Header Block.
type SectionInfo struct {
	// Hardware describes the capturing machine (shb_hardware).
	Hardware string
	// OS is the capturing machine's operating system (shb_os).
	OS string
	// Application is the program that wrote the section (shb_userappl).
	Application string
	// Comment is the section's opt_comment, several joined by newlines.
	Comment string
}

// SectionInfo returns the header options of the current pcapng section
// (the zero SectionInfo for classic pcap).
func (r *Reader) SectionInfo() SectionInfo { return r.info }

// DataOffset returns the byte offset in the stream of Data[0] of the packet
// returned last, so a caller can index a file and re-read packets later.
func (r *Reader) DataOffset() int64 { return r.dataOff }

func (r *Reader) u16(b []byte) uint16 {
	if r.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *Reader) u32(b []byte) uint32 {
	if r.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *Reader) u64(b []byte) uint64 {
	if r.be {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// maxSnaplenFor returns the largest captured length accepted for a link
// type, as libpcap's max_snaplen_for_dlt: 256 KiB except for the few link
// types whose packets are legitimately bigger.
func maxSnaplenFor(lt LinkType) uint32 {
	switch lt {
	case 231: // DBUS
		return 128 << 20
	case 279: // EBHSCR
		return 8 << 20
	case 249: // USBPCAP
		return 1 << 20
	}
	return MaxSnaplen
}
