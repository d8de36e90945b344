package dissect

import "strconv"

// OpenFlow (TCP ports 6653 and 6633): the messages of one segment, each a
// layer of its version's protocol (openflow_v1 for 1.0, openflow_v4,
// openflow_v5 and openflow_v6 for 1.3, 1.4 and 1.5) with the common header,
// and for packet-in and packet-out messages their fields and the Ethernet
// frame they carry, nested under the message as tshark 4.0 shows it.
// OpenFlow 1.0's fields have Wireshark's names (openflow.version,
// openflow_1_0.type, openflow.length, ...), the others openflow_vN.*.
//
// tshark finds OpenFlow by a heuristic on the destination port, and then
// decodes the whole TCP conversation as OpenFlow; decoding one packet at a
// time, pkttap decodes every segment to or from the two ports.

// openflowMinLen is the common header's length.
const openflowMinLen = 8

// openflow decodes the OpenFlow messages in [off, end).
func (d *decoder) openflow(off, end int) {
	framed := false
	for i := 0; off+openflowMinLen <= end && d.has(off, openflowMinLen) && i < maxItems; i++ {
		ver, typ, l := d.u8(off), d.u8(off+1), int(d.be16(off+2))
		var proto string
		switch ver {
		case 1:
			proto = "openflow_v1"
		case 4, 5, 6:
			proto = "openflow_v" + strconv.Itoa(int(ver))
		}
		if proto == "" || l < openflowMinLen {
			d.data2(off, end)
			return
		}
		mend := min(off+l, end)
		// The Info column names the segment's last whole message (the
		// first when none is whole) up to one that carries a frame, as
		// tshark's.
		if i == 0 || off+l <= end && !framed {
			d.setProto("OpenFlow")
			if d.infoReset() {
				d.openflowInfo(ver, typ, off, mend)
			}
		}
		var n *Node
		d.seen.add(proto) // a layer, even without a tree
		if d.grow(proto) {
			n = d.layer(proto, "OpenFlow "+openflowVersionName(ver), off, mend-off)
		}
		if ver == 1 {
			d.openflowV1(n, typ, off, mend)
		} else {
			d.openflowV4(n, proto, ver, typ, off, mend)
		}
		framed = framed || openflowCarriesFrame(ver, typ)
		off += l
	}
}

// openflowCarriesFrame reports whether a message type carries a frame:
// packet-in and packet-out (not 1.5's, which pkttap does not decode).
func openflowCarriesFrame(ver, typ uint8) bool {
	return typ == 10 || typ == 13 && ver != 6
}

// openflowInfo writes the Info column of a message: its type, and a
// multipart message's part type (1.3 and later).
func (d *decoder) openflowInfo(ver, typ uint8, off, end int) {
	d.is("Type: ")
	if name := openflowTypeName(ver, typ); name != "" {
		d.is(name)
	} else {
		d.iu(uint64(typ))
	}
	if ver >= 4 && (typ == 18 || typ == 19) && end-off >= 10 && d.has(off+8, 2) {
		if mp := d.be16(off + 8); int(mp) < len(openflowMultipartTypes) {
			d.is(", ")
			d.is(openflowMultipartTypes[mp])
		} else if mp == 0xffff {
			d.is(", OFPMP_EXPERIMENTER")
		}
	}
}

