package dissect

import (
	"strconv"

	"github.com/pkttap/pkttap/pcapio"
)

// Reassembled is an IP datagram's payload put together from its fragments
// by a defragmenter that read the capture in order (package defrag), for
// [Options.Reassembled] of the packet whose fragment completed it.
type Reassembled struct {
	// Data is the datagram's payload: what follows the IPv4 header, or
	// the IPv6 Fragment Header, of the first fragment, whole.
	Data []byte
	// Fragments are the pieces Data was made of, in the order of their
	// offsets.
	Fragments []Fragment
}

// Fragment is one piece of a reassembled datagram: the frame that carried
// it and where its bytes go in the datagram's payload.
type Fragment struct {
	Frame          uint32 // frame number, from 1
	Offset, Length int    // in Reassembled.Data
	// Overlap says the fragment covers bytes a fragment of lower offset
	// gave already; Conflict that some of those bytes differ (the lower
	// offset's are kept), which Wireshark shows as a defragmentation
	// error.
	Overlap, Conflict bool
}

// FragmentHeader describes the IP fragment header of a packet that a
// defragmenter adds to its datagrams: the first such header in the
// packet, and only when Wireshark would reassemble it (the fragment's
// bytes all captured, the packet not quoted by an ICMP error).
type FragmentHeader struct {
	IPv6 bool
	// Src and Dst are the IP addresses (the first AddrLen bytes).
	Src, Dst [16]byte
	AddrLen  int
	// ID is IPv4's Identification or IPv6's Fragment Header's; Proto the
	// IPv4 protocol or the Fragment Header's next header.
	ID    uint32
	Proto uint8
	// Offset is where this fragment's bytes go in the datagram's
	// payload, More whether more fragments follow.
	Offset int
	More   bool
	// Payload is where the fragment's bytes are in the packet's data.
	PayloadOffset, PayloadLength int
}

// Fragmented returns the fragment header of a packet captured on a link
// of type lt, as [FragmentHeader] describes it, and false when the packet
// has none a defragmenter should take.
func Fragmented(lt pcapio.LinkType, data []byte, wireLen int) (FragmentHeader, bool) {
	_, fh, ok := Scan(lt, data, wireLen, nil)
	return fh, ok
}

// fragment handles an IP fragment whose payload is [off, off+n) of the
// data (n as the IP header gives it): it notes it for [Fragmented], and
// when the packet's Options.Reassembled belongs to it, adds the
// fragments' list under parent and decodes the reassembled payload as
// protocol proto. It reports whether the fragment was taken for
// reassembly (eligible, as Wireshark decides it) and whether the
// reassembled payload was decoded.
func (d *decoder) fragment(parent *Node, ipv6 bool, src, dst []byte, id uint32, proto uint8, fragOff int, more bool, off, n int) (eligible, decoded bool) {
	if d.noDefrag || d.quiet > 0 || n <= 0 || !d.has(off, n) {
		return false, false
	}
	if d.findFrag && !d.fragFound {
		d.fragFound = true
		d.frag = FragmentHeader{IPv6: ipv6, AddrLen: len(src), ID: id, Proto: proto, Offset: fragOff, More: more, PayloadOffset: off, PayloadLength: n}
		copy(d.frag.Src[:], src)
		copy(d.frag.Dst[:], dst)
	}
	r := d.reasm
	if r == nil {
		return true, false
	}
	d.reasm = nil // the first fragment header takes it
	name := "IPv4"
	field := "ip"
	if ipv6 {
		name, field = "IPv6", "ipv6"
	}
	d.fragmentList(parent, field, name, r)
	d.decodeSource("Reassembled "+name, r.Data, proto)
	return true, true
}

// fragmentList adds Wireshark's list of a reassembled datagram's
// fragments under parent.
func (d *decoder) fragmentList(parent *Node, field, name string, r *Reassembled) {
	if parent == nil {
		return
	}
	var label []byte
	if !d.nolabels {
		label = append(label, '[')
		label = strconv.AppendInt(label, int64(len(r.Fragments)), 10)
		label = append(label, ' ')
		label = append(label, name...)
		label = append(label, " Fragments ("...)
		label = strconv.AppendInt(label, int64(len(r.Data)), 10)
		label = append(label, " bytes):"...)
		for i, f := range r.Fragments {
			if i > 0 {
				label = append(label, ',')
			}
			label = append(label, " #"...)
			label = strconv.AppendUint(label, uint64(f.Frame), 10)
			label = append(label, '(')
			label = strconv.AppendInt(label, int64(f.Length), 10)
			label = append(label, ')')
		}
		label = append(label, ']')
	}
	list := d.add(parent, field+".fragments", string(label), 0, 0)
	if list == nil {
		return
	}
	if field == "ip" {
		setB(list, TypeBytes, r.Data)
	}
	for _, f := range r.Fragments {
		l := ""
		if !d.nolabels {
			l = "[Frame: " + strconv.FormatUint(uint64(f.Frame), 10) + ", payload: " + strconv.Itoa(f.Offset) + "-" + strconv.Itoa(f.Offset+f.Length-1) + " (" + strconv.Itoa(f.Length) + " bytes)]"
		}
		name := field + ".fragment"
		if f.Conflict {
			name += ".error" // as Wireshark names a fragment in error
		}
		fn := setU(d.add(list, name, l, 0, 0), uint64(f.Frame))
		if f.Overlap {
			setBool(d.add(fn, field+".fragment.overlap", d.label("[Fragment overlap: True]"), 0, 0), true)
		}
		if f.Conflict {
			setBool(d.add(fn, field+".fragment.overlap.conflict", d.label("[Conflicting data in fragment overlap: True]"), 0, 0), true)
		}
	}
	d.genUint(list, field+".fragment.count", "Fragment count", 0, 0, uint64(len(r.Fragments)))
	d.genUint(list, field+".reassembled.length", "Reassembled "+name+" length", 0, 0, uint64(len(r.Data)))
	if d.nolabels {
		setB(d.add(list, field+".reassembled.data", "", 0, 0), TypeBytes, r.Data)
		return
	}
	const show = 36 // bytes Wireshark prints before its ellipsis
	l := appendHexBytes([]byte("[Reassembled "+name+" data: "), r.Data[:min(len(r.Data), show)])
	if len(r.Data) > show {
		l = append(l, "…"...)
	}
	setB(d.add(list, field+".reassembled.data", string(append(l, ']')), 0, 0), TypeBytes, r.Data)
}

// label is l, or "" when no labels are wanted.
func (d *decoder) label(l string) string {
	if d.nolabels {
		return ""
	}
	return l
}

// decodeSource decodes buf, a buffer besides the frame (a reassembled
// datagram's payload), as IP protocol proto; the nodes made meanwhile
// have their offsets in buf and its Source number.
func (d *decoder) decodeSource(name string, buf []byte, proto uint8) {
	if len(d.sources) >= 255 {
		return
	}
	d.sources = append(d.sources, Source{Name: name + " (" + strconv.Itoa(len(buf)) + " bytes)", Data: buf})
	data, wire, src, ipEnd := d.data, d.wire, d.srcBuf, d.ipEnd
	d.data, d.wire, d.srcBuf, d.ipEnd = buf, len(buf), uint8(len(d.sources)), len(buf)
	d.ipFrag = false
	d.ipPayload(proto, 0, len(buf))
	d.data, d.wire, d.srcBuf, d.ipEnd = data, wire, src, ipEnd
}
