package dissect

import (
	"strconv"
	"sync"

	"github.com/pkttap/pkttap/dissect/internal/names"
	"github.com/pkttap/pkttap/pcapio"
)

// Limits that bound the work done for one packet, whatever its bytes say.
const (
	maxNodes = 4096 // tree nodes per packet
	maxDepth = 32   // nested encapsulations (tags, labels, tunnels, extension headers)
	maxItems = 64   // options, chunks, records or tags shown per header
)

// addrKind says how an addr is printed.
type addrKind uint8

const (
	addrNone addrKind = iota
	addrMAC
	addrIPv4
	addrIPv6
)

// addr is a Source or Destination column value kept as bytes until the
// summary is built, so layers that are overwritten by inner ones cost no
// formatting.
type addr struct {
	kind addrKind
	b    [16]byte
}

func (a *addr) set(k addrKind, b []byte) {
	a.kind = k
	a.b = [16]byte{}
	copy(a.b[:], b)
}

// decoder holds the state of one packet's decoding. Summaries reuse
// decoders through a pool; trees allocate their nodes.
type decoder struct {
	data []byte // the captured bytes
	wire int    // on-wire length, >= len(data)
	tree bool   // build nodes (Dissect) or only the summary (Summarize)
	// checksums is Options.ValidateChecksums: verify the checksums
	// Wireshark leaves unverified by default.
	checksums bool
	// resolveMAC and resolvePorts are Options.ResolveMAC and ResolvePorts.
	resolveMAC, resolvePorts bool

	layers []*Node
	// keep names the layers to build nodes for (nil: all of them), for a
	// reader that wants only their fields ([Options.DissectLayers]).
	keep        []string
	layerParent *Node // non-nil while decoding a packet quoted inside another (ICMP errors)
	extParent   *Node // the IPv6 layer its extension headers nest under, as in Wireshark
	nodes       int
	depth       int
	seen        layerSet // the layers decoded, tree or not

	// summary columns
	proto    string
	src, dst addr
	info     []byte
	tags     tagMask
	problem  string // "[Packet truncated]" or "[Malformed: …]", the first found
	quiet    int    // > 0 while decoding a quoted packet: columns are not changed
	nocols   bool   // no columns are made at all (only the kept layers are read)
	nolabels bool   // the field helpers leave labels empty (only values are read)

	// state shared between layers
	ttl    int    // the last IPv4 TTL or IPv6 hop limit, for ICMP echo
	ipSrc  []byte // the innermost IP header's addresses, for checksums (ipDst: the final destination of a routing header)
	ipDst  []byte
	ipFrag bool // the innermost IP packet is a fragment: no transport checksum
	ipEnd  int  // where the innermost IP header says its payload ends (may be past the capture)

	// reasm is Options.Reassembled, until the fragment header it belongs
	// to takes it; srcBuf is the Node.Source of the nodes being made (0 the
	// frame, else 1 + an index in sources, the buffer data is then)
	reasm   *Reassembled
	srcBuf  uint8
	sources []Source
	// findFrag asks for the first fragment header a defragmenter takes
	// ([Fragmented]): fragFound and frag are set when it is found
	findFrag, fragFound bool
	noDefrag            bool // Options.NoDefragment
	frag                FragmentHeader

	// stream is Options.Stream: what a stream tracker knows of the packet
	stream *StreamInfo
	// streamDone says the StreamInfo's TCP (1) and UDP (2) fields are in
	// the tree: they go to the first such layer, not a quoted or tunnelled one
	streamDone uint8
	// transports collects the TCP and UDP headers for Transports, when
	// collect is set
	transports []Transport
	collect    bool
	// infoPrefix is the TCP analysis's "[TCP Retransmission] " and the
	// like, kept before the Info column whatever the layers above write
	infoPrefix string
	// sackBase is subtracted from SACK edges when sackRel is set
	sackBase uint32
	sackRel  bool

	// kept with the pooled decoder between packets
	scratch   []byte     // names being decoded
	addrCache *addrCache // formatted addresses
}

var decoderPool = sync.Pool{New: func() any { return &decoder{info: make([]byte, 0, 256)} }}

func getDecoder(lt pcapio.LinkType, data []byte, wireLen int, tree bool, o Options) *decoder {
	return startDecoder(lt, data, wireLen, tree, o, nil)
}

// startDecoder decodes a packet as getDecoder does; with keep, the tree
// holds only the layers it names, and the summary columns are not made.
func startDecoder(lt pcapio.LinkType, data []byte, wireLen int, tree bool, o Options, keep []string) *decoder {
	d := pooledDecoder(data, wireLen, tree, o, keep)
	d.frame(lt)
	return d
}

