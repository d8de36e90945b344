package dfilter

import "github.com/pkttap/pkttap/dissect"

// AppendFieldText appends a field's values as tshark's -T fields -e
// prints them, joined by ',': integers with a hexadecimal display base as
// 0x…, booleans as 1 or 0, bytes as hex digits, strings with control
// characters escaped; base is the field's display base.
func AppendFieldText(b []byte, vals []dissect.Value, base dissect.Base) []byte {
	for j, v := range vals {
		if j > 0 {
			b = append(b, ',')
		}
		b = appendFieldValue(b, v, base)
	}
	return b
}

const hexDigits = "0123456789abcdef"

func appendFieldValue(b []byte, v dissect.Value, base dissect.Base) []byte {
	switch v.Type {
	case dissect.TypeBool:
		return append(b, byte('0'+v.N))
	case dissect.TypeBytes:
		for _, c := range v.B {
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		}
		return b
	case dissect.TypeNone:
		return append(b, '1') // tshark's mark of a present label-only field
	case dissect.TypeProtocol:
		return b
	case dissect.TypeString:
		return appendEscaped(b, v.S)
	}
	return v.AppendText(b, base)
}

// appendEscaped appends a string value as tshark's -T fields writes it:
// control characters as C escapes (\r, \n, \t, ...) or octal, so a value
// stays on its line and in its column.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\a':
			b = append(b, `\a`...)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '\v':
			b = append(b, `\v`...)
		default:
			if c < 0x20 || c == 0x7f {
				b = append(b, '\\', '0'+c>>6, '0'+c>>3&7, '0'+c&7)
			} else {
				b = append(b, c)
			}
		}
	}
	return b
}
