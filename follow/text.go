package follow

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// Mode is how tshark's -z follow prints a stream.
type Mode uint8

// The modes of tshark -z follow,PROTO,MODE.
const (
	ASCII Mode = iota + 1 // each chunk's length, then its text (unprintable bytes as '.')
	Hex                   // a hex dump of each chunk, at its direction's offset
	Raw                   // each chunk's bytes as lowercase hex digits on one line
)

// String returns the mode's name in tshark's -z argument.
func (m Mode) String() string {
	switch m {
	case ASCII:
		return "ascii"
	case Hex:
		return "hex"
	case Raw:
		return "raw"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseMode parses "ascii", "hex" or "raw".
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{ASCII, Hex, Raw} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown follow mode %q: ascii, hex or raw", s)
}

// separator opens and closes tshark's follow output.
const separator = "===================================================================\n"

// TextWriter writes a followed stream as tshark 4.0 prints
// -q -z follow,PROTO,MODE,...: a header, each chunk, a closing line. The
// server's chunks are indented by a tab.
type TextWriter struct {
	w    *bufio.Writer
	mode Mode
	pos  [2]uint32 // bytes written so far per direction (hex dump offsets)
	line []byte
}

// NewTextWriter writes the header of a followed stream to w: the mode,
// the display filter that selected its packets and its two nodes.
func NewTextWriter(w io.Writer, p Proto, m Mode, filter string, client, server Endpoint) *TextWriter {
	t := &TextWriter{w: bufio.NewWriter(w), mode: m}
	fmt.Fprintf(t.w, "\n%sFollow: %s,%s\nFilter: %s\nNode 0: %s\nNode 1: %s\n", separator, p, m, filter, client, server)
	return t
}

// Chunk writes one chunk of data from direction dir (0 client, 1 server).
func (t *TextWriter) Chunk(dir uint8, data []byte) {
	tab := ""
	if dir == 1 {
		tab = "\t"
	}
	b := t.line[:0]
	switch t.mode {
	case ASCII:
		b = append(b, tab...)
		b = strconv.AppendUint(b, uint64(len(data)), 10)
		b = append(b, '\n')
		for _, c := range data {
			if c == '\r' || c == '\n' || c >= 0x20 && c < 0x7f {
				b = append(b, c)
			} else {
				b = append(b, '.')
			}
		}
		b = append(b, '\n')
	case Hex:
		b = appendHexDump(b, tab, t.pos[dir], data)
	case Raw:
		b = append(b, tab...)
		for _, c := range data {
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		}
		b = append(b, '\n')
	}
	t.pos[dir] += uint32(len(data))
	t.w.Write(b)
	t.line = b[:0]
}

// Close writes the closing line and flushes.
func (t *TextWriter) Close() error {
	t.w.WriteString(separator)
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("write follow output: %w", err)
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// appendHexDump appends tshark's hex dump of data, whose first byte is at
// offset off of its direction: lines of an 8-digit uppercase offset, 16
// bytes in two groups of 8, and their printable characters (two groups,
// a trailing space dropped), each line after prefix.
func appendHexDump(b []byte, prefix string, off uint32, data []byte) []byte {
	const hexStart, asciiStart = 10, 60
	var line [asciiStart + 17]byte
	for i := 0; i < len(data); i += 16 {
		row := data[i:min(i+16, len(data))]
		copy(line[:], fmt.Sprintf("%08X", off+uint32(i)))
		for k := 8; k < asciiStart; k++ {
			line[k] = ' '
		}
		h, a := hexStart, asciiStart
		for k, c := range row {
			line[h], line[h+1] = hexDigits[c>>4], hexDigits[c&15]
			h += 3
			if c >= 0x20 && c < 0x7f {
				line[a] = c
			} else {
				line[a] = '.'
			}
			a++
			if k == 7 {
				h++
				line[a] = ' '
				a++
			}
		}
		if line[a-1] == ' ' {
			a--
		}
		b = append(b, prefix...)
		b = append(b, line[:a]...)
		b = append(b, '\n')
	}
	return b
}
