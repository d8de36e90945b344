package explain

import (
	"fmt"
	"slices"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/internal/bpfop"
	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/pcapio"
)

// linkHeaderLen returns the length of the link-layer header of the link
// types whose fields explain names, -1 for the others.
func linkHeaderLen(opts filter.Options) int {
	switch opts.LinkType {
	case pcapio.LinkTypeEthernet:
		return 14
	case pcapio.LinkTypeLinuxSLL:
		return 16
	case pcapio.LinkTypeLinuxSLL2:
		return 20
	case pcapio.LinkTypeNull, pcapio.LinkTypeLoop:
		return 4
	case pcapio.LinkTypeRaw, pcapio.LinkTypeIPv4, pcapio.LinkTypeIPv6:
		return 0
	}
	return -1
}

// origin is where a register's value came from.
type origin struct {
	bytes []Range
	loads int    // packet loads that went into it
	ind   bool   // the last load was indexed ([x+k])
	k     uint32 // the last load's k
	size  int    // the last load's size
	wire  bool   // the wire length went into it
	msh   bool   // holds an IPv4 header length from ldxb 4*([k]&0xf)
	mask  uint32 // "and #mask" applied to the single load (0: none)
}

func (o origin) plus(b origin) origin {
	r := origin{loads: o.loads + b.loads, ind: o.ind, k: o.k, size: o.size, wire: o.wire || b.wire, msh: o.msh || b.msh}
	r.bytes = append(slices.Clone(o.bytes), b.bytes...)
	return r
}

// provenance follows, through a trace, which packet bytes each register
// and scratch word holds a value of, and which network protocol the
// packet was last found to carry, to name the fields compared.
type provenance struct {
	a, x origin
	aVal uint32 // A after the last step
	ihl  uint32 // the last IPv4 header length ldxb 4*([k]&0xf) read
	// A is a difference L-R of the values subL and subR (the
	// unoptimized code of a comparison "L op R" subtracts and compares
	// with 0): the check shows L and R.
	sub          bool
	subL, subR   uint32
	subLo, subRo origin
	mem          [bpfop.MemWords]origin
	linkHdr      int    // link-layer header length, -1 unknown
	shift        int    // bytes of VLAN tags found after the Ethernet addresses
	net          string // "IPv4", "IPv6", "ARP" once a check found it
}

func newProvenance(linkHdr int) *provenance { return &provenance{linkHdr: linkHdr} }

// step applies one executed instruction.
func (p *provenance) step(s vm.Step) {
	in := s.Ins
	defer func() { p.aVal = s.A }()
	if in.Op == bpfop.ClassALU|bpfop.OpSUB|bpfop.SrcX {
		p.sub, p.subL, p.subR, p.subLo, p.subRo = true, p.aVal, s.X, p.a, p.x
	} else if defsA(in.Op) {
		p.sub = false
	}
	switch bpfop.Class(in.Op) {
	case bpfop.ClassLD, bpfop.ClassLDX:
		var o origin
		switch bpfop.Mode(in.Op) {
		case bpfop.ModeLEN:
			o.wire = true
		case bpfop.ModeMEM:
			o = p.mem[in.K%bpfop.MemWords]
		case bpfop.ModeABS, bpfop.ModeIND, bpfop.ModeMSH:
			if l := s.Load; l != nil && !l.Ancillary {
				// an indexed load is named by its offset in the
				// transport header when X holds the IPv4 header
				// length (plus a constant), else by its offset in the
				// packet
				ind := bpfop.Mode(in.Op) == bpfop.ModeIND && p.x.msh && p.linkHdr >= 0
				k := uint32(min(l.Offset, 1<<32-1))
				if ind {
					k = uint32(l.Offset - uint64(p.linkHdr+p.shift) - uint64(p.ihl))
				}
				if bpfop.Mode(in.Op) == bpfop.ModeMSH {
					p.ihl = l.Value
				}
				o = origin{bytes: []Range{{l.Offset, l.Offset + uint64(l.Size) - 1}}, loads: 1,
					ind: ind, k: k, size: l.Size, msh: bpfop.Mode(in.Op) == bpfop.ModeMSH}
			}
		}
		if bpfop.Class(in.Op) == bpfop.ClassLD {
			p.a = o
		} else {
			p.x = o
		}
	case bpfop.ClassST:
		p.mem[in.K%bpfop.MemWords] = p.a
	case bpfop.ClassSTX:
		p.mem[in.K%bpfop.MemWords] = p.x
	case bpfop.ClassALU:
		switch {
		case bpfop.Src(in.Op) == bpfop.SrcX && bpfop.Op(in.Op) == bpfop.OpAND && p.x.loads == 0 && !p.x.wire &&
			p.a.loads == 1 && p.a.mask == 0:
			p.a.mask = s.X // a constant mask through X, as unoptimized code has it
		case bpfop.Src(in.Op) == bpfop.SrcX:
			p.a = p.a.plus(p.x)
		case bpfop.Op(in.Op) == bpfop.OpAND && p.a.loads == 1 && p.a.mask == 0:
			p.a.mask = in.K
		default:
			p.a.mask = 0
		}
	case bpfop.ClassMISC:
		if bpfop.MiscOp(in.Op) == bpfop.MiscTAX {
			p.x = p.a
		} else {
			p.a = p.x
		}
	}
}

