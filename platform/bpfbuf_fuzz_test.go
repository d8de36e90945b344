package platform

import (
	"bytes"
	"testing"
	"unsafe"
)

// FuzzBPFBuffer feeds arbitrary read buffers to the bpf_hdr walker: it must
// never panic or loop, and every record it returns must lie inside the
// buffer and start 4-byte aligned.
func FuzzBPFBuffer(f *testing.F) {
	f.Add(appendBPFRecord(nil, bpfRec{sec: 1, datalen: 60, data: bytes.Repeat([]byte{1}, 60)}))
	f.Add(appendBPFRecord(appendBPFRecord(nil, bpfRec{datalen: 3, hdrlen: 18, data: []byte{1, 2, 3}}), bpfRec{datalen: 1500, data: make([]byte, 64)}))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x14, 0})
	f.Add(make([]byte, 17))
	f.Fuzz(func(t *testing.T, buf []byte) {
		var b bpfBuffer
		b.reset(buf, len(buf))
		for n := 0; ; n++ {
			if n > len(buf) {
				t.Fatalf("more records than bytes: the walker does not advance")
			}
			start := b.off
			rec, ok, err := b.next()
			if !ok || err != nil {
				return
			}
			if start%bpfAlignment != 0 {
				t.Fatalf("record at offset %d is not %d-byte aligned", start, bpfAlignment)
			}
			if len(rec.data) > 0 {
				at := int(uintptr(unsafe.Pointer(unsafe.SliceData(rec.data))) - uintptr(unsafe.Pointer(unsafe.SliceData(buf))))
				if at < start+bpfHdrMinLen || at+len(rec.data) > len(buf) {
					t.Fatalf("record at %d: data at [%d, %d) is not after its header inside the %d-byte buffer", start, at, at+len(rec.data), len(buf))
				}
			}
		}
	})
}
