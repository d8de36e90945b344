package pcapio

import (
	"encoding/binary"
	"io"
	"math/bits"
	"strings"
	"time"
)

// pcapng block types.
const (
	blockTypeIDB      = 0x00000001
	blockTypePB       = 0x00000002 // obsolete Packet Block
	blockTypeSPB      = 0x00000003
	blockTypeNRB      = 0x00000004
	blockTypeISB      = 0x00000005
	blockTypeEPB      = 0x00000006
	blockTypeDSB      = 0x0000000a
	blockTypeCustom   = 0x00000bad
	blockTypeCustomNC = 0x40000bad
)

// pcapng option codes.
const (
	optEndOfOpt     = 0
	optComment      = 1
	optIfName       = 2
	optIfDesc       = 3
	optIfSpeed      = 8
	optIfTSResol    = 9
	optIfFilter     = 11
	optIfOS         = 12
	optIfFCSLen     = 13
	optIfTSOffset   = 14
	optIfHardware   = 15
	shbMinLen       = 28 // type, length, BOM, version, section length, trailer
	blockHeaderLen  = 8
	blockTrailerLen = 4
)

// readSHB reads a Section Header Block at the current position, switching
// the byte order and starting a new list of interfaces.
func (r *Reader) readSHB() error {
	off := r.b.offset()
	if err := r.b.fill(12); err != nil {
		if r.b.avail() == 0 && err == io.EOF && off > 0 {
			return io.EOF
		}
		return r.b.truncated(off, "section header block", 12)
	}
	h := r.b.buf[r.b.pos:]
	switch bom := binary.LittleEndian.Uint32(h[8:]); bom {
	case byteOrderMagic:
		r.be = false
	case bits.ReverseBytes32(byteOrderMagic):
		r.be = true
	default:
		return formatErrorf(off+8, "section header block has bad byte-order magic 0x%08x", bits.ReverseBytes32(bom))
	}
	blen := r.u32(h[4:])
	if blen < shbMinLen || blen%4 != 0 || blen > maxBlockSize {
		return formatErrorf(off+4, "section header block has invalid length %d", blen)
	}
	blk, err := r.readBlockBody(off, int(blen), "section header block")
	if err != nil {
		return err
	}
	if major := r.u16(blk[12:]); major != 1 {
		return formatErrorf(off+12, "unsupported pcapng version %d.%d (pcapio reads 1.x)", major, r.u16(blk[14:]))
	}
	info, err := r.parseSHBOptions(blk[24:len(blk)-4], off+24)
	if err != nil {
		return err
	}
	if off > 0 {
		if r.onSection != nil {
			r.onSection()
		}
		r.section++
	}
	r.ifaces = nil
	r.conv = nil
	r.info = info
	return nil
}

// SHB option codes.
const (
	optSHBHardware = 2
	optSHBOS       = 3
)

func (r *Reader) parseSHBOptions(opts []byte, off int64) (SectionInfo, error) {
	var info SectionInfo
	it := optIter{r: r, b: opts, off: off}
	for {
		code, val, ok, err := it.next()
		if err != nil || !ok {
			return info, err
		}
		switch code {
		case optComment:
			info.Comment = appendComment(info.Comment, val)
		case optSHBHardware:
			info.Hardware = optString(val)
		case optSHBOS:
			info.OS = optString(val)
		case optSHBUserAppl:
			info.Application = optString(val)
		}
	}
}

// readBlockBody buffers a whole block of length blen at offset off, checks
// its trailing length and consumes it. The returned slice stays valid until
// the buffer is next filled.
func (r *Reader) readBlockBody(off int64, blen int, what string) ([]byte, error) {
	if r.b.avail() < blen {
		if err := r.b.fill(blen); err != nil {
			return nil, r.b.truncated(off, what, blen)
		}
	}
	blk := r.b.buf[r.b.pos : r.b.pos+blen]
	if t := r.u32(blk[blen-4:]); t != uint32(blen) {
		return nil, formatErrorf(off+int64(blen)-4, "%s: trailing length %d disagrees with leading length %d", what, t, blen)
	}
	r.b.pos += blen
	return blk, nil
}

// primePcapNg reads the blocks after the first SHB up to the first packet
// block, so that LinkType and Interfaces answer right after NewReader. Like
// libpcap, it waits for the first interface; after that it only takes
// blocks already buffered, so that on a live pipe NewReader does not wait
// for the first packet. An error found here is kept and returned by the
// first Next.
func (r *Reader) primePcapNg() {
	for {
		if len(r.ifaces) > 0 && r.b.avail() < blockHeaderLen {
			return
		}
		if r.b.fill(blockHeaderLen) != nil {
			return
		}
		switch r.u32(r.b.buf[r.b.pos:]) {
		case blockTypeEPB, blockTypeSPB, blockTypePB, blockTypeSHB:
			return
		}
		if len(r.ifaces) > 0 && int64(r.u32(r.b.buf[r.b.pos+4:])) > int64(r.b.avail()) {
			return
		}
		if _, err := r.nextBlock(nil); err != nil {
			if err != io.EOF {
				r.fatal = err
			}
			return
		}
	}
}

