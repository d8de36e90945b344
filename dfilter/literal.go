package dfilter

import (
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pkttap/pkttap/dissect"
)

// ipPrefix marks an address value made from a literal with a prefix
// length: N holds the prefix length plus one (0, as field values have,
// means the whole address).
func ipValue(t dissect.Type, b []byte, bits int) dissect.Value {
	return dissect.Value{Type: t, B: b, N: uint64(bits) + 1}
}

// literal converts a value written in an expression to type t, failing
// with tshark's words when it cannot be one. text is the unquoted value
// (a string's content once unescaped); quoted says it was a string, char
// a character constant.
func literal(text string, quoted, char bool, t dissect.Type, pos, end int) dissect.Value {
	switch {
	case t == dissect.TypeBool:
		if quoted {
			fail(pos, end, "%s cannot be converted from a string (%q).", t.Description(), text)
		}
		switch text {
		case "True", "true", "TRUE":
			return dissect.Value{Type: t, N: 1}
		case "False", "false", "FALSE":
			return dissect.Value{Type: t}
		}
		v := intLiteral(text, char, pos, end, 0, math.MaxInt64)
		if v != 0 {
			v = 1
		}
		return dissect.Value{Type: t, N: uint64(v)}
	case t.IsUint():
		if quoted && !char {
			fail(pos, end, "%s cannot be converted from a string (%q).", t.Description(), text)
		}
		max := uint64(math.MaxUint64)
		if t.Bits() < 64 {
			max = 1<<t.Bits() - 1
		}
		return dissect.Value{Type: t, N: uintLiteral(text, char, pos, end, max)}
	case t.IsInt():
		if quoted && !char {
			fail(pos, end, "%s cannot be converted from a string (%q).", t.Description(), text)
		}
		bits := t.Bits()
		v := intLiteral(text, char, pos, end, -1<<(bits-1), 1<<(bits-1)-1)
		return dissect.Value{Type: t, N: uint64(v)}
	case t == dissect.TypeIPv4:
		return ipLiteral(text, quoted, t, 32, "IPv4", pos, end)
	case t == dissect.TypeIPv6:
		return ipLiteral(text, quoted, t, 128, "IPv6", pos, end)
	case t == dissect.TypeEther:
		if quoted {
			fail(pos, end, "Ethernet address cannot be converted from a string (%q).", text)
		}
		b, ok := bytesLiteral(text)
		if !ok {
			fail(pos, end, "%q is not a valid Ethernet address.", text)
		}
		if len(b) < 6 {
			fail(pos, end, "%q contains too few bytes to be a valid Ethernet address.", text)
		}
		if len(b) > 6 {
			fail(pos, end, "%q contains too many bytes to be a valid Ethernet address.", text)
		}
		return dissect.Value{Type: t, B: b}
	case t == dissect.TypeBytes || t == dissect.TypeProtocol:
		if quoted {
			return dissect.Value{Type: dissect.TypeBytes, B: []byte(text)}
		}
		b, ok := bytesLiteral(text)
		if !ok {
			fail(pos, end, "%q is not a valid byte string.", text)
		}
		return dissect.Value{Type: dissect.TypeBytes, B: b}
	case t == dissect.TypeString:
		return dissect.Value{Type: t, S: text}
	case t == dissect.TypeRelTime && !quoted:
		// seconds, as tshark reads a relative time ("0.1", "-2", "1e-3")
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxInt64/1e9 {
			fail(pos, end, "%q is not a valid time.", text)
		}
		return dissect.Value{Type: t, N: uint64(int64(math.Round(f * 1e9)))}
	}
	fail(pos, end, "%s cannot be compared with a constant value.", t.Description())
	panic("unreachable")
}

// ipLiteral parses an address of family ("IPv4", "IPv6"), bits long,
// with an optional prefix length ("10.0.0.0/8").
func ipLiteral(text string, quoted bool, t dissect.Type, bits int, family string, pos, end int) dissect.Value {
	if quoted {
		fail(pos, end, "%s address cannot be converted from a string (%q).", family, text)
	}
	addr, prefix, hasPrefix := strings.Cut(text, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil || a.BitLen() != bits || a.Zone() != "" {
		fail(pos, end, "%q is not a valid hostname or %s address.", addr, family)
	}
	n := bits
	if hasPrefix {
		n, err = strconv.Atoi(prefix)
		if err != nil || n < 0 {
			fail(pos, end, "%q is not a valid prefix length.", prefix)
		}
		if n > bits && bits == 32 {
			fail(pos, end, "Netmask bits in a CIDR IPv4 address should be <= 32, not %d", n)
		}
		if n > bits {
			fail(pos, end, "Prefix in a IPv6 address should be <= 128, not %d", n)
		}
	}
	return ipValue(t, a.AsSlice(), n)
}

// uintLiteral parses a decimal, 0x-hex or 0-octal number, or a character
// constant, no bigger than max.
func uintLiteral(text string, char bool, pos, end int, max uint64) uint64 {
	if char {
		return uint64(text[0])
	}
	if strings.HasPrefix(text, "-") {
		v := intLiteral(text, false, pos, end, math.MinInt64, math.MaxInt64)
		if v < 0 {
			fail(pos, end, "%q too small for this field, minimum 0.", text)
		}
		return uint64(v)
	}
	v, err := strconv.ParseUint(text, 0, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			fail(pos, end, "%q too big for this field, maximum %d.", text, max)
		}
		fail(pos, end, "%q is not a valid number.", text)
	}
	if strings.Contains(text, "_") {
		fail(pos, end, "%q is not a valid number.", text)
	}
	if v > max {
		fail(pos, end, "%q too big for this field, maximum %d.", text, max)
	}
	return v
}

// intLiteral parses a signed number within [min, max].
func intLiteral(text string, char bool, pos, end int, min, max int64) int64 {
	if char {
		return int64(text[0])
	}
	v, err := strconv.ParseInt(text, 0, 64)
	if err != nil || strings.Contains(text, "_") {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			fail(pos, end, "%q is out of range for this field.", text)
		}
		fail(pos, end, "%q is not a valid number.", text)
	}
	if v > max {
		fail(pos, end, "%q too big for this field, maximum %d.", text, max)
	}
	if v < min {
		fail(pos, end, "%q too small for this field, minimum %d.", text, min)
	}
	return v
}

// bytesLiteral parses bytes written as hex pairs separated by ':', '-'
// or '.' ("00:11:22", "0011.2233.4455"), or a lone byte ("1", "ff").
func bytesLiteral(s string) ([]byte, bool) {
	if s == "" {
		return nil, false
	}
	if len(s) <= 2 {
		v, err := strconv.ParseUint(s, 16, 8)
		return []byte{byte(v)}, err == nil
	}
	var out []byte
	sep := byte(0)
	for i := 0; i < len(s); {
		if !isHex(s[i]) {
			return nil, false
		}
		if i+1 < len(s) && isHex(s[i+1]) {
			v, _ := strconv.ParseUint(s[i:i+2], 16, 8)
			out = append(out, byte(v))
			i += 2
		} else if sep == ':' || sep == '-' {
			v, _ := strconv.ParseUint(s[i:i+1], 16, 8)
			out = append(out, byte(v))
			i++
		} else {
			return nil, false
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c == ':' || c == '-' || c == '.' {
			if sep != 0 && c != sep || i+1 == len(s) {
				return nil, false
			}
			sep = c
			i++
		} else if sep == ':' || sep == '-' {
			return nil, false
		}
	}
	return out, true
}