// openflowV1 decodes an OpenFlow 1.0 message in [off, end).
func (d *decoder) openflowV1(n *Node, typ uint8, off, end int) {
	d.fHex(n, "openflow.version", "Version", off, 1, 1, 2)
	d.fUintName(n, "openflow_1_0.type", "Type", off+1, 1, uint64(typ), openflowTypeName(1, typ))
	d.fUint(n, "openflow.length", "Length", off+2, 2, uint64(d.be16(off+2)))
	d.fUint(n, "openflow.xid", "Transaction ID", off+4, 4, uint64(d.be32(off+4)))
	switch typ {
	case 10: // OFPT_PACKET_IN
		if end-off < 18 || !d.has(off, 18) {
			return
		}
		d.fHex(n, "openflow.buffer_id", "Buffer Id", off+8, 4, uint64(d.be32(off+8)), 8)
		d.fUint(n, "openflow.total_len", "Total length", off+12, 2, uint64(d.be16(off+12)))
		d.fUint(n, "openflow.in_port", "In port", off+14, 2, uint64(d.be16(off+14)))
		d.fUint(n, "openflow.reason", "Reason", off+16, 1, uint64(d.u8(off+16)))
		d.fBytes(n, "openflow.pkt_in.pad", "Pad", off+17, 1)
		d.openflowFrame(n, off+18, end)
	case 13: // OFPT_PACKET_OUT
		if end-off < 16 || !d.has(off, 16) {
			return
		}
		acts := int(d.be16(off + 14))
		d.fHex(n, "openflow.buffer_id", "Buffer Id", off+8, 4, uint64(d.be32(off+8)), 8)
		d.fUint(n, "openflow.in_port", "In port", off+12, 2, uint64(d.be16(off+12)))
		d.fUint(n, "openflow.actions_len", "Actions length", off+14, 2, uint64(acts))
		d.openflowFrame(n, off+16+acts, end)
	}
}

// openflowV4 decodes an OpenFlow 1.3, 1.4 or 1.5 message in [off, end)
// with its fields named proto.*.
func (d *decoder) openflowV4(n *Node, proto string, ver, typ uint8, off, end int) {
	if n != nil {
		d.fHex(n, proto+".version", "Version", off, 1, uint64(ver), 2)
		d.fUintName(n, proto+".type", "Type", off+1, 1, uint64(typ), openflowTypeName(ver, typ))
		d.fUint(n, proto+".length", "Length", off+2, 2, uint64(d.be16(off+2)))
		d.fUint(n, proto+".xid", "Transaction ID", off+4, 4, uint64(d.be32(off+4)))
	}
	switch {
	case typ == 10: // OFPT_PACKET_IN
		if end-off < 28 || !d.has(off, 28) {
			return
		}
		if n != nil {
			d.fUint(n, proto+".packet_in.buffer_id", "Buffer ID", off+8, 4, uint64(d.be32(off+8)))
			d.fUint(n, proto+".packet_in.total_len", "Total length", off+12, 2, uint64(d.be16(off+12)))
			d.fUint(n, proto+".packet_in.reason", "Reason", off+14, 1, uint64(d.u8(off+14)))
			d.fUint(n, proto+".packet_in.table_id", "Table ID", off+15, 1, uint64(d.u8(off+15)))
			d.fHex(n, proto+".packet_in.cookie", "Cookie", off+16, 8, d.be64(off+16), 16)
		}
		// The match (type, length, OXM fields) is padded to 8 bytes; two
		// bytes of padding come before the frame.
		ml := int(d.be16(off + 26))
		if ml < 4 {
			return
		}
		pad := off + 24 + (ml+7)/8*8
		if !d.has(pad, 2) || pad+2 > end {
			return
		}
		d.fBytes(n, proto+".packet_in.pad", "Pad", pad, 2)
		d.openflowFrame(n, pad+2, end)
	case typ == 13 && ver != 6: // OFPT_PACKET_OUT (1.5 moved in_port into a match)
		if end-off < 24 || !d.has(off, 24) {
			return
		}
		acts := int(d.be16(off + 16))
		if n != nil {
			d.fUint(n, proto+".packet_out.buffer_id", "Buffer ID", off+8, 4, uint64(d.be32(off+8)))
			d.fUint(n, proto+".packet_out.in_port", "In port", off+12, 4, uint64(d.be32(off+12)))
			d.fUint(n, proto+".packet_out.acts_len", "Actions length", off+16, 2, uint64(acts))
			d.fBytes(n, proto+".packet_out.pad", "Pad", off+18, 6)
		}
		d.openflowFrame(n, off+24+acts, end)
	}
}