// nextPcapNg reads blocks until a packet block, which it returns in p.
func (r *Reader) nextPcapNg(p *Packet) error {
	for {
		isPacket, err := r.nextBlock(p)
		if err != nil || isPacket {
			return err
		}
	}
}

// nextBlock reads one block. For a packet block it fills p (when p is not
// nil) and reports true.
func (r *Reader) nextBlock(p *Packet) (bool, error) {
	off := r.b.offset()
	if r.b.avail() < blockHeaderLen {
		if err := r.b.fill(blockHeaderLen); err != nil {
			if r.b.avail() == 0 && err == io.EOF {
				return false, io.EOF
			}
			return false, r.b.truncated(off, "block header", blockHeaderLen)
		}
	}
	h := r.b.buf[r.b.pos:]
	typ := r.u32(h)
	if typ == blockTypeSHB {
		return false, r.readSHB()
	}
	blen := r.u32(h[4:])
	if blen < 12 || blen%4 != 0 {
		return false, formatErrorf(off+4, "block of type 0x%08x has invalid length %d (must be a multiple of 4, at least 12)", typ, blen)
	}
	if blen > maxBlockSize {
		return false, formatErrorf(off+4, "block of type 0x%08x has length %d, more than the maximum of %d", typ, blen, maxBlockSize)
	}
	switch typ {
	case blockTypeEPB:
		blk, err := r.readBlockBody(off, int(blen), "enhanced packet block")
		if err != nil {
			return false, err
		}
		return true, r.parseEPB(p, blk, off)
	case blockTypeSPB:
		blk, err := r.readBlockBody(off, int(blen), "simple packet block")
		if err != nil {
			return false, err
		}
		return true, r.parseSPB(p, blk, off)
	case blockTypePB:
		blk, err := r.readBlockBody(off, int(blen), "packet block")
		if err != nil {
			return false, err
		}
		return true, r.parsePB(p, blk, off)
	case blockTypeIDB:
		blk, err := r.readBlockBody(off, int(blen), "interface description block")
		if err != nil {
			return false, err
		}
		return false, r.parseIDB(blk, off)
	default:
		// NRB, ISB, DSB, custom and unknown blocks: checked and skipped.
		_, err := r.readBlockBody(off, int(blen), "block")
		return false, err
	}
}

// parseIDB appends the interface an Interface Description Block describes.
func (r *Reader) parseIDB(blk []byte, off int64) error {
	body := blk[8 : len(blk)-4]
	if len(body) < 8 {
		return formatErrorf(off, "interface description block too short (%d bytes)", len(blk))
	}
	ifc := Interface{
		LinkType:     LinkType(r.u16(body)),
		Snaplen:      r.u32(body[4:]),
		TSResolution: TSResolutionMicro,
	}
	it := optIter{r: r, b: body[8:], off: off + 16}
	for {
		code, val, ok, err := it.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch code {
		case optComment:
			ifc.Comment = appendComment(ifc.Comment, val)
		case optIfName:
			ifc.Name = optString(val)
		case optIfDesc:
			ifc.Description = optString(val)
		case optIfOS:
			ifc.OS = optString(val)
		case optIfHardware:
			ifc.Hardware = optString(val)
		case optIfFilter:
			if len(val) > 1 && val[0] == 0 {
				ifc.Filter = optString(val[1:])
			}
		case optIfSpeed:
			if len(val) >= 8 {
				ifc.Speed = r.u64(val)
			}
		case optIfTSResol:
			if len(val) < 1 {
				return formatErrorf(it.valOff, "if_tsresol option is empty")
			}
			ifc.TSResolution = TSResolution(val[0])
			if !ifc.TSResolution.Valid() {
				return formatErrorf(it.valOff, "if_tsresol %s is finer than pcapio can represent (10^-19 or 2^-63 at most)", ifc.TSResolution)
			}
		case optIfTSOffset:
			if len(val) < 8 {
				return formatErrorf(it.valOff, "if_tsoffset option has %d bytes, want 8", len(val))
			}
			ifc.TSOffset = int64(r.u64(val))
		case optIfFCSLen:
			if len(val) >= 1 {
				ifc.FCSLen = int(val[0])
			}
		}
	}
	r.ifaces = append(r.ifaces, ifc)
	r.conv = append(r.conv, newTSConv(ifc.TSResolution, ifc.TSOffset))
	return nil
}

// parseEPB fills p from an Enhanced Packet Block.
func (r *Reader) parseEPB(p *Packet, blk []byte, off int64) error {
	body := blk[8 : len(blk)-4]
	if len(body) < 20 {
		return formatErrorf(off, "enhanced packet block too short (%d bytes)", len(blk))
	}
	ifid := r.u32(body)
	ts := uint64(r.u32(body[4:]))<<32 | uint64(r.u32(body[8:]))
	return r.fillPacket(p, blk, off, ifid, ts, r.u32(body[12:]), r.u32(body[16:]), "enhanced packet block")
}