var opNames = map[uint16]string{bpfop.OpJEQ: "=", bpfop.OpJGT: ">", bpfop.OpJGE: ">=", bpfop.OpJSET: "&"}

// check describes conditional jump s, run on the state before it.
func (p *provenance) check(s vm.Step) Check {
	in := s.Ins
	o := p.a
	if bpfop.Src(in.Op) == bpfop.SrcX {
		o = o.plus(p.x)
	}
	c := Check{Value: s.Cmp.A, Op: opNames[bpfop.Op(in.Op)], Operand: s.Cmp.B, Result: s.Cmp.Result,
		Bytes: mergeRanges(o.bytes), WireLen: o.wire, PC: s.PC}
	if p.sub && bpfop.Src(in.Op) == bpfop.SrcK && in.K == 0 && c.Op != "&" {
		// "L - R op 0" is "L op R" as the expression wrote it
		c.Value, c.Operand = p.subL, p.subR
		o = p.subLo
		both := p.subLo.plus(p.subRo)
		c.Bytes, c.WireLen = mergeRanges(both.bytes), both.wire
	}
	name, format := p.name(in, o, c)
	if o.mask != 0 && o.loads == 1 {
		name += fmt.Sprintf(" & 0x%x", o.mask)
	}
	c.Field = name
	mark := "✗"
	if c.Result {
		mark = "✓"
	}
	where := ""
	for i, r := range c.Bytes {
		if i > 0 {
			where += ", "
		}
		where += r.String()
	}
	if c.WireLen {
		if where != "" {
			where += ", "
		}
		where += "wire length"
	}
	if where != "" {
		where = " (" + where + ")"
	}
	c.Text = fmt.Sprintf("%s %s%s %s %s %s", name, format(c.Value), where, c.Op, format(c.Operand), mark)
	p.learn(c, o)
	return c
}

// learn notes what a passed check says about the packet's layers.
func (p *provenance) learn(c Check, o origin) {
	if !c.Result || c.Op != "=" || o.loads != 1 || o.ind || p.linkHdr < 0 {
		return
	}
	switch c.Field {
	case "ethertype", "protocol type":
		switch c.Operand {
		case 0x8100, 0x88a8, 0x9100:
			p.shift += 4
		case 0x0800:
			p.net = "IPv4"
		case 0x86dd:
			p.net = "IPv6"
		case 0x0806:
			p.net = "ARP"
		}
	case "address family":
		switch c.Operand {
		case 2, 0x02000000:
			p.net = "IPv4"
		case 10, 24, 28, 30, 0x18000000, 0x1c000000, 0x1e000000, 0x0a000000:
			p.net = "IPv6"
		}
	case "IP version":
		switch c.Operand {
		case 0x40:
			p.net = "IPv4"
		case 0x60:
			p.net = "IPv6"
		}
	}
}

