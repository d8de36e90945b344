package dissect

// etherTypeName names an EtherType as Wireshark does, or "" when unknown.
func etherTypeName(t uint16) string {
	switch t {
	case 0x0800:
		return "IPv4"
	case 0x86dd:
		return "IPv6"
	case 0x0806:
		return "ARP"
	case 0x8035:
		return "RARP"
	case 0x8100:
		return "802.1Q Virtual LAN"
	case 0x88a8:
		return "802.1ad Provider Bridge (Q-in-Q)"
	case 0x9100:
		return "QinQ: old non-standard 802.1ad"
	case 0x8847:
		return "MPLS label switched packet"
	case 0x8848:
		return "MPLS multicast label switched packet"
	case 0x8863:
		return "PPPoE Discovery"
	case 0x8864:
		return "PPPoE Session"
	case 0x880b:
		return "PPP"
	case 0x6558:
		return "Transparent Ethernet bridging"
	case 0x88cc:
		return "802.1 Link Layer Discovery Protocol (LLDP)"
	case 0x888e:
		return "802.1X Authentication"
	case 0x88e5:
		return "802.1AE (MACsec)"
	case 0x8809:
		return "Slow Protocols"
	case 0x88f7:
		return "PTPv2 over Ethernet (IEEE1588)"
	case 0x9000:
		return "Configuration Test Protocol (loopback)"
	case 0x88be:
		return "ERSPAN"
	case 0x22f0:
		return "AVTP"
	case 0x88a2:
		return "ATA over Ethernet"
	case 0x6003:
		return "DECnet Phase IV"
	case 0x809b:
		return "AppleTalk LLAP bridging"
	case 0x8137:
		return "Netware IPX/SPX"
	}
	return ""
}

// ipProtoName names an IP protocol number, or "" when unknown.
func ipProtoName(p uint8) string { return ipProtoNames[p] }
