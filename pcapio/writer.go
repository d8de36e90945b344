package pcapio

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// WriterOptions configures a Writer.
type WriterOptions struct {
	// Format is the file format to write.
	Format Format
	// LinkType is the link type of the pcap header, or of the single pcapng
	// interface written when Interfaces is empty.
	LinkType LinkType
	// Snaplen is the snapshot length recorded in the header (0 means
	// MaxSnaplen). Packets are written as given, never cut to it.
	Snaplen uint32
	// Interfaces lists the pcapng interfaces, one Interface Description
	// Block each, in order; a packet's InterfaceIndex selects one. When
	// empty, one interface with LinkType and Snaplen is written. A zero
	// TSResolution means nanoseconds. Classic pcap takes its link type and
	// snaplen from Interfaces[0] when LinkType is 0 and Interfaces is set.
	Interfaces []Interface
	// VerbatimLengths writes each packet's Length as given, even when it is
	// smaller than its Data: a damaged file's record (an on-wire length of
	// 0, say) is then copied as it is, and tools read the copy as they read
	// the original. Without it a Length smaller than len(Data), such as
	// an unset one, is written as len(Data).
	VerbatimLengths bool
}

// Writer writes packets to a pcap or pcapng stream. Output is buffered:
// call Flush when done. A Writer is not safe for concurrent use.
type Writer struct {
	w      *bufio.Writer
	format Format
	ifaces []Interface
	conv   []tsConv
	hdr    [32]byte
	err    error // sticky write error
	// verbatim is WriterOptions.VerbatimLengths.
	verbatim bool
}

// NewWriter writes the file header (pcap) or the Section Header Block and
// Interface Description Blocks (pcapng) to w and returns a Writer for the
// packets.
func NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	wr := &Writer{w: bufio.NewWriterSize(w, 256<<10), format: opts.Format, verbatim: opts.VerbatimLengths}
	ifaces := opts.Interfaces
	if len(ifaces) == 0 {
		ifaces = []Interface{{LinkType: opts.LinkType, Snaplen: opts.Snaplen}}
	}
	wr.ifaces = make([]Interface, len(ifaces))
	copy(wr.ifaces, ifaces)
	for i := range wr.ifaces {
		ifc := &wr.ifaces[i]
		if ifc.TSResolution == 0 {
			ifc.TSResolution = TSResolutionNano
		}
		if !ifc.TSResolution.Valid() {
			return nil, fmt.Errorf("pcapio: interface %d: timestamp resolution %s is too fine (10^-19 or 2^-63 at most)", i, ifc.TSResolution)
		}
		if ifc.Snaplen == 0 {
			ifc.Snaplen = MaxSnaplen
		}
	}
	var err error
	switch opts.Format {
	case FormatPcap, FormatPcapNano:
		lt, snap := opts.LinkType, opts.Snaplen
		if lt == 0 && len(opts.Interfaces) > 0 {
			lt, snap = opts.Interfaces[0].LinkType, opts.Interfaces[0].Snaplen
		}
		if snap == 0 {
			snap = MaxSnaplen
		}
		err = wr.writePcapHeader(lt, snap)
	case FormatPcapNg:
		for _, ifc := range wr.ifaces {
			wr.conv = append(wr.conv, newTSConv(ifc.TSResolution, ifc.TSOffset))
		}
		err = wr.writeSectionHeader()
	default:
		return nil, fmt.Errorf("pcapio: cannot write format %v", opts.Format)
	}
	if err != nil {
		return nil, fmt.Errorf("pcapio: write header: %w", err)
	}
	return wr, nil
}

// WritePacket writes one packet. Its on-wire length is p.Length, or
// len(p.Data) when that is larger (unless WriterOptions.VerbatimLengths). A zero Timestamp (a packet whose time is
// unknown, such as one read from a pcapng Simple Packet Block) is written
// as timestamp 0: the epoch, plus the interface's TSOffset in pcapng. A
// time the record cannot hold is an error: in pcap, one before 1970 or
// after 2106; in pcapng, one before the epoch plus the interface's
// TSOffset, or past 2^64 units of its resolution. For pcapng,
// p.InterfaceIndex selects the interface (an error when there is no such
// interface) and a non-empty p.Comment is written as opt_comment; classic
// pcap has no room for either.
func (w *Writer) WritePacket(p *Packet) error {
	if w.err != nil {
		return w.err
	}
	wire := p.Length
	if wire < len(p.Data) && !w.verbatim {
		wire = len(p.Data)
	}
	if uint64(wire) > 0xffffffff {
		return fmt.Errorf("pcapio: packet length %d does not fit in 32 bits", wire)
	}
	var err error
	if w.format == FormatPcapNg {
		err = w.writeEPB(p, uint32(wire))
	} else {
		err = w.writePcapRecord(p, uint32(wire))
	}
	if err != nil {
		if _, ok := err.(*writeError); ok {
			w.err = err
		}
		return err
	}
	return nil
}

// Flush writes any buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.w.Flush(); err != nil {
		w.err = &writeError{err}
		return w.err
	}
	return nil
}

// writeError marks a failure of the underlying writer, after which the
// Writer refuses further packets.
type writeError struct{ err error }

func (e *writeError) Error() string { return "pcapio: write: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

func (w *Writer) write(b []byte) error {
	if _, err := w.w.Write(b); err != nil {
		return &writeError{err}
	}
	return nil
}

func (w *Writer) writePcapHeader(lt LinkType, snaplen uint32) error {
	h := make([]byte, pcapFileHdrLen)
	magic := uint32(magicMicro)
	if w.format == FormatPcapNano {
		magic = magicNano
	}
	le := binary.LittleEndian
	le.PutUint32(h, magic)
	le.PutUint16(h[4:], 2)
	le.PutUint16(h[6:], 4)
	le.PutUint32(h[16:], snaplen)
	le.PutUint32(h[20:], uint32(lt))
	return w.write(h)
}

func (w *Writer) writePcapRecord(p *Packet, wire uint32) error {
	t := p.Timestamp
	if t.IsZero() {
		t = time.Unix(0, 0) // unknown, as for a pcapng Simple Packet Block
	}
	sec := t.Unix()
	if sec < 0 || sec > 0xffffffff {
		return fmt.Errorf("pcapio: timestamp %v does not fit a pcap record (1970 to 2106)", t)
	}
	frac := uint32(t.Nanosecond())
	if w.format == FormatPcap {
		frac /= 1000
	}
	le := binary.LittleEndian
	h := w.hdr[:pcapRecordLen]
	le.PutUint32(h, uint32(sec))
	le.PutUint32(h[4:], frac)
	le.PutUint32(h[8:], uint32(len(p.Data)))
	le.PutUint32(h[12:], wire)
	if err := w.write(h); err != nil {
		return err
	}
	return w.write(p.Data)
}