// openflowFrame decodes the Ethernet frame a packet-in or packet-out
// message carries in [off, end), nested under the message.
func (d *decoder) openflowFrame(n *Node, off, end int) {
	if off >= end || !d.has(off, 1) || !d.deeper(off) {
		return
	}
	defer d.shallower()
	d.nested(n, func() { d.eth(off, end) })
}

func openflowVersionName(ver uint8) string {
	switch ver {
	case 1:
		return "1.0"
	case 4:
		return "1.3"
	case 5:
		return "1.4"
	case 6:
		return "1.5"
	}
	return ""
}

var (
	openflowV1Types = [...]string{"OFPT_HELLO", "OFPT_ERROR", "OFPT_ECHO_REQUEST", "OFPT_ECHO_REPLY", "OFPT_VENDOR",
		"OFPT_FEATURES_REQUEST", "OFPT_FEATURES_REPLY", "OFPT_GET_CONFIG_REQUEST", "OFPT_GET_CONFIG_REPLY", "OFPT_SET_CONFIG",
		"OFPT_PACKET_IN", "OFPT_FLOW_REMOVED", "OFPT_PORT_STATUS", "OFPT_PACKET_OUT", "OFPT_FLOW_MOD", "OFPT_PORT_MOD",
		"OFPT_STATS_REQUEST", "OFPT_STATS_REPLY", "OFPT_BARRIER_REQUEST", "OFPT_BARRIER_REPLY",
		"OFPT_QUEUE_GET_CONFIG_REQUEST", "OFPT_QUEUE_GET_CONFIG_REPLY"}
	openflowV4Types = [...]string{"OFPT_HELLO", "OFPT_ERROR", "OFPT_ECHO_REQUEST", "OFPT_ECHO_REPLY", "OFPT_EXPERIMENTER",
		"OFPT_FEATURES_REQUEST", "OFPT_FEATURES_REPLY", "OFPT_GET_CONFIG_REQUEST", "OFPT_GET_CONFIG_REPLY", "OFPT_SET_CONFIG",
		"OFPT_PACKET_IN", "OFPT_FLOW_REMOVED", "OFPT_PORT_STATUS", "OFPT_PACKET_OUT", "OFPT_FLOW_MOD", "OFPT_GROUP_MOD",
		"OFPT_PORT_MOD", "OFPT_TABLE_MOD", "OFPT_MULTIPART_REQUEST", "OFPT_MULTIPART_REPLY", "OFPT_BARRIER_REQUEST",
		"OFPT_BARRIER_REPLY", "OFPT_QUEUE_GET_CONFIG_REQUEST", "OFPT_QUEUE_GET_CONFIG_REPLY", "OFPT_ROLE_REQUEST",
		"OFPT_ROLE_REPLY", "OFPT_GET_ASYNC_REQUEST", "OFPT_GET_ASYNC_REPLY", "OFPT_SET_ASYNC", "OFPT_METER_MOD"}
)

// openflowMultipartTypes are the part types of OpenFlow 1.3's multipart
// requests and replies.
var openflowMultipartTypes = [...]string{"OFPMP_DESC", "OFPMP_FLOW", "OFPMP_AGGREGATE", "OFPMP_TABLE", "OFPMP_PORT_STATS",
	"OFPMP_QUEUE", "OFPMP_GROUP", "OFPMP_GROUP_DESC", "OFPMP_GROUP_FEATURES", "OFPMP_METER", "OFPMP_METER_CONFIG",
	"OFPMP_METER_FEATURES", "OFPMP_TABLE_FEATURES", "OFPMP_PORT_DESC"}

// openflowTypeName names a message type of OpenFlow version ver ("" when
// unknown).
func openflowTypeName(ver, typ uint8) string {
	switch {
	case ver == 1 && int(typ) < len(openflowV1Types):
		return openflowV1Types[typ]
	case ver == 4 && int(typ) < len(openflowV4Types):
		return openflowV4Types[typ]
	}
	return ""
}
