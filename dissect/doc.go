// Package dissect decodes packet bytes for people: the one-line summary a
// packet list shows (Source, Destination, Protocol, Info, in the spirit of
// Wireshark's columns) and a details tree in which every layer and every
// field knows the byte range it was decoded from, so a user interface can
// highlight a field's bytes and name the field under a byte.
//
// # What it decodes
//
// Link layers: Ethernet II and IEEE 802.3 with LLC/SNAP (and Spanning Tree
// BPDUs), 802.1Q and 802.1ad tags (stacked), Linux cooked captures (SLL and
// SLL2), BSD NULL and OpenBSD LOOP, raw IP, PPP; MPLS label stacks; PPPoE
// discovery and session. Network: IPv4 (options, fragments, header
// checksum), IPv6 and its extension headers (hop-by-hop, routing,
// fragment, destination options, AH), ESP, ARP, ICMP and ICMPv6 (types and
// codes named, neighbour discovery), IGMP v1-v3, GRE, ERSPAN, VXLAN and
// Geneve (the inner packet decoded too). Transport: TCP (flags, options,
// checksum), UDP, SCTP chunks. Applications, enough for the Info column:
// DNS (also over TCP), mDNS and LLMNR, DHCP/BOOTP, NTP, HTTP/1.x, SSDP, TLS
// records and handshakes with the ClientHello's server name, QUIC long and
// short headers, UDP-encapsulated ESP.
//
// Checksums (IPv4, ICMP, ICMPv6, IGMP, TCP, UDP, SCTP) are verified where
// all their bytes were captured; a bad one adds the "bad-checksum" tag. A
// TCP or UDP checksum holding only the pseudo-header sum, as captures on a
// sending host with checksum offload have, is reported as left for the
// NIC rather than as bad.
//
// # Two entry points, one decoder
//
// [Summarize] is the fast path for packet lists: it builds no tree, and its
// strings are formatted without fmt, in a pooled decoder that caches
// address strings, so a summary costs one allocation (its Info string); it
// decodes over a million packets of a typical mix per second on one core.
// [Dissect] builds the full [Tree]. Both run the same decoders, so the
// summary and the tree never disagree. Both are safe for concurrent use.
//
// Each packet is decoded on its own: Info columns carry no cross-packet
// state (absolute TCP sequence numbers, no reassembly, no request/response
// matching), where Wireshark would use what earlier packets told it.
//
// # Robustness
//
// Every read is bounds-checked against the captured bytes; nothing is
// trusted from a length field. A packet cut short by the capture's snap
// length gets a "[Packet truncated]" node, one whose lengths contradict
// themselves a "[Malformed: …]" node, and the Info column says so too.
// Work per packet is bounded: encapsulation depth, DNS name compression
// pointers, option and chunk counts and the number of tree nodes all have
// fixed limits, so no packet can make the decoder loop or grow without end.
//
// # Field names
//
// A node's Field is the Wireshark display-filter name of the protocol or
// field ("ip", "tcp.srcport", "dns.qry.name") wherever Wireshark has one,
// so people can reuse what they know, and pkttap's tests can compare byte
// ranges and values with tshark's PDML output field by field.
//
// # Typed values and the field registry
//
// Every field node carries a typed [Value] (an unsigned or signed integer
// of the field's width, a boolean, an IPv4 or IPv6 address, a MAC address,
// a string, bytes, a time, or a protocol's bytes), of the type that one
// registry gives the field's name: [LookupField] and [Fields] list every
// field and protocol the decoders produce, with Wireshark's type, display
// base, bitmask and description wherever Wireshark has the name, and the
// aliases display filters use (ip.addr, tcp.port). Values equal tshark's
// where tshark has the field.
//
// For display filters there are two cheaper entry points: [Quick] reads
// the common Ethernet, IP, TCP and UDP header fields of a plain packet
// without a tree, and [Layers] names a packet's layers at a summary's cost,
// so a filter can skip packets that cannot hold its fields.
package dissect
