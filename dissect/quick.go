package dissect

import "github.com/pkttap/pkttap/pcapio"

// Headers holds the common header fields of a packet read by [Quick]: an
// Ethernet frame, Linux cooked capture (v1 or v2), BSD loopback header or
// raw IP carrying IPv4 or IPv6, carrying TCP or UDP.
// Byte slices alias the packet's data.
type Headers struct {
	Eth              bool // an Ethernet II header
	EthDst, EthSrc   []byte
	EthType          uint16
	IPv4, IPv6       bool
	IPSrc, IPDst     []byte // 4 or 16 bytes
	IPHdrLen         int    // IPv4 header length in bytes
	IPTOS            uint8  // ip.dsfield, ipv6.tclass
	IPLen            int    // ip.len, ipv6.plen
	IPID             uint16
	IPFlags          uint8 // the 3 flag bits
	IPTTL            uint8 // ip.ttl, ipv6.hlim
	IPProto          uint8 // ip.proto, ipv6.nxt
	IPv6Flow         uint32
	TCP, UDP         bool
	L4Offset         int // where the TCP or UDP header starts in the data
	SrcPort, DstPort uint16
	TCPHdrLen        int
	TCPFlags         uint16 // the 12-bit field
	TCPSeq, TCPAck   uint32
	TCPWindow        uint16
	TCPLen           int // payload length
	Checksum         uint16
	TCPUrgent        uint16
	UDPLength        uint16
	CapLen, WireLen  int
}

