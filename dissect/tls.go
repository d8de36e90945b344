package dissect

import "strconv"

// tls decodes the TLS records of a TCP payload: content types, handshake
// message types and the ClientHello's server name.
func (d *decoder) tls(off, end int) {
	ct := d.u8(off)
	if end-off < 5 || ct < 20 || ct > 24 || d.u8(off+1) != 3 {
		d.setProto("TLS")
		n := d.layer("tls", "Transport Layer Security", off, end-off)
		d.fBytes(n, "tls.continuation_data", "Continuation Data", off, end-off)
		if d.infoReset() {
			d.is("Continuation Data")
		}
		return
	}
	d.setProto("TLS")
	info := d.infoReset()
	version := uint16(0)
	o := off
	for i := 0; o < end; i++ {
		if i >= maxItems {
			d.malformed(nil, "TLS", "too many records", o)
			break
		}
		if end-o < 5 || !d.has(o, 5) {
			d.short(nil, "TLS record", o)
			break
		}
		ct, rv, rl := d.u8(o), d.be16(o+1), int(d.be16(o+3))
		if ct < 20 || ct > 24 || rv>>8 != 3 {
			d.fBytes(d.layer("tls", "Transport Layer Security", o, end-o), "tls.continuation_data", "Continuation Data", o, end-o)
			break
		}
		if rv > version {
			version = rv
		}
		var rec *Node
		d.seen.add("tls") // a layer, even without a tree
		if d.grow("tls") {
			n := d.layer("tls", "Transport Layer Security", o, 5+rl)
			rec = d.add(n, "tls.record", tlsVersionName(rv)+" Record Layer: "+tlsContentName(ct), o, 5+rl)
		}
		d.fUintName(rec, "tls.record.content_type", "Content Type", o, 1, uint64(ct), tlsContentName(ct))
		d.fHexName(rec, "tls.record.version", "Version", o+1, 2, uint64(rv), 4, tlsVersionName(rv))
		d.fUint(rec, "tls.record.length", "Length", o+3, 2, uint64(rl))
		body, bend := o+5, o+5+rl
		if bend > end {
			bend = end
		}
		if info && i > 0 {
			d.is(", ")
		}
		switch ct {
		case 22:
			if v := d.tlsHandshakes(rec, body, bend, info); v > version {
				version = v
			}
		case 20:
			if info {
				d.is("Change Cipher Spec")
			}
		case 21:
			if rl == 2 && info {
				d.is("Alert (Level: ")
				d.is(tlsAlertLevel(d.u8(body)))
				d.is(", Description: ")
				d.is(tlsAlertName(d.u8(body + 1)))
				d.is(")")
			} else if info {
				d.is("Encrypted Alert")
			}
		case 23:
			d.fBytes(rec, "tls.app_data", "Encrypted Application Data", body, bend-body)
			if info {
				d.is("Application Data")
			}
		case 24:
			if info {
				d.is("Heartbeat")
			}
		}
		if o+5+rl > end {
			if d.wire > len(d.data) && end == len(d.data) {
				d.short(rec, "TLS record", body)
			}
			break
		}
		o += 5 + rl
	}
	if d.quiet == 0 {
		d.proto = tlsVersionName(version) // keeps the Info just written
	}
}

// tlsHandshakes decodes the handshake messages in a record body and
// returns the version a hello negotiates (0 when none).
func (d *decoder) tlsHandshakes(rec *Node, off, end int, info bool) uint16 {
	var version uint16
	for i := 0; off < end; i++ {
		if i >= maxItems {
			break
		}
		ht, hl := d.u8(off), int(d.be24(off+1))
		name := tlsHandshakeName(ht)
		if end-off < 4 || name == "" || off+4+hl > end && i > 0 {
			// Encrypted (after ChangeCipherSpec) or not a handshake header.
			d.add(rec, "", "Handshake Protocol: Encrypted Handshake Message", off, end-off)
			if info {
				if i > 0 {
					d.is(", ")
				}
				d.is("Encrypted Handshake Message")
			}
			return version
		}
		if info {
			if i > 0 {
				d.is(", ")
			}
			d.is(name)
		}
		var h *Node
		if rec != nil {
			h = d.add(rec, "tls.handshake", "Handshake Protocol: "+name, off, 4+hl)
		}
		d.fUintName(h, "tls.handshake.type", "Handshake Type", off, 1, uint64(ht), name)
		d.fUint(h, "tls.handshake.length", "Length", off+1, 3, uint64(hl))
		hend := off + 4 + hl
		if hend > end {
			hend = end
		}
		if (ht == 1 || ht == 2) && d.has(off+4, 2) {
			hv := d.be16(off + 4)
			d.fHexName(h, "tls.handshake.version", "Version", off+4, 2, uint64(hv), 4, tlsVersionName(hv))
			if hv > version {
				version = hv
			}
			if v, sni, sniLen := d.tlsHello(h, ht, off+4, hend); v != 0 || sniLen > 0 {
				if v > version {
					version = v
				}
				if sniLen > 0 && info {
					d.is(" (SNI=")
					d.iText(sni, sniLen, 255)
					d.is(")")
				}
			}
		}
		off += 4 + hl
	}
	return version
}

