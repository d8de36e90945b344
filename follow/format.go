package follow

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Format is how an inspector shows a followed stream's chunks, as
// Wireshark's Follow Stream dialog offers them.
type Format uint8

// The formats of a followed stream.
const (
	FormatASCII  Format = iota + 1 // printable ASCII, newlines and tabs; other bytes as '.'
	FormatHex                      // a hex dump at the direction's offsets
	FormatCArray                   // C arrays, one per chunk: char peer0_0[] = { 0x47, ... };
	FormatRaw                      // the bytes as hex digits
	FormatUTF8                     // the bytes as UTF-8 text (invalid sequences as U+FFFD)
)

var formatNames = [...]string{FormatASCII: "ascii", FormatHex: "hex", FormatCArray: "carray", FormatRaw: "raw", FormatUTF8: "utf8"}

// String returns the format's name: ascii, hex, carray, raw or utf8.
func (f Format) String() string {
	if int(f) < len(formatNames) && formatNames[f] != "" {
		return formatNames[f]
	}
	return "format(" + strconv.Itoa(int(f)) + ")"
}

// ParseFormat parses a format's name.
func ParseFormat(s string) (Format, error) {
	for f, n := range formatNames {
		if n != "" && n == s {
			return Format(f), nil
		}
	}
	return 0, fmt.Errorf("unknown format %q: ascii, hex, carray, raw or utf8", s)
}

// Piece is a run of a chunk's bytes to format: from direction Dir, at
// offset DirOff of its direction's bytes, from packet Frame; Index is the
// chunk's number among its direction's chunks (C arrays are named by it).
type Piece struct {
	Dir    uint8
	DirOff int64
	Frame  uint32
	Index  int
	Data   []byte
}

// AppendFormat appends p's bytes as format f shows them.
func AppendFormat(b []byte, f Format, p *Piece) []byte {
	switch f {
	case FormatASCII:
		for _, c := range p.Data {
			if c == '\n' || c == '\r' || c == '\t' || c >= 0x20 && c < 0x7f {
				b = append(b, c)
			} else {
				b = append(b, '.')
			}
		}
	case FormatHex:
		b = appendHexDump(b, "", uint32(p.DirOff), p.Data)
	case FormatCArray:
		b = fmt.Appendf(b, "char peer%d_%d[] = { /* Packet %d */\n", p.Dir, p.Index, p.Frame)
		for i, c := range p.Data {
			b = append(b, "0x"...)
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
			switch {
			case i == len(p.Data)-1:
				b = append(b, " };\n"...)
			case i%8 == 7:
				b = append(b, ",\n"...)
			default:
				b = append(b, ", "...)
			}
		}
		if len(p.Data) == 0 {
			b = append(b, "};\n"...)
		}
	case FormatRaw:
		for _, c := range p.Data {
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		}
	case FormatUTF8:
		for d := p.Data; len(d) > 0; {
			r, n := utf8.DecodeRune(d)
			if r == utf8.RuneError && n <= 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, d[:n]...)
			}
			d = d[n:]
		}
	}
	return b
}