// pooledDecoder returns a pooled decoder reset for a packet, not yet
// decoded; keep is as for startDecoder.
func pooledDecoder(data []byte, wireLen int, tree bool, o Options, keep []string) *decoder {
	d := decoderPool.Get().(*decoder)
	info, scratch, cache := d.info[:0], d.scratch[:0], d.addrCache
	if cache == nil {
		cache = new(addrCache)
	}
	*d = decoder{data: data, wire: wireLen, tree: tree, checksums: o.ValidateChecksums, resolveMAC: o.ResolveMAC, resolvePorts: o.ResolvePorts, stream: o.Stream, reasm: o.Reassembled, noDefrag: o.NoDefragment, info: info, scratch: scratch, addrCache: cache, ttl: -1, keep: keep, nocols: keep != nil, nolabels: keep != nil}
	if d.wire < len(data) {
		d.wire = len(data)
	}
	return d
}

// grow reports whether the layer called name gets nodes: a tree is being
// built and the layer is one it keeps. Decoders test it before building a
// layer's label and fields; [decoder.layer] tests it too.
func (d *decoder) grow(name string) bool {
	if !d.tree {
		return false
	}
	if d.keep == nil {
		return true
	}
	for _, k := range d.keep {
		if k == name {
			return true
		}
	}
	return false
}

func putDecoder(d *decoder) {
	if cap(d.info) > 4096 {
		d.info = make([]byte, 0, 256)
	}
	if cap(d.scratch) > 4096 {
		d.scratch = nil
	}
	d.data, d.layers, d.layerParent, d.extParent, d.ipSrc, d.ipDst, d.keep = nil, nil, nil, nil, nil, nil, nil
	d.stream, d.transports, d.reasm, d.sources = nil, nil, nil, nil
	decoderPool.Put(d)
}

// addrText formats a column's address: a MAC address by name when
// resolving them (not cached: the cache is shared by the pool's decoders,
// whatever their options).
func (d *decoder) addrText(a *addr, buf []byte) string {
	if a.kind == addrMAC && d.resolveMAC {
		if n, ok := names.Ether(a.b[:6]); ok {
			return n
		}
	}
	return d.addrCache.get(a, buf)
}

// macLabel writes a MAC address as a tree line shows it: "mac", or
// resolving them "name (mac)" ("mac (mac)" for an address without one, as
// Wireshark writes it).
func (d *decoder) macLabel(mac []byte) string {
	s := string(appendMAC(nil, mac))
	if !d.resolveMAC {
		return s
	}
	if n, ok := names.Ether(mac); ok {
		return n + " (" + s + ")"
	}
	return s + " (" + s + ")"
}

// portLabel writes a port of proto ("tcp", "udp", "sctp") as a tree line
// shows it: "80", or resolving them "http (80)".
func (d *decoder) portLabel(proto string, port uint16) string {
	s := strconv.Itoa(int(port))
	if d.resolvePorts {
		if n := names.Port(proto, port); n != "" {
			return n + " (" + s + ")"
		}
	}
	return s
}

// iPort appends a port of proto to Info: "80", or resolving them "http(80)".
func (d *decoder) iPort(proto string, port uint16) {
	if d.resolvePorts {
		if n := names.Port(proto, port); n != "" {
			d.info = append(append(append(d.info, n...), '('), strconv.Itoa(int(port))...)
			d.info = append(d.info, ')')
			return
		}
	}
	d.iu(uint64(port))
}

// summary builds the Summary from the decoded columns.
func (d *decoder) summary() Summary {
	var buf [64]byte
	s := Summary{Protocol: d.proto, Tags: d.tags.slice()}
	if d.src.kind != addrNone {
		s.Source = d.addrText(&d.src, buf[:0])
	}
	if d.dst.kind != addrNone {
		s.Destination = d.addrText(&d.dst, buf[:0])
	}
	if d.problem != "" {
		if len(d.info) > 0 {
			d.info = append(d.info, ' ')
		}
		d.info = append(d.info, d.problem...)
	}
	if d.infoPrefix != "" {
		s.Info = d.infoPrefix + string(d.info)
		return s
	}
	s.Info = string(d.info)
	return s
}

// setProto sets the Protocol column and clears the Info column (the new
// layer describes the packet now) unless a quoted packet is being decoded.
func (d *decoder) setProto(p string) {
	if d.quiet == 0 && !d.nocols {
		d.proto = p
		d.info = d.info[:0]
	}
}

// setAddrs sets the Source and Destination columns from n-byte addresses
// at src and dst in the packet.
func (d *decoder) setAddrs(k addrKind, src, dst, n int) {
	if d.quiet > 0 || d.nocols || !d.has(src, n) || !d.has(dst, n) {
		return
	}
	d.src.set(k, d.data[src:src+n])
	d.dst.set(k, d.data[dst:dst+n])
}