// tlsHello walks a ClientHello or ServerHello body for its extensions and
// returns the supported_versions choice (ServerHello) and the position of
// the server name (ClientHello).
func (d *decoder) tlsHello(h *Node, ht uint8, off, end int) (version uint16, sni, sniLen int) {
	o := off + 2 + 32 // version, random
	if o >= end {
		return
	}
	o += 1 + int(d.u8(o)) // session id
	if ht == 1 {
		cl := int(d.be16(o))
		for i, c := 0, o+2; c+2 <= o+2+cl && c+2 <= end && i < maxItems*4; i, c = i+1, c+2 {
			d.fHex(h, "tls.handshake.ciphersuite", "Cipher Suite", c, 2, uint64(d.be16(c)), 4)
		}
		o += 2 + cl // cipher suites
		if o >= end {
			return
		}
		o += 1 + int(d.u8(o)) // compression methods
	} else {
		if o+2 <= end {
			d.fHex(h, "tls.handshake.ciphersuite", "Cipher Suite", o, 2, uint64(d.be16(o)), 4)
		}
		o += 3 // cipher suite, compression method
	}
	if o+2 > end {
		return
	}
	xend := o + 2 + int(d.be16(o))
	if xend > end {
		xend = end
	}
	o += 2
	for i := 0; o+4 <= xend && i < maxItems; i++ {
		et, el := d.be16(o), int(d.be16(o+2))
		if o+4+el > xend {
			return
		}
		switch {
		case et == 0 && ht == 1 && el >= 5:
			// server_name: list length, name type, name length, name
			nl := int(d.be16(o + 7))
			if d.u8(o+6) == 0 && o+9+nl <= o+4+el {
				sni, sniLen = o+9, nl
				d.fText(h, "tls.handshake.extensions_server_name", "Server Name", sni, sniLen)
			}
		case et == 16 && el >= 2:
			// ALPN: list length, then length-prefixed protocol names
			for p, pend, j := o+6, o+4+el, 0; p < pend && j < maxItems; j++ {
				pl := int(d.u8(p))
				if p+1+pl > pend {
					break
				}
				d.fText(h, "tls.handshake.extensions_alpn_str", "ALPN Next Protocol", p+1, pl)
				p += 1 + pl
			}
		case et == 43 && ht == 2 && el == 2:
			version = d.be16(o + 4)
			d.fHexName(h, "tls.handshake.extensions.supported_version", "Supported Version", o+4, 2, uint64(version), 4, tlsVersionName(version))
		}
		o += 4 + el
	}
	return
}

func tlsVersionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSLv3"
	case 0x0301:
		return "TLSv1"
	case 0x0302:
		return "TLSv1.1"
	case 0x0303:
		return "TLSv1.2"
	case 0x0304:
		return "TLSv1.3"
	}
	return "TLS"
}

func tlsContentName(t uint8) string {
	switch t {
	case 20:
		return "Change Cipher Spec"
	case 21:
		return "Alert"
	case 22:
		return "Handshake"
	case 23:
		return "Application Data"
	case 24:
		return "Heartbeat"
	}
	return "Unknown (" + strconv.Itoa(int(t)) + ")"
}

