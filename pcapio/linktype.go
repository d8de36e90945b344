package pcapio

import (
	"fmt"
	"strings"
)

// LinkType is a LINKTYPE_ value as stored in pcap and pcapng files
// (https://www.tcpdump.org/linktypes.html). It names the link-layer header
// that starts every packet of an interface.
//
// Where a platform's DLT_ value differs from the LINKTYPE_ value (DLT_RAW is
// 12 or 14 on some systems, LINKTYPE_RAW is 101), pkttap always uses the
// LINKTYPE_ value; LinkTypeFromDLT maps the others.
type LinkType uint32

// The link types pkttap knows by name.
const (
	LinkTypeNull            LinkType = 0   // BSD loopback: 4-byte address family in host byte order
	LinkTypeEthernet        LinkType = 1   // Ethernet II / 802.3 (DLT_EN10MB)
	LinkTypeTokenRing       LinkType = 6   // IEEE 802.5 token ring
	LinkTypeArcnet          LinkType = 7   // ARCNET (BSD)
	LinkTypeSLIP            LinkType = 8   // SLIP
	LinkTypePPP             LinkType = 9   // PPP
	LinkTypeFDDI            LinkType = 10  // FDDI
	LinkTypePPPHDLC         LinkType = 50  // PPP in HDLC-like framing
	LinkTypePPPEther        LinkType = 51  // PPPoE
	LinkTypeATMRFC1483      LinkType = 100 // RFC 1483 LLC/SNAP-encapsulated ATM
	LinkTypeRaw             LinkType = 101 // raw IPv4 or IPv6, no link header
	LinkTypeCHDLC           LinkType = 104 // Cisco HDLC
	LinkTypeIEEE802_11      LinkType = 105 // IEEE 802.11 without radio header
	LinkTypeFRelay          LinkType = 107 // Frame Relay
	LinkTypeLoop            LinkType = 108 // OpenBSD loopback: 4-byte address family in network byte order
	LinkTypeLinuxSLL        LinkType = 113 // Linux cooked capture v1
	LinkTypeLTalk           LinkType = 114 // Apple LocalTalk
	LinkTypePFLog           LinkType = 117 // OpenBSD pflog
	LinkTypePrismHeader     LinkType = 119 // 802.11 with Prism header
	LinkTypeIPOverFC        LinkType = 122 // IP over Fibre Channel
	LinkTypeSunATM          LinkType = 123 // SunATM
	LinkTypeIEEE802_11Radio LinkType = 127 // 802.11 with radiotap header
	LinkTypeArcnetLinux     LinkType = 129 // ARCNET (Linux)
	LinkTypeLinuxIRDA       LinkType = 144 // Linux IrDA
	LinkTypeAironetHeader   LinkType = 163 // 802.11 with AVS header
	LinkTypeMTP2            LinkType = 140 // SS7 MTP2
	LinkTypeJuniperEther    LinkType = 178 // Ethernet with Juniper's pseudo-header
	LinkTypePPI             LinkType = 192 // Per-Packet Information
	LinkTypeIEEE802_15_4    LinkType = 195 // IEEE 802.15.4
	LinkTypeIPNet           LinkType = 226 // Solaris IPNET
	LinkTypeIPv4            LinkType = 228 // raw IPv4
	LinkTypeIPv6            LinkType = 229 // raw IPv6
	LinkTypeNFLog           LinkType = 239 // Linux netfilter log messages
	LinkTypeIPoIB           LinkType = 242 // IP over InfiniBand
	LinkTypeNetlink         LinkType = 253 // Linux netlink
	LinkTypeLinuxSLL2       LinkType = 276 // Linux cooked capture v2
)

type linkTypeName struct {
	lt      LinkType
	name    string // the DLT name as tcpdump's -y and -L print it, without "DLT_"
	desc    string
	display string // the name pkttap's output shows (DisplayName)
}

