package platform

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// bpfRec is a record for appendBPFRecord.
type bpfRec struct {
	sec, usec uint32
	datalen   uint32
	hdrlen    uint16 // 0 means bpfKernelHdrLen(14): an Ethernet device's
	data      []byte
}

// bpfKernelHdrLen is the bh_hdrlen the BPF of macOS and the BSDs writes for
// a device whose link header is linkHdrLen bytes long: the 18 bytes of
// bpf_hdr (SIZEOF_BPF_HDR) padded so that the network header after the
// link header is 4-byte aligned, BPF_WORDALIGN(hdrlen + 18) - hdrlen.
// Ethernet (14) gives 18, NULL (4) and RAW (0) give 20.
func bpfKernelHdrLen(linkHdrLen int) uint16 {
	return uint16(bpfWordAlign(linkHdrLen+bpfHdrMinLen) - linkHdrLen)
}

// appendBPFRecord appends a record as macOS's bpf writes it: the header
// (hdrlen bytes), the data, and padding to 4 bytes (0xee bytes, so that
// padding taken for data shows).
func appendBPFRecord(buf []byte, r bpfRec) []byte {
	hdrlen := int(r.hdrlen)
	if hdrlen == 0 {
		hdrlen = int(bpfKernelHdrLen(14))
	}
	h := make([]byte, hdrlen)
	ne := binary.NativeEndian
	ne.PutUint32(h[0:], r.sec)
	ne.PutUint32(h[4:], r.usec)
	ne.PutUint32(h[8:], uint32(len(r.data)))
	ne.PutUint32(h[12:], r.datalen)
	ne.PutUint16(h[16:], uint16(hdrlen))
	buf = append(buf, h...)
	buf = append(buf, r.data...)
	for len(buf)%4 != 0 {
		buf = append(buf, 0xee)
	}
	return buf
}

func TestBPFKernelHdrLen(t *testing.T) {
	for _, tc := range []struct {
		name    string
		linkHdr int
		want    uint16
	}{
		{"EN10MB", 14, 18},
		{"NULL", 4, 20},
		{"RAW", 0, 20},
		{"LOOP", 4, 20},
	} {
		got := bpfKernelHdrLen(tc.linkHdr)
		if got != tc.want || (int(got)+tc.linkHdr)%bpfAlignment != 0 {
			t.Errorf("%s: bh_hdrlen %d, want %d with the network header 4-byte aligned", tc.name, got, tc.want)
		}
	}
}

func TestBPFBuffer(t *testing.T) {
	recs := []bpfRec{
		{sec: 1700000000, usec: 1, datalen: 60, data: bytes.Repeat([]byte{1}, 60)},
		{sec: 1700000000, usec: 2, datalen: 1514, data: bytes.Repeat([]byte{2}, 61)}, // snapped, odd length: 3 bytes padding
		{sec: 1700000001, usec: 999999, datalen: 5, hdrlen: bpfKernelHdrLen(0), data: []byte{3, 3, 3, 3, 3}},
		{sec: 1700000002, usec: 0, datalen: 0, data: nil},
		{sec: 1700000003, usec: 7, datalen: 42, hdrlen: 24, data: bytes.Repeat([]byte{4}, 42)},
	}
	var buf []byte
	for _, r := range recs {
		buf = appendBPFRecord(buf, r)
	}
	// The read returns into a bigger buffer; only n bytes count.
	big := append(bytes.Clone(buf), bytes.Repeat([]byte{0xaa}, 100)...)
	var b bpfBuffer
	b.reset(big, len(buf))
	for i, want := range recs {
		rec, ok, err := b.next()
		if err != nil || !ok {
			t.Fatalf("record %d: ok %v, err %v", i, ok, err)
		}
		if rec.sec != want.sec || rec.usec != want.usec || rec.datalen != int(want.datalen) || !bytes.Equal(rec.data, want.data) {
			t.Errorf("record %d = %+v, want %+v", i, rec, want)
		}
	}
	if rec, ok, err := b.next(); ok || err != nil {
		t.Errorf("after the last record: %+v, %v, %v; want the end", rec, ok, err)
	}
}

func TestBPFBufferCorrupt(t *testing.T) {
	good := appendBPFRecord(nil, bpfRec{sec: 1, datalen: 8, data: bytes.Repeat([]byte{9}, 8)})
	tests := []struct {
		name string
		buf  []byte
		want string
	}{
		{"caplen past the end", appendBPFRecord(bytes.Clone(good), bpfRec{datalen: 100, data: make([]byte, 40)})[:len(good)+30], "does not fit"},
		{"hdrlen too small", func() []byte {
			b := appendBPFRecord(bytes.Clone(good), bpfRec{datalen: 4, data: make([]byte, 4)})
			binary.NativeEndian.PutUint16(b[len(good)+16:], 6)
			return b
		}(), "does not fit"},
		{"stray bytes", append(bytes.Clone(good), 1, 2, 3, 4, 5, 6, 7, 8), "stray bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bpfBuffer
			b.reset(tc.buf, len(tc.buf))
			if rec, ok, err := b.next(); !ok || err != nil || len(rec.data) != 8 {
				t.Fatalf("first record: %+v, %v, %v", rec, ok, err)
			}
			_, ok, err := b.next()
			if ok || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got ok %v, err %v; want an error containing %q", ok, err, tc.want)
			}
			if _, ok, err := b.next(); ok || err != nil {
				t.Errorf("after an error: ok %v, err %v; want the end", ok, err)
			}
		})
	}
}