func tlsHandshakeName(t uint8) string {
	switch t {
	case 0:
		return "Hello Request"
	case 1:
		return "Client Hello"
	case 2:
		return "Server Hello"
	case 4:
		return "New Session Ticket"
	case 5:
		return "End of Early Data"
	case 8:
		return "Encrypted Extensions"
	case 11:
		return "Certificate"
	case 12:
		return "Server Key Exchange"
	case 13:
		return "Certificate Request"
	case 14:
		return "Server Hello Done"
	case 15:
		return "Certificate Verify"
	case 16:
		return "Client Key Exchange"
	case 20:
		return "Finished"
	case 22:
		return "Certificate Status"
	case 24:
		return "Key Update"
	}
	return ""
}

func tlsAlertLevel(l uint8) string {
	switch l {
	case 1:
		return "Warning"
	case 2:
		return "Fatal"
	}
	return "Unknown"
}

func tlsAlertName(a uint8) string {
	switch a {
	case 0:
		return "Close Notify"
	case 10:
		return "Unexpected Message"
	case 20:
		return "Bad Record MAC"
	case 40:
		return "Handshake Failure"
	case 42:
		return "Bad Certificate"
	case 46:
		return "Certificate Unknown"
	case 47:
		return "Illegal Parameter"
	case 48:
		return "Unknown CA"
	case 50:
		return "Decode Error"
	case 51:
		return "Decrypt Error"
	case 70:
		return "Protocol Version"
	case 80:
		return "Internal Error"
	case 90:
		return "User Canceled"
	case 112:
		return "Unrecognized Name"
	}
	return "Unknown"
}

// quic decodes a QUIC long header: version and connection IDs.
func (d *decoder) quic(off, end int) {
	d.setProto("QUIC")
	n := d.layer("quic", "QUIC IETF", off, end-off)
	if end-off < 7 || !d.has(off, 7) {
		d.short(n, "QUIC", off)
		return
	}
	first, ver := d.u8(off), d.be32(off+1)
	d.fHex(n, "quic.header_form", "Header Form", off, 1, uint64(first>>7), 1)
	d.fUint(n, "quic.long.packet_type", "Packet Type", off, 1, uint64(first>>4&3))
	d.fHex(n, "quic.version", "Version", off+1, 4, uint64(ver), 8)
	dcil := int(d.u8(off + 5))
	d.fUint(n, "quic.dcil", "Destination Connection ID Length", off+5, 1, uint64(dcil))
	o := off + 6
	if dcil > 20 || o+dcil+1 > end || !d.has(o, dcil+1) {
		if dcil <= 20 && d.snapped(end) {
			d.short(n, "QUIC", o)
			return
		}
		d.malformed(n, "QUIC", "connection ID length impossible", off+5)
		return
	}
	d.fBytes(n, "quic.dcid", "Destination Connection ID", o, dcil)
	dcid := o
	o += dcil
	scil := int(d.u8(o))
	d.fUint(n, "quic.scil", "Source Connection ID Length", o, 1, uint64(scil))
	if scil > 20 || o+1+scil > end || !d.has(o+1, scil) {
		if scil <= 20 && d.snapped(end) {
			d.short(n, "QUIC", o+1)
			return
		}
		d.malformed(n, "QUIC", "connection ID length impossible", o)
		return
	}
	d.fBytes(n, "quic.scid", "Source Connection ID", o+1, scil)
	if !d.infoReset() {
		return
	}
	switch {
	case ver == 0:
		d.is("Version Negotiation")
	default:
		d.is(quicTypeName(first >> 4 & 3))
	}
	if dcil > 0 {
		d.is(", DCID=")
		d.ibytesHex(dcid, dcil)
	}
	if scil > 0 {
		d.is(", SCID=")
		d.ibytesHex(o+1, scil)
	}
}

// quicShort shows a QUIC short-header packet: its first byte's low bits
// (key phase, packet number length) are masked by header protection and
// the connection ID's length is only known from earlier packets, so there
// is nothing more to say without the keys.
func (d *decoder) quicShort(off, end int) {
	d.setProto("QUIC")
	n := d.layer("quic", "QUIC IETF", off, end-off)
	first := d.u8(off)
	d.fHex(n, "quic.header_form", "Header Form", off, 1, uint64(first>>7), 1)
	d.fBytes(n, "quic.protected_payload", "Protected Payload", off+1, end-off-1)
	if d.infoReset() {
		d.is("Protected Payload")
	}
}

func quicTypeName(t uint8) string {
	switch t {
	case 0:
		return "Initial"
	case 1:
		return "0-RTT"
	case 2:
		return "Handshake"
	}
	return "Retry"
}
