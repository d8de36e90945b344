package filter

import (
	"strconv"
	"strings"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// ntohs16 is ntohs on a little-endian host, which libpcap applies to the
// DECnet constants (so programs compare byte-swapped values, as libpcap's
// do on x86).
func ntohs16(v uint32) uint32 { return (v&0xff)<<8 | (v>>8)&0xff }

// atodn parses a DECnet address "area.node" as libpcap's __pcap_atodn.
func atodn(s string) (uint32, bool) {
	a, n, ok := strings.Cut(s, ".")
	if !ok {
		return 0, false
	}
	area, err1 := strconv.Atoi(leadingInt(a))
	node, err2 := strconv.Atoi(leadingInt(n))
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return uint32(area<<10)&0xfc00 | uint32(node)&0x3ff, true
}

func leadingInt(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// genDNHostop tests a DECnet node address in the long and short DECnet
// routing headers, with and without padding.
func (c *compiler) genDNHostop(addr uint32, dir int) *block {
	return c.genByDir(dir, "DECnet addresses", func(dir int) *block {
		return c.genDNHostop1(addr, srcDst(dir, 3, 1), srcDst(dir, 15, 7))
	})
}

// genDNHostop1 tests one DECnet address at offSH in the short routing
// header and offLH in the long one.
func (c *compiler) genDNHostop1(addr uint32, offSH, offLH int) *block {
	a := ntohs16(addr)
	b0 := c.genLinkType(ethertypeDN)
	tmp := c.genMcmp(orLinkPL, 2, bpfop.SizeH, ntohs16(0x0681), ntohs16(0x07ff))
	b1 := c.genCmp(orLinkPL, 2+1+offLH, bpfop.SizeH, a)
	genAnd(tmp, b1)
	tmp = c.genMcmp(orLinkPL, 2, bpfop.SizeB, 0x06, 0x7)
	b2 := c.genCmp(orLinkPL, 2+offLH, bpfop.SizeH, a)
	genAnd(tmp, b2)
	genOr(b2, b1)
	tmp = c.genMcmp(orLinkPL, 2, bpfop.SizeH, ntohs16(0x0281), ntohs16(0x07ff))
	b2 = c.genCmp(orLinkPL, 2+1+offSH, bpfop.SizeH, a)
	genAnd(tmp, b2)
	genOr(b2, b1)
	tmp = c.genMcmp(orLinkPL, 2, bpfop.SizeB, 0x02, 0x7)
	b2 = c.genCmp(orLinkPL, 2+offSH, bpfop.SizeH, a)
	genAnd(tmp, b2)
	genOr(b2, b1)
	genAnd(b0, b1)
	return b1
}
