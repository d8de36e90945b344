package pcapio

import (
	"encoding/binary"
	"io"
	"time"
)

// How a classic pcap file's record lengths are laid out: files of version
// 2.0–2.2 have caplen and len swapped, 2.3 files may or may not (libpcap
// swaps when caplen > len).
const (
	lengthsNotSwapped int8 = iota
	lengthsSwapped
	lengthsMaybeSwapped
)

// pcap header link-type field: the low 16 bits are the link type; bit 26
// says the FCS length is present in bits 28–31 (in 16-bit units).
const (
	pcapFCSPresent = 0x04000000
)

func (r *Reader) readPcapHeader() error {
	if err := r.b.fill(pcapFileHdrLen); err != nil {
		return r.b.truncated(0, "pcap file header", pcapFileHdrLen)
	}
	h := r.b.buf[r.b.pos : r.b.pos+pcapFileHdrLen]
	magic := r.u32(h)
	major, minor := r.u16(h[4:]), r.u16(h[6:])
	snaplen := r.u32(h[16:])
	ltField := r.u32(h[20:])
	if major != 2 || minor > 4 {
		return formatErrorf(4, "unsupported pcap version %d.%d (pcapio reads 2.0 to 2.4)", major, minor)
	}
	switch {
	case minor < 3:
		r.swapped = lengthsSwapped
	case minor == 3:
		r.swapped = lengthsMaybeSwapped
	}
	r.format = FormatPcap
	r.tsMul = 1000
	res := TSResolutionMicro
	r.recLen = pcapRecordLen
	switch magic {
	case magicNano:
		r.format = FormatPcapNano
		r.tsMul = 1
		res = TSResolutionNano
	case magicModified:
		r.recLen = pcapModifiedLen
	}
	lt := LinkType(ltField & 0xffff)
	fcs := 0
	if ltField&pcapFCSPresent != 0 {
		fcs = int(ltField>>28) * 2
	}
	r.maxCap = maxSnaplenFor(lt)
	r.ifaces = []Interface{{LinkType: lt, Snaplen: snaplen, TSResolution: res, FCSLen: fcs}}
	r.b.pos += pcapFileHdrLen
	return nil
}

// nextPcap reads one classic pcap record.
func (r *Reader) nextPcap(p *Packet) error {
	hl := r.recLen
	if r.b.avail() < hl {
		if err := r.b.fill(hl); err != nil {
			if r.b.avail() == 0 && err == io.EOF {
				return io.EOF
			}
			return r.b.truncated(r.b.offset(), "pcap record header", hl)
		}
	}
	h := r.b.buf[r.b.pos : r.b.pos+hl]
	var sec, frac, caplen, wirelen uint32
	if !r.be {
		sec = binary.LittleEndian.Uint32(h)
		frac = binary.LittleEndian.Uint32(h[4:])
		caplen = binary.LittleEndian.Uint32(h[8:])
		wirelen = binary.LittleEndian.Uint32(h[12:])
	} else {
		sec = binary.BigEndian.Uint32(h)
		frac = binary.BigEndian.Uint32(h[4:])
		caplen = binary.BigEndian.Uint32(h[8:])
		wirelen = binary.BigEndian.Uint32(h[12:])
	}
	switch r.swapped {
	case lengthsSwapped:
		caplen, wirelen = wirelen, caplen
	case lengthsMaybeSwapped:
		if caplen > wirelen {
			caplen, wirelen = wirelen, caplen
		}
	}
	if caplen > r.maxCap {
		return formatErrorf(r.b.offset()+8, "captured length %d exceeds the maximum of %d for link type %s", caplen, r.maxCap, r.ifaces[0].LinkType)
	}
	n := hl + int(caplen)
	if r.b.avail() < n {
		if err := r.b.fill(n); err != nil {
			return r.b.truncated(r.b.offset(), "pcap record", n)
		}
	}
	start := r.b.pos + hl
	r.dataOff = r.b.base + int64(start)
	p.Data = r.b.buf[start : start+int(caplen) : start+int(caplen)]
	p.Length = int(wirelen)
	p.Timestamp = time.Unix(int64(sec), int64(frac)*r.tsMul).UTC()
	p.LinkType = r.ifaces[0].LinkType
	r.b.pos += n
	return nil
}
