package dfilter

import (
	"github.com/pkttap/pkttap/dissect"
)

// The fast path: a filter that names only fields of the common headers
// (Ethernet, IPv4, IPv6, TCP, UDP, frame lengths) reads them with
// dissect.Quick, without a tree, for every packet Quick calls plain; the
// other packets, and filters naming other fields, go through
// dissect.Dissect. TestFastEqualsTree checks that both give every fast
// field the same values on the shared corpus.

// fastGetter appends a field's values from the headers.
type fastGetter func(h *dissect.Headers, dst []dissect.Value) []dissect.Value

func u(t dissect.Type, get func(h *dissect.Headers) uint64) fastGetter {
	return func(h *dissect.Headers, dst []dissect.Value) []dissect.Value {
		return append(dst, dissect.Value{Type: t, N: get(h)})
	}
}

func bit(get func(h *dissect.Headers) bool) fastGetter {
	return func(h *dissect.Headers, dst []dissect.Value) []dissect.Value {
		v := dissect.Value{Type: dissect.TypeBool}
		if get(h) {
			v.N = 1
		}
		return append(dst, v)
	}
}

func addr(t dissect.Type, get func(h *dissect.Headers) []byte) fastGetter {
	return func(h *dissect.Headers, dst []dissect.Value) []dissect.Value {
		return append(dst, dissect.Value{Type: t, B: get(h)})
	}
}

// both appends the values of two getters, as an alias of two fields.
func both(a, b fastGetter) fastGetter {
	return func(h *dissect.Headers, dst []dissect.Value) []dissect.Value { return b(h, a(h, dst)) }
}

// when makes a getter that gives values only for packets where layer holds.
func when(layer func(h *dissect.Headers) bool, g fastGetter) fastGetter {
	return func(h *dissect.Headers, dst []dissect.Value) []dissect.Value {
		if layer(h) {
			return g(h, dst)
		}
		return dst
	}
}

// present is a protocol's getter: one value, without bytes, when the
// layer is there (used only by filters that test its existence).
func present(layer func(h *dissect.Headers) bool) fastGetter {
	return when(layer, func(h *dissect.Headers, dst []dissect.Value) []dissect.Value {
		return append(dst, dissect.Value{Type: dissect.TypeProtocol})
	})
}

var (
	isEth  = func(h *dissect.Headers) bool { return h.Eth }
	isIPv4 = func(h *dissect.Headers) bool { return h.IPv4 }
	isIPv6 = func(h *dissect.Headers) bool { return h.IPv6 }
	isTCP  = func(h *dissect.Headers) bool { return h.TCP }
	isUDP  = func(h *dissect.Headers) bool { return h.UDP }
)

