package dissect

import (
	"net/netip"
	"strconv"
)

const hexDigits = "0123456789abcdef"

// appendHex appends "0x" and v in at least digits lowercase hex digits.
func appendHex(b []byte, v uint64, digits int) []byte {
	b = append(b, '0', 'x')
	return appendHexDigits(b, v, digits)
}

// appendHexDigits appends v in at least digits lowercase hex digits.
func appendHexDigits(b []byte, v uint64, digits int) []byte {
	var tmp [16]byte
	i := len(tmp)
	for v != 0 || digits > 0 || i == len(tmp) {
		i--
		tmp[i] = hexDigits[v&0xf]
		v >>= 4
		digits--
		if i == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// appendUint appends v in decimal.
func appendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

// appendIPv4 appends a dotted quad; ip must hold 4 bytes.
func appendIPv4(b []byte, ip []byte) []byte {
	if len(ip) < 4 {
		return b
	}
	for i := 0; i < 4; i++ {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(ip[i]), 10)
	}
	return b
}

// appendIPv6 appends an RFC 5952 IPv6 address; ip must hold 16 bytes.
func appendIPv6(b []byte, ip []byte) []byte {
	if len(ip) < 16 {
		return b
	}
	return netip.AddrFrom16([16]byte(ip[:16])).AppendTo(b)
}

// appendMAC appends a colon-separated MAC address.
func appendMAC(b []byte, mac []byte) []byte {
	for i, c := range mac {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// appendHexBytes appends bytes as contiguous lowercase hex.
func appendHexBytes(b []byte, p []byte) []byte {
	for _, c := range p {
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// appendPrintable appends at most max bytes of p, with non-printable bytes
// as \xNN escapes (\r, \n and \t by name), and "…" when cut.
func appendPrintable(b []byte, p []byte, max int) []byte {
	cut := false
	if len(p) > max {
		p, cut = p[:max], true
	}
	for _, c := range p {
		switch {
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\\':
			b = append(b, '\\', '\\')
		case c >= 0x20 && c < 0x7f:
			b = append(b, c)
		default:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		}
	}
	if cut {
		b = append(b, "…"...)
	}
	return b
}

// appendTo formats the address for a column.
func (a *addr) appendTo(b []byte) []byte {
	switch a.kind {
	case addrMAC:
		return appendMAC(b, a.b[:6])
	case addrIPv4:
		return appendIPv4(b, a.b[:4])
	case addrIPv6:
		return appendIPv6(b, a.b[:16])
	}
	return b
}

// Info column helpers: each appends to the Info column being built.

func (d *decoder) is(s string)               { d.info = append(d.info, s...) }
func (d *decoder) iu(v uint64)               { d.info = strconv.AppendUint(d.info, v, 10) }
func (d *decoder) ihex(v uint64, digits int) { d.info = appendHex(d.info, v, digits) }
func (d *decoder) iIPv4(off int)             { d.info = appendIPv4(d.info, d.bytes(off, 4)) }
func (d *decoder) iIPv6(off int)             { d.info = appendIPv6(d.info, d.bytes(off, 16)) }
func (d *decoder) iMAC(off int)              { d.info = appendMAC(d.info, d.bytes(off, 6)) }
func (d *decoder) iText(off, n int, max int) { d.info = appendPrintable(d.info, d.bytes(off, n), max) }
func (d *decoder) ibytesHex(off, n int)      { d.info = appendHexBytes(d.info, d.bytes(off, n)) }
