package pcapio

import (
	"encoding/binary"
	"math/rand/v2"
	"time"
)

// This file generates the test captures byte by byte, independently of the
// Writer, in either byte order, so the reader is checked against the format
// rather than against pcapio's own writer, and malformed variants are easy
// to make.

// pcapGen builds a classic pcap file.
type pcapGen struct {
	bo  byteOrder
	buf []byte
	rec int // record header length
}

func newPcapGen(bo byteOrder, magic uint32, major, minor uint16, snaplen, linktype uint32) *pcapGen {
	g := &pcapGen{bo: bo, rec: 16}
	if magic == magicModified {
		g.rec = 24
	}
	g.buf = bo.AppendUint32(g.buf, magic)
	g.buf = bo.AppendUint16(g.buf, major)
	g.buf = bo.AppendUint16(g.buf, minor)
	g.buf = bo.AppendUint32(g.buf, 0)
	g.buf = bo.AppendUint32(g.buf, 0)
	g.buf = bo.AppendUint32(g.buf, snaplen)
	g.buf = bo.AppendUint32(g.buf, linktype)
	return g
}

func (g *pcapGen) record(sec, frac, caplen, wirelen uint32, data []byte) *pcapGen {
	g.buf = g.bo.AppendUint32(g.buf, sec)
	g.buf = g.bo.AppendUint32(g.buf, frac)
	g.buf = g.bo.AppendUint32(g.buf, caplen)
	g.buf = g.bo.AppendUint32(g.buf, wirelen)
	if g.rec == 24 {
		g.buf = append(g.buf, 1, 0, 0, 0, 0x08, 0, 0, 0) // ifindex, protocol, pkt_type, pad
	}
	g.buf = append(g.buf, data...)
	return g
}

// ngGen builds a pcapng file block by block.
type ngGen struct {
	bo  byteOrder
	buf []byte
}

type ngOpt struct {
	code uint16
	val  []byte
}

func (g *ngGen) opts(b []byte, opts []ngOpt, endOpt bool) []byte {
	for _, o := range opts {
		b = g.bo.AppendUint16(b, o.code)
		b = g.bo.AppendUint16(b, uint16(len(o.val)))
		b = append(b, o.val...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	if endOpt && len(opts) > 0 {
		b = append(b, 0, 0, 0, 0)
	}
	return b
}

func (g *ngGen) block(typ uint32, body []byte) *ngGen {
	n := uint32(12 + len(body))
	g.buf = g.bo.AppendUint32(g.buf, typ)
	g.buf = g.bo.AppendUint32(g.buf, n)
	g.buf = append(g.buf, body...)
	g.buf = g.bo.AppendUint32(g.buf, n)
	return g
}

func (g *ngGen) shb(bo byteOrder, opts ...ngOpt) *ngGen {
	g.bo = bo
	var b []byte
	b = bo.AppendUint32(b, byteOrderMagic)
	b = bo.AppendUint16(b, 1)
	b = bo.AppendUint16(b, 0)
	b = bo.AppendUint64(b, ^uint64(0))
	return g.block(blockTypeSHB, g.opts(b, opts, true))
}

func (g *ngGen) idb(lt LinkType, snaplen uint32, opts ...ngOpt) *ngGen {
	var b []byte
	b = g.bo.AppendUint16(b, uint16(lt))
	b = g.bo.AppendUint16(b, 0)
	b = g.bo.AppendUint32(b, snaplen)
	return g.block(blockTypeIDB, g.opts(b, opts, true))
}

func (g *ngGen) epb(ifid uint32, ts uint64, wirelen uint32, data []byte, opts ...ngOpt) *ngGen {
	var b []byte
	b = g.bo.AppendUint32(b, ifid)
	b = g.bo.AppendUint32(b, uint32(ts>>32))
	b = g.bo.AppendUint32(b, uint32(ts))
	b = g.bo.AppendUint32(b, uint32(len(data)))
	b = g.bo.AppendUint32(b, wirelen)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return g.block(blockTypeEPB, g.opts(b, opts, true))
}

func (g *ngGen) pb(ifid uint16, ts uint64, wirelen uint32, data []byte, opts ...ngOpt) *ngGen {
	var b []byte
	b = g.bo.AppendUint16(b, ifid)
	b = g.bo.AppendUint16(b, 0)
	b = g.bo.AppendUint32(b, uint32(ts>>32))
	b = g.bo.AppendUint32(b, uint32(ts))
	b = g.bo.AppendUint32(b, uint32(len(data)))
	b = g.bo.AppendUint32(b, wirelen)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return g.block(blockTypePB, g.opts(b, opts, true))
}

func (g *ngGen) spb(wirelen uint32, data []byte) *ngGen {
	var b []byte
	b = g.bo.AppendUint32(b, wirelen)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return g.block(blockTypeSPB, b)
}

func u8opt(code uint16, v uint8) ngOpt { return ngOpt{code, []byte{v}} }
func stropt(code uint16, s string) ngOpt {
	return ngOpt{code, []byte(s)}
}
func u64opt(bo byteOrder, code uint16, v uint64) ngOpt {
	return ngOpt{code, bo.AppendUint64(nil, v)}
}

// testPackets returns n packets with a realistic size mix (many small
// ACK-sized frames, some MTU-sized, a few in between), deterministic for a
// seed, with nanosecond timestamps, some truncated.
func testPackets(n int, seed uint64) []Packet {
	rng := rand.New(rand.NewPCG(seed, 1))
	t := time.Unix(1_700_000_000, 123_456_789).UTC()
	pkts := make([]Packet, n)
	for i := range pkts {
		size := mixedFrameSize(rng)
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		wire := size
		if rng.IntN(10) == 0 {
			wire += 1 + rng.IntN(500) // truncated
		}
		t = t.Add(time.Duration(rng.IntN(2_000_000)))
		pkts[i] = Packet{Timestamp: t, Data: data, Length: wire, LinkType: LinkTypeEthernet}
	}
	return pkts
}

// mixedFrameSize draws an Ethernet frame size from a realistic mix: 45%
// ACK-sized (54-73 bytes), 30% MTU-sized (1514), the rest in between.
func mixedFrameSize(rng *rand.Rand) int {
	switch r := rng.IntN(100); {
	case r < 45:
		return 54 + rng.IntN(20)
	case r < 75:
		return 1514
	default:
		return 60 + rng.IntN(1400)
	}
}

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

var (
	le byteOrder = binary.LittleEndian
	be byteOrder = binary.BigEndian
)