// Quick reads the headers of a plain packet without building a tree: an
// untagged Ethernet II frame, a Linux cooked capture (v1 or v2) of an
// EtherType, a BSD NULL or LOOP header, or raw IP; IPv4 (not a fragment)
// or IPv6 without extension headers; and a whole TCP or UDP header, all
// within the captured bytes and consistent in their lengths. A UDP
// datagram to a tunnel's port, or a TCP segment to OpenFlow's, is not
// plain. It reports false for any other packet, which must be decoded by
// [Dissect]. For a plain packet the fields are those Dissect gives the
// nodes of the same names.
func Quick(lt pcapio.LinkType, data []byte, wireLen int, h *Headers) bool {
	*h = Headers{CapLen: len(data), WireLen: max(wireLen, len(data))}
	off := 0
	var version byte
	switch lt {
	case pcapio.LinkTypeEthernet:
		if len(data) < 14 {
			return false
		}
		h.Eth, h.EthDst, h.EthSrc = true, data[0:6], data[6:12]
		h.EthType = uint16(data[12])<<8 | uint16(data[13])
		switch h.EthType {
		case 0x0800:
			version = 4
		case 0x86dd:
			version = 6
		default:
			return false
		}
		off = 14
	case pcapio.LinkTypeRaw, pcapio.LinkTypeIPv4, pcapio.LinkTypeIPv6:
		if len(data) < 1 {
			return false
		}
		version = data[0] >> 4
	case pcapio.LinkTypeLinuxSLL, pcapio.LinkTypeLinuxSLL2:
		// Linux cooked captures: the protocol is an EtherType unless the
		// link-layer type is netlink (824).
		var proto, hatype uint16
		if off = 16; lt == pcapio.LinkTypeLinuxSLL2 {
			off = 20
		}
		if len(data) < off {
			return false
		}
		if lt == pcapio.LinkTypeLinuxSLL {
			proto, hatype = uint16(data[14])<<8|uint16(data[15]), uint16(data[2])<<8|uint16(data[3])
		} else {
			proto, hatype = uint16(data[0])<<8|uint16(data[1]), uint16(data[8])<<8|uint16(data[9])
		}
		if version = etherIPVersion(proto); version == 0 || hatype == 824 {
			return false
		}
	case pcapio.LinkTypeNull, pcapio.LinkTypeLoop:
		// A 4-byte address family: NULL's in the writer's byte order,
		// LOOP's big-endian.
		if len(data) < 4 {
			return false
		}
		fam := uint32(data[0])<<24 | uint32(data[1])<<16 | uint32(data[2])<<8 | uint32(data[3])
		if lt == pcapio.LinkTypeNull && (data[0] != 0 || data[1] != 0) {
			fam = uint32(data[3])<<24 | uint32(data[2])<<16 | uint32(data[1])<<8 | uint32(data[0])
		}
		switch fam {
		case 2:
			version = 4
		case 10, 24, 28, 30:
			version = 6
		default:
			return false
		}
		off = 4
	default:
		return false
	}
	ip := data[off:]
	var end int // where the IP payload ends
	switch version {
	case 4:
		if len(ip) < 20 || ip[0]>>4 != 4 {
			return false
		}
		hl := int(ip[0]&0xf) * 4
		tot := int(ip[2])<<8 | int(ip[3])
		ff := uint16(ip[6])<<8 | uint16(ip[7])
		if hl < 20 || tot < hl || tot > len(ip) || ff&0x3fff != 0 {
			return false // options cut, TSO lengths, truncation, fragments
		}
		h.IPv4, h.IPHdrLen, h.IPTOS, h.IPLen = true, hl, ip[1], tot
		h.IPID, h.IPFlags, h.IPTTL, h.IPProto = uint16(ip[4])<<8|uint16(ip[5]), uint8(ff>>13), ip[8], ip[9]
		h.IPSrc, h.IPDst = ip[12:16], ip[16:20]
		off, end = off+hl, off+tot
	case 6:
		if len(ip) < 40 || ip[0]>>4 != 6 {
			return false
		}
		plen := int(ip[4])<<8 | int(ip[5])
		if plen == 0 || 40+plen > len(ip) {
			return false // jumbograms, truncation
		}
		h.IPv6, h.IPTOS, h.IPLen = true, uint8((uint16(ip[0])<<8|uint16(ip[1]))>>4), plen
		h.IPv6Flow = uint32(ip[1]&0xf)<<16 | uint32(ip[2])<<8 | uint32(ip[3])
		h.IPProto, h.IPTTL = ip[6], ip[7]
		h.IPSrc, h.IPDst = ip[8:24], ip[24:40]
		off, end = off+40, off+40+plen
	default:
		return false
	}
	h.L4Offset = off
	l4 := data[off:end]
	switch h.IPProto {
	case 6:
		if len(l4) < 20 {
			return false
		}
		hl := int(l4[12]>>4) * 4
		if hl < 20 || hl > len(l4) {
			return false
		}
		h.TCP, h.TCPHdrLen, h.TCPLen = true, hl, len(l4)-hl
		h.SrcPort, h.DstPort = uint16(l4[0])<<8|uint16(l4[1]), uint16(l4[2])<<8|uint16(l4[3])
		h.TCPSeq = uint32(l4[4])<<24 | uint32(l4[5])<<16 | uint32(l4[6])<<8 | uint32(l4[7])
		h.TCPAck = uint32(l4[8])<<24 | uint32(l4[9])<<16 | uint32(l4[10])<<8 | uint32(l4[11])
		h.TCPFlags = (uint16(l4[12])<<8 | uint16(l4[13])) & 0xfff
		h.TCPWindow = uint16(l4[14])<<8 | uint16(l4[15])
		h.Checksum, h.TCPUrgent = uint16(l4[16])<<8|uint16(l4[17]), uint16(l4[18])<<8|uint16(l4[19])
		for _, p := range [...]uint16{6653, 6633} { // OpenFlow: frames inside packet-in and packet-out
			if h.SrcPort == p || h.DstPort == p {
				return false
			}
		}
	case 17:
		if len(l4) < 8 {
			return false
		}
		h.UDP = true
		h.SrcPort, h.DstPort = uint16(l4[0])<<8|uint16(l4[1]), uint16(l4[2])<<8|uint16(l4[3])
		h.UDPLength, h.Checksum = uint16(l4[4])<<8|uint16(l4[5]), uint16(l4[6])<<8|uint16(l4[7])
		if int(h.UDPLength) < 8 || int(h.UDPLength) > len(l4) {
			return false
		}
		for _, p := range [...]uint16{4789, 4790, 6081, 4500, 6635, 6343} { // tunnels: inner headers
			if h.SrcPort == p || h.DstPort == p {
				return false
			}
		}
	default:
		return false
	}
	return true
}

// etherIPVersion returns 4 or 6 for the EtherTypes of IPv4 and IPv6, 0
// for any other.
func etherIPVersion(et uint16) byte {
	switch et {
	case 0x0800:
		return 4
	case 0x86dd:
		return 6
	}
	return 0
}
