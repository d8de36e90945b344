package dissect

import (
	"github.com/pkttap/pkttap/pcapio"
)

// Summary is a packet's one-line description, the columns of a packet list.
type Summary struct {
	// Source and Destination are the innermost network addresses decoded
	// (IP addresses, or MAC addresses for ARP and other link-only frames).
	Source, Destination string
	// Protocol names the highest layer decoded ("TCP", "DNS", "TLSv1.2").
	Protocol string
	// Info describes the packet in the words of its highest layer, in the
	// spirit of Wireshark's Info column.
	Info string
	// Tags name the row tints that apply, any of "tcp-syn", "tcp-fin",
	// "tcp-rst", "icmp-error", "arp", "dns" and "bad-checksum" (a checksum
	// verified and found wrong: see [Options]). The slice is shared between
	// summaries and must not be modified.
	Tags []string
}

// Node is one line of the details tree: a protocol layer or a field.
type Node struct {
	// Label is the display line, such as "Source Port: 443".
	Label string
	// Field is the filter-style name, such as "tcp.srcport"; Wireshark's
	// display-filter name wherever Wireshark has one. Empty for pure text
	// lines.
	Field string
	// Offset and Length give the byte range that the node was decoded
	// from in its data source: the packet's captured data, or the Source
	// the tree's Sources list; always within those bytes.
	Offset, Length int
	// Source is 0 when Offset and Length are in the packet's captured
	// data, else 1 + the index in [Tree.Sources] of the buffer they are in
	// (a reassembled datagram).
	Source uint8
	// Value is the field's typed value; its Type is the field's type in
	// the registry ([LookupField]), TypeNone for a text line or a title.
	Value Value
	// Children are the node's sub-fields, in packet order.
	Children []*Node
}

// Tree is a packet's details tree: one node per layer, outermost first.
type Tree struct {
	Layers []*Node
	// Sources are the buffers besides the packet's own bytes that nodes
	// were decoded from (Node.Source > 0), such as a datagram reassembled
	// from IP fragments, as Wireshark's extra data tabs.
	Sources []Source
}

// Source is a buffer a tree's nodes were decoded from besides the packet's
// captured bytes.
type Source struct {
	// Name is Wireshark's name of the tab, e.g. "Reassembled IPv4 (3008
	// bytes)".
	Name string
	Data []byte
}

// SourceData returns the bytes node n's Offset and Length are in: data
// (the packet's captured bytes) or one of the tree's Sources.
func (t *Tree) SourceData(n *Node, data []byte) []byte {
	if n.Source == 0 || t == nil || int(n.Source) > len(t.Sources) {
		return data
	}
	return t.Sources[n.Source-1].Data
}

// Options change how packets are decoded. The zero value decodes as
// Wireshark does with its default preferences.
type Options struct {
	// ValidateChecksums verifies the IPv4 header, TCP, UDP and SCTP
	// checksums, which Wireshark leaves unverified by default
	// (ip.check_checksum, tcp.check_checksum, udp.check_checksum,
	// sctp.checksum): a bad one adds the "bad-checksum" tag, and the tree
	// says "[correct]" or "incorrect" with a "[Checksum Status: Good]" or
	// "Bad" line instead of "[unverified]" and "[Checksum Status:
	// Unverified]". Captures made on a sending host with checksum offload
	// are full of TCP and UDP checksums the NIC was to fill in, which is
	// why they are not verified by default. ICMP, ICMPv6 and IGMP
	// checksums are always verified, as in Wireshark.
	ValidateChecksums bool
	// Stream is what a stream tracker (package streams) found for this
	// packet from the ones before it: with it the tree and the Info
	// column have tshark's tcp.stream, udp.stream, relative sequence
	// numbers and TCP analysis. Nil decodes the packet on its own.
	Stream *StreamInfo
	// ResolveMAC shows MAC addresses with names, as Wireshark's MAC name
	// resolution (tshark -N m) does: a well-known address's name
	// ("Broadcast"), else its vendor's short name and the rest of the
	// address ("Cisco_12:34:56"), from the IEEE registry as Wireshark
	// compiles it. Tree lines read "Source: Cisco_12:34:56
	// (00:00:0c:12:34:56)", the Source and Destination columns the name.
	ResolveMAC bool
	// ResolvePorts shows TCP, UDP and SCTP ports with their IANA service
	// names, as Wireshark's transport name resolution (tshark -N t)
	// does: "Source Port: http (80)" in the tree, "http(80) → 51234" in
	// Info.
	ResolvePorts bool
	// Reassembled is the datagram that the packet's first IP fragment
	// header (IPv4, or IPv6's Fragment Header) completes, as a
	// defragmenter fed the capture in order found it (package defrag):
	// the packet then shows the fragments' list and the reassembled
	// datagram's payload decoded, as Wireshark does with its default
	// ip.defragment and ipv6.defragment. Nil shows a fragment as
	// Wireshark shows one that completes nothing.
	Reassembled *Reassembled
	// NoDefragment decodes IP fragments as Wireshark does with
	// ip.defragment and ipv6.defragment off: a first fragment's payload
	// is decoded (a transport header cut short, usually), later ones are
	// data; Reassembled is ignored.
	NoDefragment bool
}

