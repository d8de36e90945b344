package matchset

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// draws returns the ascending members of each test set, drawn from below
// limit with the given chance, plus hand-picked edges.
func draws() map[string][]uint32 {
	r := rand.New(rand.NewPCG(1, 2))
	draw := func(limit int, p float64) []uint32 {
		var out []uint32
		for v := range limit {
			if r.Float64() < p {
				out = append(out, uint32(v))
			}
		}
		return out
	}
	seq := func(lo, hi uint32) []uint32 {
		var out []uint32
		for v := lo; v < hi; v++ {
			out = append(out, v)
		}
		return out
	}
	mixed := append(draw(3*blockSize, 0.01), seq(3*blockSize, 4*blockSize)...) // a sparse part, then a full block
	mixed = append(mixed, 5*blockSize+7, 9*blockSize-1)                        // a gap of empty blocks
	return map[string][]uint32{
		"empty":           nil,
		"one":             {12345},
		"zero and max":    {0, 1<<32 - 1},
		"sparse":          draw(5*blockSize, 0.002),
		"dense":           draw(3*blockSize, 0.7),
		"list limit":      seq(0, maxList),   // the most a list holds
		"list limit + 1":  seq(0, maxList+1), // the first bitmap
		"block edges":     {blockSize - 1, blockSize, 2*blockSize - 1, 2 * blockSize},
		"mixed":           mixed,
		"every number":    seq(0, 2*blockSize+5),
		"high blocks":     {1<<32 - blockSize - 1, 1<<32 - blockSize, 1<<32 - 2},
		"one a block":     {5, blockSize + 5, 2*blockSize + 5, 3*blockSize + 5},
		"dense then list": append(seq(0, maxList+10), blockSize+1, blockSize+3),
	}
}

func build(t *testing.T, members []uint32) *Set {
	t.Helper()
	var s Set
	for _, v := range members {
		if !s.Add(v) {
			t.Fatalf("Add(%d) refused", v)
		}
	}
	return &s
}

// check compares s with the sorted slice want through every method.
func check(t *testing.T, s *Set, want []uint32) {
	t.Helper()
	if s.Len() != len(want) {
		t.Fatalf("Len %d, want %d", s.Len(), len(want))
	}
	// Rank of members (about 3000 of them, evenly spread), their
	// neighbours and some numbers far from any.
	probes := []uint32{0, 1, blockSize - 1, blockSize, 1<<32 - 1}
	for i := 0; i < len(want); i += max(1, len(want)/3000) {
		v := want[i]
		probes = append(probes, v, v+1, v-1)
	}
	for _, v := range probes {
		wr, wok := slices.BinarySearch(want, v)
		if r, ok := s.Rank(v); r != wr || ok != wok {
			t.Fatalf("Rank(%d) = %d, %v; want %d, %v", v, r, ok, wr, wok)
		}
	}
	// Windows: the whole set, pages of several sizes, and past the end.
	if got := s.Window(nil, 0, len(want)+10); !slices.Equal(got, want) {
		t.Fatalf("Window(0, all) = %d members, differs from want", len(got))
	}
	for _, size := range []int{1, 7, 100, maxList + 3} {
		for start := 0; start < len(want); start += max(1, len(want)/37) {
			got := s.Window([]uint32{42}, start, size)
			if got[0] != 42 || !slices.Equal(got[1:], want[start:min(start+size, len(want))]) {
				t.Fatalf("Window(%d, %d) = %v, want %v", start, size, got[1:], want[start:min(start+size, len(want))])
			}
		}
	}
	for _, bad := range [][2]int{{len(want), 5}, {-1, 5}, {0, 0}, {0, -3}} {
		if got := s.Window(nil, bad[0], bad[1]); len(got) != 0 {
			t.Fatalf("Window(%d, %d) = %v, want nothing", bad[0], bad[1], got)
		}
	}
}

func TestSet(t *testing.T) {
	for name, want := range draws() {
		t.Run(name, func(t *testing.T) {
			s := build(t, want)
			check(t, s, want)
			if len(want) > 0 {
				if s.Add(want[len(want)-1]) || (want[0] > 0 && s.Add(want[0]-1)) {
					t.Fatal("Add accepted a number not above every member")
				}
				check(t, s, want) // unchanged
				limit := int(want[len(want)-1]) + 1
				if b := s.Bytes(); b > MaxBytes(limit) {
					t.Errorf("Bytes %d, more than MaxBytes(%d) = %d", b, limit, MaxBytes(limit))
				}
			}
		})
	}
}

// TestSetClone checks that a clone keeps what the set held when it was
// made while the set grows in its last block, into a bitmap and into new
// blocks.
func TestSetClone(t *testing.T) {
	var s Set
	var want []uint32
	var clones []*Set
	var held [][]uint32
	for v := uint32(0); v < 3*blockSize; v += 3 {
		s.Add(v)
		want = append(want, v)
		if len(want)%5000 == 1 {
			clones = append(clones, s.Clone())
			held = append(held, slices.Clone(want))
		}
	}
	check(t, &s, want)
	for k, c := range clones {
		check(t, c, held[k])
	}
}

// TestSetBytes checks that memory follows the content: 2 bytes a member for
// a sparse set, a bitmap (an eighth of a byte a number) for a dense one,
// never more than MaxBytes.
func TestSetBytes(t *testing.T) {
	const n = 1 << 20 // 16 blocks
	tests := []struct {
		name     string
		every    uint32 // a member every this many numbers
		min, max int    // bounds on Bytes
	}{
		{"sparse", 1000, 2 * n / 1000, 4*n/1000 + 16*2*blockBytes},
		{"one in 20", 20, 2 * n / 20, 2*n/20*2 + 16*2*blockBytes},
		{"dense", 2, n / 8, MaxBytes(n)},
		{"full", 1, n / 8, MaxBytes(n)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Set
			for v := uint32(0); v < n; v += tt.every {
				s.Add(v)
			}
			if b := s.Bytes(); b < tt.min || b > tt.max {
				t.Errorf("%d members: Bytes %d, want %d to %d", s.Len(), b, tt.min, tt.max)
			}
		})
	}
}

func BenchmarkWindow(b *testing.B) {
	var s Set
	for v := uint32(0); v < 1<<20; v += 2 {
		s.Add(v)
	}
	dst := make([]uint32, 0, 100)
	for b.Loop() {
		dst = s.Window(dst[:0], s.Len()/2, 100)
	}
}
