package defrag

import (
	"bytes"
	"testing"

	"github.com/pkttap/pkttap/dissect"
)

func header(id uint32, off int, more bool) dissect.FragmentHeader {
	h := dissect.FragmentHeader{AddrLen: 4, ID: id, Proto: 17, Offset: off, More: more}
	copy(h.Src[:], []byte{198, 18, 0, 1})
	copy(h.Dst[:], []byte{198, 18, 0, 2})
	return h
}

func TestTable(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 30) // 300 bytes
	type piece struct {
		off, end int
		more     bool
	}
	tests := []struct {
		name     string
		pieces   []piece
		complete int // index of the piece that completes, -1 none
		frames   []uint32
	}{
		{"in order", []piece{{0, 100, true}, {100, 200, true}, {200, 300, false}}, 2, []uint32{1, 2, 3}},
		{"last first", []piece{{200, 300, false}, {0, 100, true}, {100, 200, true}}, 2, []uint32{2, 3, 1}},
		{"a gap", []piece{{0, 100, true}, {200, 300, false}}, -1, nil},
		{"no last", []piece{{0, 100, true}, {100, 200, true}}, -1, nil},
		{"overlapping", []piece{{0, 150, true}, {100, 300, false}}, 1, []uint32{1, 2}},
		{"one piece", []piece{{0, 300, false}}, 0, []uint32{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := New()
			for i, p := range tt.pieces {
				r := tb.AddFragment(uint32(i+1), header(7, p.off, p.more), data[p.off:p.end])
				if (r != nil) != (i == tt.complete) {
					t.Fatalf("piece %d: completed %v", i, r != nil)
				}
				if r == nil {
					continue
				}
				if !bytes.Equal(r.Data, data) {
					t.Errorf("data %q", r.Data)
				}
				var frames []uint32
				for _, f := range r.Fragments {
					frames = append(frames, f.Frame)
				}
				if !slicesEqual(frames, tt.frames) {
					t.Errorf("fragments %v, want %v", frames, tt.frames)
				}
				if n, b := tb.Pending(); n != 0 || b != 0 {
					t.Errorf("pending %d datagrams, %d bytes after completion", n, b)
				}
			}
		})
	}
}

func slicesEqual(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestConflict: overlapping bytes that differ keep the lower offset's and
// mark the later fragment.
func TestConflict(t *testing.T) {
	tb := New()
	tb.AddFragment(1, header(1, 0, true), []byte("aaaaaaaa"))
	r := tb.AddFragment(2, header(1, 4, false), []byte("bbbbbbbb"))
	if r == nil || string(r.Data) != "aaaaaaaabbbb" {
		t.Fatalf("reassembled %+v", r)
	}
	if f := r.Fragments[1]; !f.Overlap || !f.Conflict {
		t.Errorf("second fragment %+v, want an overlap in conflict", f)
	}
	tb.AddFragment(3, header(2, 0, true), []byte("aaaaaaaa"))
	r = tb.AddFragment(4, header(2, 4, false), []byte("aaaabbbb"))
	if f := r.Fragments[1]; !f.Overlap || f.Conflict {
		t.Errorf("second fragment %+v, want an overlap without conflict", f)
	}
}

// TestBounded: datagrams that never complete cost at most MaxPending
// bytes, the oldest dropped first, and a key seen again after completion
// begins a new datagram.
func TestBounded(t *testing.T) {
	tb := New()
	tb.MaxPending = 10000
	for id := uint32(0); id < 1000; id++ {
		tb.AddFragment(id+1, header(id, 0, true), make([]byte, 1000))
		if _, b := tb.Pending(); b > tb.MaxPending {
			t.Fatalf("%d bytes held, limit %d", b, tb.MaxPending)
		}
	}
	if n, _ := tb.Pending(); n != 10 {
		t.Errorf("%d datagrams pending, want the 10 newest", n)
	}
	if r := tb.AddFragment(2000, header(999, 1000, false), make([]byte, 10)); r == nil {
		t.Error("the newest datagram was dropped")
	}
	if r := tb.AddFragment(2001, header(0, 1000, false), make([]byte, 10)); r != nil {
		t.Error("the oldest datagram was kept")
	}
	if len(tb.order) > 2*len(tb.pending)+64 {
		t.Errorf("%d order entries for %d datagrams", len(tb.order), len(tb.pending))
	}
}

// FuzzTable feeds fragments of any offset, length and key: never a panic,
// never more than MaxPending held, and a reassembled datagram's fragments
// cover it without a gap.
func FuzzTable(f *testing.F) {
	f.Add([]byte{0, 0, 10, 1, 0, 1, 10, 0})
	f.Add([]byte{1, 255, 255, 0, 1, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		tb := New()
		tb.MaxPending = 1 << 16
		for i := 0; i+4 <= len(b); i += 4 {
			off := int(b[i+1])<<9 | int(b[i+2])<<1
			n := int(b[i+3]) * 37
			h := header(uint32(b[i]&3), off, b[i]&4 != 0)
			r := tb.AddFragment(uint32(i), h, make([]byte, n))
			if r != nil {
				covered := 0
				for _, f := range r.Fragments {
					if f.Offset > covered {
						t.Fatalf("a gap at %d in %+v", covered, r.Fragments)
					}
					covered = max(covered, f.Offset+f.Length)
				}
				if covered < len(r.Data) {
					t.Fatalf("%d of %d bytes covered", covered, len(r.Data))
				}
			}
			if _, held := tb.Pending(); held > tb.MaxPending {
				t.Fatalf("%d bytes held", held)
			}
		}
	})
}
