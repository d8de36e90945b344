// Package testpkt builds the network-layer packets of pkttap's tests byte by
// byte, so that tests need no fixture files: IPv4 (with a valid header
// checksum), IPv6, UDP, TCP and ARP, and the addresses to put in them.
//
// Each builder returns a new slice holding its header followed by the
// payload it was given, so packets are built inside out:
//
//	ip := testpkt.IPv4(testpkt.ProtoUDP, testpkt.IPv4A, testpkt.IPv4B, testpkt.UDP(40000, 53, query))
//	frame := netnstest.EthFrame(testpkt.MACB, testpkt.MACA, testpkt.EtherTypeIPv4, ip)
//
// (Ethernet and 802.1Q headers come from internal/netnstest's EthFrame and
// VLANTag.) Fields a builder takes no argument for are fixed: TTL and hop
// limit 64, no IP options or fragmentation, no UDP or TCP checksum. Golden
// files of the tests depend on these bytes, so a builder must never change
// what it returns for the same arguments.
//
// Addresses are in 198.18.0.0/15 (RFC 2544 benchmarking) and 2001:db8::/32
// (RFC 3849 documentation), with locally administered MAC addresses.
//
// The package is plain Go and builds on every system.
package testpkt