// parsePB fills p from an obsolete Packet Block.
func (r *Reader) parsePB(p *Packet, blk []byte, off int64) error {
	body := blk[8 : len(blk)-4]
	if len(body) < 20 {
		return formatErrorf(off, "packet block too short (%d bytes)", len(blk))
	}
	ifid := uint32(r.u16(body))
	ts := uint64(r.u32(body[4:]))<<32 | uint64(r.u32(body[8:]))
	return r.fillPacket(p, blk, off, ifid, ts, r.u32(body[12:]), r.u32(body[16:]), "packet block")
}

// fillPacket checks and fills in the packet of an EPB or PB, whose data
// starts 28 bytes into the block.
func (r *Reader) fillPacket(p *Packet, blk []byte, off int64, ifid uint32, ts uint64, caplen, wirelen uint32, what string) error {
	if ifid >= uint32(len(r.ifaces)) {
		return formatErrorf(off+8, "%s names interface %d, but the section has %d", what, ifid, len(r.ifaces))
	}
	ifc := &r.ifaces[ifid]
	room := uint32(len(blk) - 32)
	if caplen > room {
		return formatErrorf(off+20, "%s: captured length %d is larger than the block (room for %d)", what, caplen, room)
	}
	if max := maxSnaplenFor(ifc.LinkType); caplen > max {
		return formatErrorf(off+20, "%s: captured length %d exceeds the maximum of %d for link type %s", what, caplen, max, ifc.LinkType)
	}
	if p == nil {
		return nil
	}
	end := 28 + int(caplen)
	p.Data = blk[28:end:end]
	p.Length = int(wirelen)
	p.LinkType = ifc.LinkType
	p.InterfaceIndex = int(ifid)
	p.Timestamp = r.conv[ifid].time(ts)
	r.dataOff = off + 28
	if opts := (end + 3) &^ 3; opts < len(blk)-4 {
		c, err := r.packetComment(blk[opts:len(blk)-4], off+int64(opts))
		if err != nil {
			return err
		}
		p.Comment = c
	}
	return nil
}

// parseSPB fills p from a Simple Packet Block: interface 0, no timestamp
// (p.Timestamp is the zero time.Time), captured length the smaller of the
// block's room, the original length and the interface's snaplen.
func (r *Reader) parseSPB(p *Packet, blk []byte, off int64) error {
	body := blk[8 : len(blk)-4]
	if len(body) < 4 {
		return formatErrorf(off, "simple packet block too short (%d bytes)", len(blk))
	}
	if len(r.ifaces) == 0 {
		return formatErrorf(off, "simple packet block before any interface description block")
	}
	ifc := &r.ifaces[0]
	wirelen := r.u32(body)
	caplen := uint32(len(body) - 4)
	if caplen > wirelen {
		caplen = wirelen
	}
	if ifc.Snaplen != 0 && caplen > ifc.Snaplen {
		caplen = ifc.Snaplen
	}
	if max := maxSnaplenFor(ifc.LinkType); caplen > max {
		return formatErrorf(off+8, "simple packet block: captured length %d exceeds the maximum of %d for link type %s", caplen, max, ifc.LinkType)
	}
	if p == nil {
		return nil
	}
	end := 12 + int(caplen)
	p.Data = blk[12:end:end]
	p.Length = int(wirelen)
	p.LinkType = ifc.LinkType
	p.InterfaceIndex = 0
	p.Timestamp = time.Time{}
	r.dataOff = off + 12
	return nil
}

// packetComment returns the opt_comment options of a packet block, joined
// by newlines when there are several.
func (r *Reader) packetComment(opts []byte, off int64) (string, error) {
	it := optIter{r: r, b: opts, off: off}
	var c string
	for {
		code, val, ok, err := it.next()
		if err != nil || !ok {
			return c, err
		}
		if code == optComment {
			c = appendComment(c, val)
		}
	}
}

func appendComment(c string, val []byte) string {
	s := optString(val)
	if c == "" {
		return s
	}
	return c + "\n" + s
}

// optString returns an option's text without trailing NULs some writers add.
func optString(val []byte) string {
	return strings.TrimRight(string(val), "\x00")
}

// optIter walks the options of a block body in the section's byte order.
// A missing opt_endofopt is accepted, as are zero-length options and up to
// three bytes of trailing padding.
type optIter struct {
	r      *Reader
	b      []byte
	off    int64 // stream offset of b[0]
	valOff int64 // stream offset of the last value returned
}

// next returns the next option; ok is false at the end of the options.
func (it *optIter) next() (code uint16, val []byte, ok bool, err error) {
	if len(it.b) < 4 {
		return 0, nil, false, nil
	}
	code = it.r.u16(it.b)
	n := int(it.r.u16(it.b[2:]))
	if code == optEndOfOpt {
		return 0, nil, false, nil
	}
	padded := (n + 3) &^ 3
	if 4+n > len(it.b) {
		return 0, nil, false, formatErrorf(it.off, "option %d has length %d, more than the %d bytes left in its block", code, n, len(it.b)-4)
	}
	val = it.b[4 : 4+n]
	it.valOff = it.off + 4
	if 4+padded > len(it.b) {
		padded = len(it.b) - 4
	}
	it.b = it.b[4+padded:]
	it.off += int64(4 + padded)
	return code, val, true, nil
}