// name names the value compared and chooses how to print its values.
func (p *provenance) name(in bpf.RawInstruction, o origin, c Check) (string, func(uint32) string) {
	dec := func(v uint32) string { return fmt.Sprint(v) }
	hex := func(v uint32) string { return fmt.Sprintf("0x%x", v) }
	hex4 := func(v uint32) string { return fmt.Sprintf("0x%04x", v) }
	ip4 := func(v uint32) string { return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&255, v>>8&255, v&255) }
	if o.wire && o.loads == 0 {
		return "packet length", dec
	}
	if o.loads != 1 {
		if o.loads == 0 {
			return "A", hex
		}
		return "value", hex
	}
	L := p.linkHdr
	if L < 0 {
		return "value", hex
	}
	if o.ind {
		// [x+k]: X holds the IPv4 header length, k-L is the offset in
		// the transport header
		switch off := int(o.k); {
		case off == 0 && o.size == 2:
			return "source port", dec
		case off == 2 && o.size == 2:
			return "destination port", dec
		case off == 13 && o.size == 1:
			return "TCP flags", hex
		case off == 0 && o.size == 1:
			return "ICMP type", dec
		}
		return fmt.Sprintf("transport header byte %d", int(o.k)), hex
	}
	k := int(o.k)
	switch {
	case L == 14 && k == 12+p.shift && o.size == 2:
		return "ethertype", hex4
	case L == 14 && k == 14+p.shift-4 && p.shift > 0 && o.size == 2:
		return "VLAN tag", hex4
	case L == 14 && k < 6:
		return "destination MAC", hex
	case L == 14 && k < 12:
		return "source MAC", hex
	case L == 16 && k == 14 && o.size == 2, L == 20 && k == 0 && o.size == 2:
		return "protocol type", hex4
	case L == 4 && k == 0 && o.size == 4:
		return "address family", hex
	case L == 0 && k == 0 && o.size == 1 && (c.Operand == 0x40 || c.Operand == 0x60):
		return "IP version", hex
	}
	off := k - L - p.shift
	switch p.net {
	case "IPv4":
		switch {
		case off == 9 && o.size == 1:
			return "IPv4 protocol", dec
		case off == 6 && o.size == 2:
			return "IPv4 flags and fragment offset", hex4
		case off == 12 && o.size == 4:
			return "IPv4 source address", ip4
		case off == 16 && o.size == 4:
			return "IPv4 destination address", ip4
		case off == 2 && o.size == 2:
			return "IPv4 total length", dec
		case off == 8 && o.size == 1:
			return "IPv4 TTL", dec
		}
	case "IPv6":
		switch {
		case off == 6 && o.size == 1:
			return "IPv6 next header", dec
		case off >= 8 && off < 24:
			return fmt.Sprintf("IPv6 source address word %d", (off-8)/4+1), hex
		case off >= 24 && off < 40:
			return fmt.Sprintf("IPv6 destination address word %d", (off-24)/4+1), hex
		case off == 40 && o.size == 2:
			return "source port", dec
		case off == 42 && o.size == 2:
			return "destination port", dec
		}
	case "ARP":
		switch {
		case off == 14 && o.size == 4:
			return "ARP sender address", ip4
		case off == 24 && o.size == 4:
			return "ARP target address", ip4
		}
	}
	return "value", hex
}

// mergeRanges sorts rs and joins overlapping or adjacent ranges.
func mergeRanges(rs []Range) []Range {
	if len(rs) == 0 {
		return nil
	}
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b Range) int {
		if a.First != b.First {
			if a.First < b.First {
				return -1
			}
			return 1
		}
		return 0
	})
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.First <= last.Last+1 {
			last.Last = max(last.Last, r.Last)
			continue
		}
		out = append(out, r)
	}
	return out
}

// defsA reports whether an instruction writes A.
func defsA(op uint16) bool {
	switch bpfop.Class(op) {
	case bpfop.ClassLD, bpfop.ClassALU:
		return true
	case bpfop.ClassMISC:
		return bpfop.MiscOp(op) == bpfop.MiscTXA
	}
	return false
}
