package pcapio

import (
	"encoding/binary"
	"fmt"
)

// userAppl is written as the Section Header Block's shb_userappl option.
const userAppl = "pkttap"

const optSHBUserAppl = 4

// optBuilder accumulates pcapng options, little-endian.
type optBuilder []byte

func (o optBuilder) add(code uint16, val []byte) optBuilder {
	o = binary.LittleEndian.AppendUint16(o, code)
	o = binary.LittleEndian.AppendUint16(o, uint16(len(val)))
	o = append(o, val...)
	for len(o)%4 != 0 {
		o = append(o, 0)
	}
	return o
}

func (o optBuilder) addString(code uint16, s string) optBuilder {
	if s == "" {
		return o
	}
	return o.add(code, []byte(s))
}

// end terminates a non-empty option list with opt_endofopt.
func (o optBuilder) end() optBuilder {
	if len(o) == 0 {
		return o
	}
	return append(o, 0, 0, 0, 0)
}

// writeBlock writes a block of the given type around body (whose length
// must be a multiple of 4).
func (w *Writer) writeBlock(typ uint32, body []byte) error {
	n := uint32(12 + len(body))
	var h [8]byte
	binary.LittleEndian.PutUint32(h[:], typ)
	binary.LittleEndian.PutUint32(h[4:], n)
	if err := w.write(h[:]); err != nil {
		return err
	}
	if err := w.write(body); err != nil {
		return err
	}
	return w.write(h[4:8])
}

func (w *Writer) writeSectionHeader() error {
	body := make([]byte, 16, 64)
	le := binary.LittleEndian
	le.PutUint32(body, byteOrderMagic)
	le.PutUint16(body[4:], 1)
	le.PutUint16(body[6:], 0)
	le.PutUint64(body[8:], 0xffffffffffffffff) // section length unknown
	body = append(body, optBuilder(nil).addString(optSHBUserAppl, userAppl).end()...)
	if err := w.writeBlock(blockTypeSHB, body); err != nil {
		return err
	}
	for _, ifc := range w.ifaces {
		if err := w.writeIDB(&ifc); err != nil {
			return err
		}
	}
	return nil
}

func (w *Writer) writeIDB(ifc *Interface) error {
	body := make([]byte, 8, 128)
	le := binary.LittleEndian
	le.PutUint16(body, uint16(ifc.LinkType))
	le.PutUint32(body[4:], ifc.Snaplen)
	var o optBuilder
	o = o.addString(optComment, ifc.Comment)
	o = o.addString(optIfName, ifc.Name)
	o = o.addString(optIfDesc, ifc.Description)
	if ifc.Speed != 0 {
		o = o.add(optIfSpeed, le.AppendUint64(nil, ifc.Speed))
	}
	o = o.add(optIfTSResol, []byte{byte(ifc.TSResolution)})
	if ifc.Filter != "" {
		o = o.add(optIfFilter, append([]byte{0}, ifc.Filter...))
	}
	o = o.addString(optIfOS, ifc.OS)
	if ifc.FCSLen != 0 {
		o = o.add(optIfFCSLen, []byte{byte(ifc.FCSLen)})
	}
	if ifc.TSOffset != 0 {
		o = o.add(optIfTSOffset, le.AppendUint64(nil, uint64(ifc.TSOffset)))
	}
	o = o.addString(optIfHardware, ifc.Hardware)
	return w.writeBlock(blockTypeIDB, append(body, o.end()...))
}

var zeroPad [4]byte

func (w *Writer) writeEPB(p *Packet, wire uint32) error {
	if p.InterfaceIndex < 0 || p.InterfaceIndex >= len(w.ifaces) {
		return fmt.Errorf("pcapio: packet's interface index %d is not one of the writer's %d interfaces", p.InterfaceIndex, len(w.ifaces))
	}
	if len(p.Comment) > 0xffff {
		return fmt.Errorf("pcapio: packet comment of %d bytes is longer than an option can hold (65535)", len(p.Comment))
	}
	var units uint64
	if !p.Timestamp.IsZero() {
		var err error
		if units, err = w.conv[p.InterfaceIndex].units(p.Timestamp); err != nil {
			return fmt.Errorf("pcapio: %w", err)
		}
	}
	pad := (4 - len(p.Data)%4) % 4
	optLen := 0
	if p.Comment != "" {
		optLen = 4 + (len(p.Comment)+3)&^3 + 4
	}
	total := 32 + len(p.Data) + pad + optLen
	if total > maxBlockSize {
		return fmt.Errorf("pcapio: packet of %d bytes is too big for a pcapng block", len(p.Data))
	}
	le := binary.LittleEndian
	h := w.hdr[:28]
	le.PutUint32(h, blockTypeEPB)
	le.PutUint32(h[4:], uint32(total))
	le.PutUint32(h[8:], uint32(p.InterfaceIndex))
	le.PutUint32(h[12:], uint32(units>>32))
	le.PutUint32(h[16:], uint32(units))
	le.PutUint32(h[20:], uint32(len(p.Data)))
	le.PutUint32(h[24:], wire)
	if err := w.write(h); err != nil {
		return err
	}
	if err := w.write(p.Data); err != nil {
		return err
	}
	if err := w.write(zeroPad[:pad]); err != nil {
		return err
	}
	if optLen > 0 {
		var o optBuilder = make([]byte, 0, optLen)
		o = o.addString(optComment, p.Comment).end()
		if err := w.write(o); err != nil {
			return err
		}
	}
	t := w.hdr[28:32] // a local array would escape to the heap: one allocation per packet
	le.PutUint32(t, uint32(total))
	return w.write(t)
}
