// Package hexdump formats bytes as the hex + ASCII rows that pkttap's tools
// print under each packet, in the layout of `hexdump -C`:
//
//	00000000  45 00 00 54 1c 46 40 00  40 01 a0 5c c6 12 00 01  |E..T.F@.@..\....|
//
// Each row holds 16 bytes: the offset of its first byte (8 hex digits), two
// groups of 8 hex bytes, and the printable ASCII characters between bars
// (anything outside 0x20-0x7e is shown as a dot). A short last row pads its
// hex columns so its ASCII starts where the rows above do, exactly as
// `hexdump -C -v` prints it, except that no final offset line is printed.
package hexdump

import "io"

// BytesPerRow is the number of packet bytes shown on one row.
const BytesPerRow = 16

// rowLen is the length of one full row including its newline: 8 (offset)
// + 2 + 16*3 + 1 (gap between groups) + 1 + 2 (bars) + 16 (ASCII) + 1.
const rowLen = 8 + 2 + BytesPerRow*3 + 1 + 1 + BytesPerRow + 2 + 1

const hexDigits = "0123456789abcdef"

// Append appends the rows for data to dst and returns the extended slice.
// Offsets start at 0. It allocates only when dst lacks capacity.
func Append(dst, data []byte) []byte {
	for off := 0; off < len(data); off += BytesPerRow {
		end := min(off+BytesPerRow, len(data))
		dst = appendRow(dst, off, data[off:end])
	}
	return dst
}

// appendRow appends one row for row (at most BytesPerRow bytes) whose first
// byte is at offset off.
func appendRow(dst []byte, off int, row []byte) []byte {
	for shift := 28; shift >= 0; shift -= 4 {
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
	return rows*rowLen - (rows*BytesPerRow - n)
}

// Write writes the rows for data to w in one Write call.
func Write(w io.Writer, data []byte) error {
	_, err := w.Write(Append(make([]byte, 0, Size(len(data))), data))
	return err
}