var linkTypeNames = []linkTypeName{
	{LinkTypeNull, "NULL", "BSD loopback", "Null"},
	{LinkTypeEthernet, "EN10MB", "Ethernet", "Ethernet"},
	{LinkTypeTokenRing, "IEEE802", "Token ring", "TokenRing"},
	{LinkTypeArcnet, "ARCNET", "BSD ARCNET", "Arcnet"},
	{LinkTypeSLIP, "SLIP", "SLIP", "Slip"},
	{LinkTypePPP, "PPP", "PPP", "Ppp"},
	{LinkTypeFDDI, "FDDI", "FDDI", "Fddi"},
	{LinkTypePPPHDLC, "PPP_SERIAL", "PPP over serial", "PppHdlc"},
	{LinkTypePPPEther, "PPP_ETHER", "PPPoE", "PppEther"},
	{LinkTypeATMRFC1483, "ATM_RFC1483", "RFC 1483 LLC-encapsulated ATM", "AtmRfc1483"},
	{LinkTypeRaw, "RAW", "Raw IP", "RawIp"},
	{LinkTypeCHDLC, "C_HDLC", "Cisco HDLC", "CiscoHdlc"},
	{LinkTypeIEEE802_11, "IEEE802_11", "802.11", "Ieee802_11"},
	{LinkTypeFRelay, "FRELAY", "Frame Relay", "FrameRelay"},
	{LinkTypeLoop, "LOOP", "OpenBSD loopback", "Loop"},
	{LinkTypeLinuxSLL, "LINUX_SLL", "Linux cooked v1", "LinuxSll"},
	{LinkTypeLTalk, "LTALK", "Localtalk", "LocalTalk"},
	{LinkTypePFLog, "PFLOG", "OpenBSD pflog file", "PfLog"},
	{LinkTypePrismHeader, "PRISM_HEADER", "802.11 plus Prism header", "Ieee802_11Prism"},
	{LinkTypeIPOverFC, "IP_OVER_FC", "RFC 2625 IP-over-Fibre Channel", "IpOverFc"},
	{LinkTypeSunATM, "SUNATM", "Sun raw ATM", "SunAtm"},
	{LinkTypeIEEE802_11Radio, "IEEE802_11_RADIO", "802.11 plus radiotap header", "Ieee802_11Radio"},
	{LinkTypeArcnetLinux, "ARCNET_LINUX", "Linux ARCNET", "ArcnetLinux"},
	{LinkTypeMTP2, "MTP2", "SS7 MTP2", "Mtp2"},
	{LinkTypeLinuxIRDA, "LINUX_IRDA", "Linux IrDA", "LinuxIrda"},
	{LinkTypeAironetHeader, "IEEE802_11_RADIO_AVS", "802.11 plus AVS radio information header", "Ieee802_11Avs"},
	{LinkTypeJuniperEther, "JUNIPER_ETHER", "Juniper Ethernet", "JuniperEther"},
	{LinkTypePPI, "PPI", "Per-Packet Information", "Ppi"},
	{LinkTypeIEEE802_15_4, "IEEE802_15_4", "IEEE 802.15.4", "Ieee802_15_4"},
	{LinkTypeIPNet, "IPNET", "Solaris IPNET", "IpNet"},
	{LinkTypeIPv4, "IPV4", "Raw IPv4", "Ipv4"},
	{LinkTypeIPv6, "IPV6", "Raw IPv6", "Ipv6"},
	{LinkTypeNFLog, "NFLOG", "Linux netfilter log messages", "NfLog"},
	{LinkTypeIPoIB, "IPOIB", "IP over InfiniBand", "IpOverIb"},
	{LinkTypeNetlink, "NETLINK", "Linux netlink", "Netlink"},
	{LinkTypeLinuxSLL2, "LINUX_SLL2", "Linux cooked v2", "LinuxSll2"},
}

// String returns the link type's DLT name as tcpdump prints it ("EN10MB",
// "LINUX_SLL"), or "LINKTYPE_<n>" for a value pkttap has no name for.
func (lt LinkType) String() string {
	for _, n := range linkTypeNames {
		if n.lt == lt {
			return n.name
		}
	}
	return fmt.Sprintf("LINKTYPE_%d", uint32(lt))
}

// DisplayName returns the name pkttap's output shows for the link type,
// a readable word ("Ethernet", "RawIp", "LinuxSll", "LinuxSll2", "Null",
// "Loop", "Ieee802_11Radio"), or "Unknown(n)" for a value pkttap has no name
// for. String's tcpdump names ("EN10MB") are the ones LinkTypeFromName and
// command-line flags accept.
func (lt LinkType) DisplayName() string {
	for _, n := range linkTypeNames {
		if n.lt == lt {
			return n.display
		}
	}
	return fmt.Sprintf("Unknown(%d)", uint32(lt))
}

// Description returns a short human description ("Ethernet", "Linux cooked v1").
func (lt LinkType) Description() string {
	for _, n := range linkTypeNames {
		if n.lt == lt {
			return n.desc
		}
	}
	return fmt.Sprintf("link type %d", uint32(lt))
}

// LinkTypeFromName maps a DLT name as tcpdump's -y accepts it ("EN10MB",
// "DLT_EN10MB", case-insensitive) to a LinkType.
func LinkTypeFromName(name string) (LinkType, error) {
	n := strings.TrimPrefix(strings.ToUpper(name), "DLT_")
	for _, e := range linkTypeNames {
		if e.name == n {
			return e.lt, nil
		}
	}
	return 0, fmt.Errorf("unknown link type name %q (try EN10MB, RAW, LINUX_SLL, LINUX_SLL2, NULL or LOOP)", name)
}

// LinkTypeFromDLT maps a platform DLT_ value to its LINKTYPE_ value: DLT_RAW
// is 12 on most systems and 14 on OpenBSD, both LINKTYPE_RAW (101); DLT values
// that equal their LINKTYPE values are returned unchanged. It knows no
// system, so it is right only where 14 is DLT_RAW or unused: 14 is
// DLT_PPP_BSDOS on FreeBSD and NetBSD, and other values below 104 differ
// too. Live captures (package platform) map with the DLT_ table of the
// system they run on, as libpcap does.
func LinkTypeFromDLT(dlt uint32) LinkType {
	switch dlt {
	case 12, 14:
		return LinkTypeRaw
	}
	return LinkType(dlt)
}