// Summarize decodes a packet captured on a link of type lt and returns its
// summary columns. data is the captured bytes and wireLen the length the
// packet had on the wire (at least len(data); a smaller value is taken as
// len(data)). It never panics and does a bounded amount of work.
func Summarize(lt pcapio.LinkType, data []byte, wireLen int) Summary {
	return Options{}.Summarize(lt, data, wireLen)
}

// Summarize is [Summarize] with the options o.
func (o Options) Summarize(lt pcapio.LinkType, data []byte, wireLen int) Summary {
	d := getDecoder(lt, data, wireLen, false, o)
	s := d.summary()
	putDecoder(d)
	return s
}

// Dissect decodes a packet captured on a link of type lt and returns its
// details tree; data and wireLen are as for [Summarize]. The first layer is
// always the frame itself. It never panics and does a bounded amount of
// work.
func Dissect(lt pcapio.LinkType, data []byte, wireLen int) *Tree {
	return Options{}.Dissect(lt, data, wireLen)
}

// Dissect is [Dissect] with the options o.
func (o Options) Dissect(lt pcapio.LinkType, data []byte, wireLen int) *Tree {
	d := getDecoder(lt, data, wireLen, true, o)
	t := &Tree{Layers: d.layers, Sources: d.sources}
	t.finish(data)
	d.layers = nil
	putDecoder(d)
	return t
}

// DissectLayers is [Options.Dissect] for a reader that wants the fields
// of some layers only, such as a display filter: the tree holds the
// layers named in keep ("tcp", "dns"; [Field.Carriers] names a field's)
// with all their fields, and nodes of no other layer, whose labels and
// fields are not made. Nodes may have no label: it is their values that
// are wanted. A kept layer that [Options.Dissect] nests inside a
// left-out one (a packet quoted by an ICMP error, an IPv6 extension header
// without its IPv6 layer) is a layer of the tree instead. The frame layer
// has no frame.protocols field (it names every layer). A packet without
// any of the layers gives a nil tree (a tree of no layers). A nil keep
// keeps every layer.
func (o Options) DissectLayers(lt pcapio.LinkType, data []byte, wireLen int, keep []string) *Tree {
	if keep == nil {
		return o.Dissect(lt, data, wireLen)
	}
	d := startDecoder(lt, data, wireLen, true, o, keep)
	var t *Tree
	if len(d.layers) > 0 {
		t = &Tree{Layers: d.layers, Sources: d.sources}
		t.finishValues(data)
	}
	d.layers = nil
	putDecoder(d)
	return t
}

// Walk calls fn for every node of the tree in depth-first order, with the
// node's depth (0 for layers). It stops early when fn returns false.
func (t *Tree) Walk(fn func(n *Node, depth int) bool) {
	if t == nil {
		return
	}
	for _, l := range t.Layers {
		if !walk(l, 0, fn) {
			return
		}
	}
}

func walk(n *Node, depth int, fn func(*Node, int) bool) bool {
	if !fn(n, depth) {
		return false
	}
	for _, c := range n.Children {
		if !walk(c, depth+1, fn) {
			return false
		}
	}
	return true
}

// FieldAt returns the innermost, smallest node whose byte range covers the
// byte at offset off, or nil when none does; a user interface uses it to
// name the field under a hovered byte.
func (t *Tree) FieldAt(off int) *Node {
	var best *Node
	t.Walk(func(n *Node, _ int) bool {
		if n.Length > 0 && off >= n.Offset && off < n.Offset+n.Length {
			if best == nil || n.Length <= best.Length {
				best = n
			}
		}
		return true
	})
	return best
}