// fastFields are the fields the fast path reads, each with the type the
// registry gives it.
var fastFields = func() map[string]fastGetter {
	const (
		u8  = dissect.TypeUint8
		u16 = dissect.TypeUint16
		u32 = dissect.TypeUint32
	)
	ethSrc := addr(dissect.TypeEther, func(h *dissect.Headers) []byte { return h.EthSrc })
	ethDst := addr(dissect.TypeEther, func(h *dissect.Headers) []byte { return h.EthDst })
	ip4Src := addr(dissect.TypeIPv4, func(h *dissect.Headers) []byte { return h.IPSrc })
	ip4Dst := addr(dissect.TypeIPv4, func(h *dissect.Headers) []byte { return h.IPDst })
	ip6Src := addr(dissect.TypeIPv6, func(h *dissect.Headers) []byte { return h.IPSrc })
	ip6Dst := addr(dissect.TypeIPv6, func(h *dissect.Headers) []byte { return h.IPDst })
	src := u(u16, func(h *dissect.Headers) uint64 { return uint64(h.SrcPort) })
	dst := u(u16, func(h *dissect.Headers) uint64 { return uint64(h.DstPort) })
	tcpFlag := func(m uint16) fastGetter { return bit(func(h *dissect.Headers) bool { return h.TCPFlags&m != 0 }) }
	ipFlag := func(m uint8) fastGetter { return bit(func(h *dissect.Headers) bool { return h.IPFlags&m != 0 }) }
	m := map[string]fastGetter{
		"frame.len":             u(u32, func(h *dissect.Headers) uint64 { return uint64(h.WireLen) }),
		"frame.cap_len":         u(u32, func(h *dissect.Headers) uint64 { return uint64(h.CapLen) }),
		"eth":                   present(isEth),
		"eth.src":               when(isEth, ethSrc),
		"eth.dst":               when(isEth, ethDst),
		"eth.addr":              when(isEth, both(ethDst, ethSrc)),
		"eth.type":              when(isEth, u(u16, func(h *dissect.Headers) uint64 { return uint64(h.EthType) })),
		"ip":                    present(isIPv4),
		"ip.version":            u(u8, ipVersion), // IPv6 headers have it too, as in Wireshark
		"ip.hdr_len":            when(isIPv4, u(u8, func(h *dissect.Headers) uint64 { return uint64(h.IPHdrLen) })),
		"ip.dsfield":            when(isIPv4, u(u8, func(h *dissect.Headers) uint64 { return uint64(h.IPTOS) })),
		"ip.len":                when(isIPv4, u(u16, func(h *dissect.Headers) uint64 { return uint64(h.IPLen) })),
		"ip.id":                 when(isIPv4, u(u16, func(h *dissect.Headers) uint64 { return uint64(h.IPID) })),
		"ip.flags":              when(isIPv4, u(u8, func(h *dissect.Headers) uint64 { return uint64(h.IPFlags) })),
		"ip.flags.rb":           when(isIPv4, ipFlag(4)),
		"ip.flags.df":           when(isIPv4, ipFlag(2)),
		"ip.flags.mf":           when(isIPv4, ipFlag(1)),
		"ip.frag_offset":        when(isIPv4, u(u16, func(h *dissect.Headers) uint64 { return 0 })),
		"ip.ttl":                when(isIPv4, u(u8, func(h *dissect.Headers) uint64 { return uint64(h.IPTTL) })),
		"ip.proto":              when(isIPv4, u(u8, func(h *dissect.Headers) uint64 { return uint64(h.IPProto) })),
		"ip.src":                when(isIPv4, ip4Src),
		"ip.dst":                when(isIPv4, ip4Dst),
		"ip.addr":               when(isIPv4, both(ip4Src, ip4Dst)),
		"ipv6":                  present(isIPv6),
		"ipv6.version":          when(isIPv6, u(u8, func(h *dissect.Headers) uint64 { return 6 })),
		"ipv6.tclass":           when(isIPv6, u(u32, func(h *dissect.Headers) uint64 { return uint64(h.IPTOS) })),
		"ipv6.flow":             when(isIPv6, u(dissect.TypeUint24, func(h *dissect.Headers) uint64 { return uint64(h.IPv6Flow) })),
		"ipv6.plen":             when(isIPv6, u(u16, func(h *dissect.Headers) uint64 { return uint64(h.IPLen) })),
		"ipv6.nxt":              when(isIPv6, u(u8, func(h *dissect.Headers) uint64 { return uint64(h.IPProto) })),
		"ipv6.hlim":             when(isIPv6, u(u8, func(h *dissect.Headers) uint64 { return uint64(h.IPTTL) })),
		"ipv6.src":              when(isIPv6, ip6Src),
		"ipv6.dst":              when(isIPv6, ip6Dst),
		"ipv6.addr":             when(isIPv6, both(ip6Src, ip6Dst)),
		"tcp":                   present(isTCP),
		"tcp.srcport":           when(isTCP, src),
		"tcp.dstport":           when(isTCP, dst),
		"tcp.port":              when(isTCP, both(src, dst)),
		"tcp.seq_raw":           when(isTCP, u(u32, func(h *dissect.Headers) uint64 { return uint64(h.TCPSeq) })),
		"tcp.ack_raw":           when(isTCP, u(u32, func(h *dissect.Headers) uint64 { return uint64(h.TCPAck) })),
		"tcp.hdr_len":           when(isTCP, u(u8, func(h *dissect.Headers) uint64 { return uint64(h.TCPHdrLen) })),
		"tcp.flags":             when(isTCP, u(u16, func(h *dissect.Headers) uint64 { return uint64(h.TCPFlags) })),
		"tcp.flags.fin":         when(isTCP, tcpFlag(0x001)),
		"tcp.flags.syn":         when(isTCP, tcpFlag(0x002)),
		"tcp.flags.reset":       when(isTCP, tcpFlag(0x004)),
		"tcp.flags.push":        when(isTCP, tcpFlag(0x008)),
		"tcp.flags.ack":         when(isTCP, tcpFlag(0x010)),
		"tcp.flags.urg":         when(isTCP, tcpFlag(0x020)),
		"tcp.flags.ece":         when(isTCP, tcpFlag(0x040)),
		"tcp.flags.cwr":         when(isTCP, tcpFlag(0x080)),
		"tcp.flags.ae":          when(isTCP, tcpFlag(0x100)),
		"tcp.window_size_value": when(isTCP, u(u16, func(h *dissect.Headers) uint64 { return uint64(h.TCPWindow) })),
		"tcp.checksum":          when(isTCP, u(u16, func(h *dissect.Headers) uint64 { return uint64(h.Checksum) })),
		"tcp.urgent_pointer":    when(isTCP, u(u16, func(h *dissect.Headers) uint64 { return uint64(h.TCPUrgent) })),
		"tcp.len":               when(isTCP, u(u32, func(h *dissect.Headers) uint64 { return uint64(h.TCPLen) })),
		"udp":                   present(isUDP),
		"udp.srcport":           when(isUDP, src),
		"udp.dstport":           when(isUDP, dst),
		"udp.port":              when(isUDP, both(src, dst)),
		"udp.length":            when(isUDP, u(u16, func(h *dissect.Headers) uint64 { return uint64(h.UDPLength) })),
		"udp.checksum":          when(isUDP, u(u16, func(h *dissect.Headers) uint64 { return uint64(h.Checksum) })),
	}
	return m
}()

