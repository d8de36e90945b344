package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/pkttap/pkttap/pcapio"
)

// DumpBuilder describes a capture file to write: made by ToFile, refined
// with its methods, opened with Open. Like Builder it is a value.
type DumpBuilder struct {
	path      string
	lt        pcapio.LinkType
	snaplen   int
	format    pcapio.Format
	formatSet bool
	ifaces    []pcapio.Interface
	verbatim  bool
}

// ToFile describes a capture file to write at path; "-" writes to standard
// output (as pcap unless Format says otherwise). The format follows the
// extension (.pcap, .cap: pcap with microseconds; .pcapng: pcapng) unless
// Format sets it. The link type is Ethernet unless LinkType sets it.
//
// A Dump buffers what it writes (256 KiB and more): the packets of a Dump
// that is never closed are LOST, and its file may end in the middle of a
// packet. Close every Dump on every path out, errors and signals included
// (defer d.Close(), and end a capture on SIGINT/SIGTERM through a context,
// as pkttap-inspect does), and check Close's error, which reports the last
// write.
func ToFile(path string) DumpBuilder {
	return DumpBuilder{path: path, lt: pcapio.LinkTypeEthernet}
}

// LinkType sets the link-layer header type of the packets to be written.
func (b DumpBuilder) LinkType(lt pcapio.LinkType) DumpBuilder {
	b.lt = lt
	return b
}

// Snaplen sets the snap length recorded in the file header, as given: a
// copy of a file records the file's own (even one larger than MaxSnaplen,
// as tcpdump -w keeps it). 0, the default, records MaxSnaplen, as does a
// value the header's 32 bits cannot hold. Packets are written as they are;
// cut them with the capture's Snaplen.
func (b DumpBuilder) Snaplen(n int) DumpBuilder {
	b.snaplen = n
	return b
}

// VerbatimLengths writes each packet's on-wire Length as given, even when
// it is smaller than its Data (as a damaged file may record it), so that a
// copy of a file reads as the original does; without it such a Length (an
// unset one, say) is written as len(Data). See
// pcapio.WriterOptions.VerbatimLengths.
func (b DumpBuilder) VerbatimLengths(on bool) DumpBuilder {
	b.verbatim = on
	return b
}

// Format sets the file format, whatever the file's extension.
func (b DumpBuilder) Format(f pcapio.Format) DumpBuilder {
	b.format, b.formatSet = f, true
	return b
}

// Interfaces sets the interfaces of a pcapng file, one Interface
// Description Block each (their link types may differ); each packet is then
// written for the interface numbered by its InterfaceIndex, as a pcapng
// reader returns them. Without it a file has one interface of LinkType and
// every packet goes to it, whatever its InterfaceIndex (which for a live
// packet is the operating system's interface index).
func (b DumpBuilder) Interfaces(ifs []pcapio.Interface) DumpBuilder {
	b.ifaces = ifs
	return b
}

// Dump writes packets to a capture file. It buffers: call Flush to make the
// packets written so far visible to readers of the file, and Close at the
// end; a Dump that is not closed loses the packets still in its buffer (see
// ToFile). A Dump is not safe for concurrent use.
type Dump struct {
	name     string
	f        *os.File // nil for standard output
	bw       *bufio.Writer
	w        *pcapio.Writer
	lt       pcapio.LinkType
	nIf      int // interfaces given by DumpBuilder.Interfaces, 0 if none
	verbatim bool
	closed   bool
}

