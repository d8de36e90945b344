// Package hexdump formats bytes as the hex + ASCII rows that pkttap's tools
// print under each packet, in the layout of `hexdump -C` with shorter
// offsets:
//
//	0000  45 00 00 54 1c 46 40 00  40 01 a0 5c c6 12 00 01  |E..T.F@.@..\....|
//
// Each row holds 16 bytes: the offset of its first byte in hex, two groups
// of 8 hex bytes, and the printable ASCII characters between bars (anything
// outside 0x20-0x7e is shown as a dot). Offsets have 4 digits, or as many
// more as the last row's offset needs when the data is over 64 KiB (5 for a
// BIG TCP packet of 80,000 bytes); all rows of one dump have the same
// width. A short last row pads its hex columns so its ASCII starts where the
// rows above do. Apart from the offset width the rows are exactly those of
// `hexdump -C -v`, without its final offset line.
package hexdump

import "io"

// BytesPerRow is the number of packet bytes shown on one row.
const BytesPerRow = 16

// minOffsetDigits is the width of the offsets of data up to 64 KiB.
const minOffsetDigits = 4

// rowLenNoOffset is the length of one full row including its newline but
// not its offset: 2 + 16*3 + 1 (gap between groups) + 1 + 2 (bars) + 16
// (ASCII) + 1.
const rowLenNoOffset = 2 + BytesPerRow*3 + 1 + 1 + BytesPerRow + 2 + 1

const hexDigits = "0123456789abcdef"

// offsetDigits returns the width of the offsets of n bytes of data: enough
// hex digits for the last row's offset, and at least 4.
func offsetDigits(n int) int {
	last := max(n-1, 0) / BytesPerRow * BytesPerRow
	d := minOffsetDigits
	for last>>(4*d) != 0 {
		d++
	}
	return d
}

// Append appends the rows for data to dst and returns the extended slice.
// Offsets start at 0. It allocates only when dst lacks capacity.
func Append(dst, data []byte) []byte {
	digits := offsetDigits(len(data))
	for off := 0; off < len(data); off += BytesPerRow {
		end := min(off+BytesPerRow, len(data))
		dst = appendRow(dst, off, digits, data[off:end])
	}
	return dst
}

// appendRow appends one row for row (at most BytesPerRow bytes) whose first
// byte is at offset off, printed with digits hex digits.
func appendRow(dst []byte, off, digits int, row []byte) []byte {
	for shift := 4 * (digits - 1); shift >= 0; shift -= 4 {
		dst = append(dst, hexDigits[(off>>shift)&0xf])
	}
	dst = append(dst, ' ', ' ')
	for i := range BytesPerRow {
		if i == 8 {
			dst = append(dst, ' ')
		}
		if i < len(row) {
			dst = append(dst, hexDigits[row[i]>>4], hexDigits[row[i]&0xf], ' ')
		} else {
			dst = append(dst, ' ', ' ', ' ')
		}
	}
	dst = append(dst, ' ', '|')
	for _, b := range row {
		if b < 0x20 || b > 0x7e {
			b = '.'
		}
		dst = append(dst, b)
	}
	return append(dst, '|', '\n')
}

// Format returns the rows for data as a string.
func Format(data []byte) string {
	return string(Append(make([]byte, 0, Size(len(data))), data))
}

// Size returns the number of bytes Append adds for n bytes of data.
func Size(n int) int {
	rows := (n + BytesPerRow - 1) / BytesPerRow
	return rows*(offsetDigits(n)+rowLenNoOffset) - (rows*BytesPerRow - n)
}

// Write writes the rows for data to w in one Write call.
func Write(w io.Writer, data []byte) error {
	_, err := w.Write(Append(make([]byte, 0, Size(len(data))), data))
	return err
}
