package dissect

import (
	"hash/crc32"
	"strconv"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sctp decodes an SCTP common header and its chunks.
func (d *decoder) sctp(off, end int) {
	d.setProto("SCTP")
	if end-off < 12 || !d.has(off, 12) {
		d.short(d.layer("sctp", "Stream Control Transmission Protocol", off, end-off), "SCTP", off)
		return
	}
	sp, dp, vtag, csum := d.be16(off), d.be16(off+2), d.be32(off+4), d.be32(off+8)
	var n *Node
	d.seen.add("sctp") // a layer, even without a tree
	if d.grow("sctp") {
		n = d.layer("sctp", "Stream Control Transmission Protocol, Src Port: "+d.portLabel("sctp", sp)+", Dst Port: "+d.portLabel("sctp", dp), off, end-off)
	}
	d.fPort(n, "sctp.srcport", "Source port", "sctp", off, sp)
	d.fPort(n, "sctp.dstport", "Destination port", "sctp", off+2, dp)
	d.fHex(n, "sctp.verification_tag", "Verification tag", off+4, 4, uint64(vtag), 8)
	if d.snapped(end) || d.ipFrag {
		d.fHex(n, "sctp.checksum", "Checksum", off+8, 4, uint64(csum), 8)
	} else if !d.checksums {
		if n != nil {
			d.add(n, "sctp.checksum", "Checksum: "+string(appendHex(nil, uint64(csum), 8))+" [unverified]", off+8, 4)
			d.checksumStatus(n, "sctp.checksum", "Checksum Status", off+8, statusUnverified)
		}
	} else {
		var zero [4]byte
		c := crc32.Update(0, castagnoli, d.data[off:off+8])
		c = crc32.Update(c, castagnoli, zero[:])
		c = crc32.Update(c, castagnoli, d.data[off+12:end])
		// The CRC is stored in little-endian order.
		stored := uint32(d.data[off+8]) | uint32(d.data[off+9])<<8 | uint32(d.data[off+10])<<16 | uint32(d.data[off+11])<<24
		if c != stored {
			d.tag(tagBadChecksum)
			if n != nil {
				d.add(n, "sctp.checksum", "Checksum: "+string(appendHex(nil, uint64(csum), 8))+" incorrect", off+8, 4)
				d.checksumStatus(n, "sctp.checksum", "Checksum Status", off+8, statusBad)
			}
		} else if n != nil {
			d.add(n, "sctp.checksum", "Checksum: "+string(appendHex(nil, uint64(csum), 8))+" [correct]", off+8, 4)
			d.checksumStatus(n, "sctp.checksum", "Checksum Status", off+8, statusGood)
		}
	}
	info := d.infoReset()
	o := off + 12
	for i := 0; o < end; i++ {
		if i >= maxItems {
			d.malformed(n, "SCTP", "too many chunks", o)
			return
		}
		if end-o < 4 || !d.has(o, 4) {
			d.short(n, "SCTP chunk", o)
			return
		}
		ct, cf, cl := d.u8(o), d.u8(o+1), int(d.be16(o+2))
		name := sctpChunkName(ct)
		if info {
			if i > 0 {
				d.is(" ")
			}
			d.is(name)
			switch {
			case ct == 0 && d.has(o, 8):
				d.is(" (TSN=")
				d.iu(uint64(d.be32(o + 4)))
				d.is(")")
			case ct == 3 && d.has(o, 12):
				d.is(" (Ack=")
				d.iu(uint64(d.be32(o + 4)))
				d.is(", Arwnd=")
				d.iu(uint64(d.be32(o + 8)))
				d.is(")")
			}
		}
		if cl < 4 {
			d.malformed(n, "SCTP", "chunk length "+strconv.Itoa(cl)+" impossible", o+2)
			return
		}
		var c *Node
		if n != nil {
			c = d.add(n, "sctp.chunk", name+" chunk", o, cl)
			d.fUint(c, "sctp.chunk_type", "Chunk type", o, 1, uint64(ct))
			d.fHex(c, "sctp.chunk_flags", "Chunk flags", o+1, 1, uint64(cf), 2)
			d.fUint(c, "sctp.chunk_length", "Chunk length", o+2, 2, uint64(cl))
			switch ct {
			case 0:
				d.fUint(c, "sctp.data_tsn_raw", "Transmission sequence number (relative)", o+4, 4, uint64(d.be32(o+4)))
				d.fUint(c, "sctp.data_sid", "Stream identifier", o+8, 2, uint64(d.be16(o+8)))
				d.fUint(c, "sctp.data_ssn", "Stream sequence number", o+10, 2, uint64(d.be16(o+10)))
				d.fUint(c, "sctp.data_payload_proto_id", "Payload protocol identifier", o+12, 4, uint64(d.be32(o+12)))
			case 1, 2:
				pre := "sctp.init"
				if ct == 2 {
					pre = "sctp.initack"
				}
				d.fHex(c, pre+"_initiate_tag", "Initiate tag", o+4, 4, uint64(d.be32(o+4)), 8)
				d.fUint(c, pre+"_credit", "Advertised receiver window credit (a_rwnd)", o+8, 4, uint64(d.be32(o+8)))
				d.fUint(c, pre+"_nr_out_streams", "Number of outbound streams", o+12, 2, uint64(d.be16(o+12)))
				d.fUint(c, pre+"_nr_in_streams", "Number of inbound streams", o+14, 2, uint64(d.be16(o+14)))
				d.fUint(c, pre+"_initial_tsn", "Initial TSN", o+16, 4, uint64(d.be32(o+16)))
			case 3:
				d.fUint(c, "sctp.sack_cumulative_tsn_ack_raw", "Cumulative TSN ACK", o+4, 4, uint64(d.be32(o+4)))
				d.fUint(c, "sctp.sack_a_rwnd", "Advertised receiver window credit (a_rwnd)", o+8, 4, uint64(d.be32(o+8)))
			}
		}
		if o+cl > end {
			d.short(c, "SCTP chunk", o)
			return
		}
		o += (cl + 3) &^ 3
	}
}

func sctpChunkName(t uint8) string {
	switch t {
	case 0:
		return "DATA"
	case 1:
		return "INIT"
	case 2:
		return "INIT_ACK"
	case 3:
		return "SACK"
	case 4:
		return "HEARTBEAT"
	case 5:
		return "HEARTBEAT_ACK"
	case 6:
		return "ABORT"
	case 7:
		return "SHUTDOWN"
	case 8:
		return "SHUTDOWN_ACK"
	case 9:
		return "ERROR"
	case 10:
		return "COOKIE_ECHO"
	case 11:
		return "COOKIE_ACK"
	case 12:
		return "ECNE"
	case 13:
		return "CWR"
	case 14:
		return "SHUTDOWN_COMPLETE"
	case 15:
		return "AUTH"
	case 64:
		return "I_DATA"
	case 128:
		return "ASCONF_ACK"
	case 130:
		return "RE_CONFIG"
	case 132:
		return "PAD"
	case 192:
		return "FORWARD_TSN"
	case 193:
		return "ASCONF"
	case 194:
		return "I_FORWARD_TSN"
	}
	return "UNKNOWN"
}