// Open creates (or truncates) the file and writes its header.
func (b DumpBuilder) Open() (*Dump, error) {
	format := b.format
	if !b.formatSet && b.path != "-" {
		f, err := pcapio.FormatFromPath(b.path)
		if err != nil {
			return nil, fmt.Errorf("capture: choose the format of %s: %w (name it .pcap or .pcapng, or set DumpBuilder.Format)", b.path, err)
		}
		format = f
	} else if !b.formatSet {
		format = pcapio.FormatPcap
	}
	if len(b.ifaces) > 0 && format != pcapio.FormatPcapNg {
		return nil, fmt.Errorf("capture: %s: several interfaces need the pcapng format (name the file .pcapng)", b.path)
	}
	lt := b.lt
	if len(b.ifaces) > 0 {
		lt = b.ifaces[0].LinkType
	}
	d := &Dump{name: b.path, lt: lt, nIf: len(b.ifaces), verbatim: b.verbatim}
	var out io.Writer = os.Stdout
	if b.path == "-" {
		d.name = "standard output"
	} else {
		f, err := os.Create(b.path)
		if err != nil {
			return nil, fmt.Errorf("capture: create capture file: %w", err)
		}
		d.f, out = f, f
	}
	d.bw = bufio.NewWriterSize(out, 256<<10)
	snap := uint32(MaxSnaplen)
	if b.snaplen > 0 && uint64(b.snaplen) <= math.MaxUint32 {
		snap = uint32(b.snaplen)
	}
	w, err := pcapio.NewWriter(d.bw, pcapio.WriterOptions{Format: format, LinkType: lt, Snaplen: snap, Interfaces: b.ifaces, VerbatimLengths: b.verbatim})
	if err == nil {
		d.w = w
		err = d.Flush()
	}
	if err != nil {
		if d.f != nil {
			d.f.Close()
		}
		return nil, fmt.Errorf("capture: start %s: %w", d.name, err)
	}
	return d, nil
}

// WritePacket appends p to the file. Without DumpBuilder.Interfaces, p must
// be of the dump's link type (a zero LinkType is taken as unset); with it,
// p.InterfaceIndex must name one of the interfaces.
func (d *Dump) WritePacket(p pcapio.Packet) error {
	if d.closed {
		return fmt.Errorf("capture: write to %s: %w", d.name, os.ErrClosed)
	}
	if d.nIf == 0 {
		if p.LinkType != d.lt && p.LinkType != 0 {
			return fmt.Errorf("capture: write to %s: packet of link type %s in a %s file (write it to a .pcapng file opened with several interfaces, or to a file of its own)", d.name, p.LinkType, d.lt)
		}
		p.InterfaceIndex = 0
	} else if p.InterfaceIndex < 0 || p.InterfaceIndex >= d.nIf {
		return fmt.Errorf("capture: write to %s: packet for interface %d, but the file has interfaces 0 to %d (set DumpBuilder.Interfaces to match)", d.name, p.InterfaceIndex, d.nIf-1)
	}
	if p.Length < len(p.Data) && !d.verbatim {
		p.Length = len(p.Data)
	}
	if err := d.w.WritePacket(&p); err != nil {
		return fmt.Errorf("capture: write to %s: %w", d.name, err)
	}
	return nil
}

// Flush writes what is buffered to the file.
func (d *Dump) Flush() error {
	if err := d.w.Flush(); err != nil {
		return fmt.Errorf("capture: flush %s: %w", d.name, err)
	}
	if err := d.bw.Flush(); err != nil {
		return fmt.Errorf("capture: flush %s: %w", d.name, err)
	}
	return nil
}

// Close flushes and closes the file. Closing twice is harmless.
func (d *Dump) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	err := d.Flush()
	if d.f != nil {
		if cerr := d.f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("capture: close %s: %w", d.name, cerr)
		}
	}
	return err
}

// DumpPackets writes pkts to a new capture file at path (format from the
// extension) with link type lt.
func DumpPackets(path string, lt pcapio.LinkType, pkts []pcapio.Packet) error {
	d, err := ToFile(path).LinkType(lt).Open()
	if err != nil {
		return err
	}
	for i := range pkts {
		if err := d.WritePacket(pkts[i]); err != nil {
			return errors.Join(err, d.Close())
		}
	}
	return d.Close()
}