func ipVersion(h *dissect.Headers) uint64 {
	if h.IPv4 {
		return 4
	}
	return 6
}

// frameGetter appends a field's values from the packet alone.
type frameGetter func(p *Packet, dst []dissect.Value) []dissect.Value

// frameFields are the frame's own fields, which every packet has and no
// decoding gives: a filter reading only these decodes nothing.
var frameFields = map[string]frameGetter{
	"frame": func(p *Packet, dst []dissect.Value) []dissect.Value {
		return append(dst, dissect.Value{Type: dissect.TypeProtocol})
	},
	"frame.len": func(p *Packet, dst []dissect.Value) []dissect.Value {
		return append(dst, dissect.Value{Type: dissect.TypeUint32, N: uint64(max(p.Length, len(p.Data)))})
	},
	"frame.cap_len": func(p *Packet, dst []dissect.Value) []dissect.Value {
		return append(dst, dissect.Value{Type: dissect.TypeUint32, N: uint64(len(p.Data))})
	},
	"frame.number": func(p *Packet, dst []dissect.Value) []dissect.Value {
		return append(dst, dissect.Value{Type: dissect.TypeUint32, N: uint64(p.Number)})
	},
	"frame.encap_type": func(p *Packet, dst []dissect.Value) []dissect.Value {
		return append(dst, dissect.Value{Type: dissect.TypeString, S: p.LinkType.Description() + " (" + p.LinkType.String() + ")"})
	},
}