// tag adds row tints unless a quoted packet is being decoded.
func (d *decoder) tag(t tagMask) {
	if d.quiet == 0 && !d.nocols {
		d.tags |= t
	}
}

// infoReset starts a new Info column and reports whether it may be written
// (false while decoding a quoted packet). Callers append with the info*
// methods only when it returns true.
func (d *decoder) infoReset() bool {
	if d.quiet > 0 || d.nocols {
		return false
	}
	d.info = d.info[:0]
	return true
}

// has reports whether n bytes at off are captured.
func (d *decoder) has(off, n int) bool {
	return off >= 0 && n >= 0 && off <= len(d.data) && n <= len(d.data)-off
}

// u8, be16, be32 and friends read the packet, returning 0 out of bounds.
func (d *decoder) u8(off int) uint8 {
	if off < 0 || off >= len(d.data) {
		return 0
	}
	return d.data[off]
}

func (d *decoder) be16(off int) uint16 {
	if !d.has(off, 2) {
		return 0
	}
	return uint16(d.data[off])<<8 | uint16(d.data[off+1])
}

func (d *decoder) be24(off int) uint32 {
	if !d.has(off, 3) {
		return 0
	}
	return uint32(d.data[off])<<16 | uint32(d.data[off+1])<<8 | uint32(d.data[off+2])
}

func (d *decoder) be32(off int) uint32 {
	if !d.has(off, 4) {
		return 0
	}
	return uint32(d.data[off])<<24 | uint32(d.data[off+1])<<16 | uint32(d.data[off+2])<<8 | uint32(d.data[off+3])
}

func (d *decoder) le32(off int) uint32 {
	if !d.has(off, 4) {
		return 0
	}
	return uint32(d.data[off+3])<<24 | uint32(d.data[off+2])<<16 | uint32(d.data[off+1])<<8 | uint32(d.data[off])
}

func (d *decoder) be64(off int) uint64 {
	return uint64(d.be32(off))<<32 | uint64(d.be32(off+4))
}

// bytes returns up to n captured bytes at off.
func (d *decoder) bytes(off, n int) []byte {
	if off < 0 || off > len(d.data) || n <= 0 {
		return nil
	}
	if n > len(d.data)-off {
		n = len(d.data) - off
	}
	return d.data[off : off+n]
}

// short marks the packet as cut short while decoding proto at off: by the
// capture's snap length when fewer bytes were captured than were on the
// wire, as malformed otherwise. It adds the mark under parent (or as a
// layer when parent is nil).
func (d *decoder) short(parent *Node, proto string, off int) {
	if len(d.data) < d.wire {
		d.mark(parent, "[Packet truncated]", "_ws.short", off)
		return
	}
	d.mark(parent, "[Malformed: "+proto+" header cut short]", "_ws.malformed", off)
}

// snapped reports whether a layer ending at end was cut there by the
// capture's snap length: end is the last captured byte and the packet was
// longer on the wire. Something running past such an end is truncated,
// not malformed.
func (d *decoder) snapped(end int) bool {
	return end >= len(d.data) && len(d.data) < d.wire
}

// malformed marks the packet as malformed for reason at off.
func (d *decoder) malformed(parent *Node, proto, reason string, off int) {
	d.mark(parent, "[Malformed: "+proto+": "+reason+"]", "_ws.malformed", off)
}

// mark records the packet's first problem for the Info column and adds a
// node for it covering the rest of the captured bytes from off.
func (d *decoder) mark(parent *Node, label, field string, off int) {
	if d.problem == "" && d.quiet == 0 {
		d.problem = label
	}
	d.seen.add(field)
	if !d.tree {
		return
	}
	n := len(d.data) - off
	if n < 0 {
		n = 0
	}
	if parent == nil {
		d.layer(field, label, off, n)
		return
	}
	d.add(parent, field, label, off, n)
}

// addrCache remembers recently formatted addresses: a capture holds few
// distinct ones, so most summaries reuse a string instead of allocating.
// It is direct-mapped; a decoder (and so its cache) is used by one
// goroutine at a time.
type addrCache struct {
	slots [64]struct {
		a addr
		s string
	}
}

func (c *addrCache) get(a *addr, buf []byte) string {
	n := 16
	switch a.kind {
	case addrMAC:
		n = 6
	case addrIPv4:
		n = 4
	}
	h := uint32(2166136261)
	for _, b := range a.b[:n] {
		h = (h ^ uint32(b)) * 16777619
	}
	slot := &c.slots[h%uint32(len(c.slots))]
	if slot.s != "" && slot.a == *a {
		return slot.s
	}
	s := string(a.appendTo(buf))
	slot.a, slot.s = *a, s
	return s
}
