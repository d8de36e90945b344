package vm

import "unsafe"

// A test is one step of a program that is a chain of tests: a packet load
// (or len), an optional mask, and a comparison with a constant; when the
// comparison's outcome is not want, the program returns ret, otherwise it
// goes on with the next test, and after the last it returns the chain's
// accept value.
//
// Programs from libpcap's compiler for conjunctions of header tests
// (`ip6 and tcp dst port 80`, `len > 1200`) have this shape. Run executes
// them without the interpreter's dispatch: one predictable loop over a few
// tests, no scratch memory, no registers that outlive a step.
type test struct {
	off  uint32 // load offset (absolute, below 2^31)
	mask uint32 // and-mask applied to the loaded value
	k    uint32 // the comparand
	ret  uint32 // what the program returns when the comparison is not want
	size uint8  // 0 (len), 1, 2 or 4 bytes
	kind uint8  // 0 jeq, 1 jgt, 2 jge, 3 jset
	want bool   // the comparison outcome that goes on with the next test
}

// maxTests is the longest chain run as tests.
const maxTests = 6

// testChain recognizes a translated program that is a chain of tests and
// returns its tests and accept value; ok is false for any other program.
// ops must be fully translated (targets are byte offsets).
func testChain(ops []op) (tests []test, accept uint32, ok bool) {
	retK := func(t uint32) (uint32, bool) {
		o := &ops[t/opSize]
		return o.k, o.code == xRetK
	}
	pc := uint32(0)
	for len(tests) < maxTests {
		o := &ops[pc/opSize]
		t := test{off: o.k, mask: ^uint32(0), k: o.k2}
		switch {
		case o.code == xLdLenJ:
			t.size, t.kind, t.off = 0, uint8(o.k3), 0
		case o.code >= xLdWJeq && o.code <= xLdBJset:
			t.size, t.kind = loadSize((o.code-xLdWJeq)/4), (o.code-xLdWJeq)%4
		case o.code >= xLdWAndJeq && o.code <= xLdBAndJset:
			t.size, t.kind = loadSize((o.code-xLdWAndJeq)/4), (o.code-xLdWAndJeq)%4
			t.mask = o.k3
		default:
			return nil, 0, false
		}
		kt, rt := retK(o.jt)
		kf, rf := retK(o.jf)
		switch {
		case rt && rf:
			// The last test: true returns kt, false kf.
			t.want, t.ret = true, kf
			return append(tests, t), kt, true
		case rf:
			t.want, t.ret, pc = true, kf, o.jt
		case rt:
			t.want, t.ret, pc = false, kt, o.jf
		default:
			return nil, 0, false
		}
		tests = append(tests, t)
	}
	return nil, 0, false
}

// loadSize maps the size index of the fused op codes (word, half, byte)
// to a size in bytes.
func loadSize(i uint8) uint8 {
	return [3]uint8{4, 2, 1}[i]
}

// runTests runs a chain of tests (see test); a chain has no ancillary
// loads, so md is unused.
func (v *VM) runTests(data []byte, wireLen uint32, _ *Metadata) uint32 {
	p := unsafe.Pointer(unsafe.SliceData(data))
	n := uint(len(data))
	tests := v.tests
	last := len(tests) - 1
	for i := range tests {
		t := &tests[i]
		var a uint32
		var ok bool
		switch t.size {
		case 0:
			a, ok = wireLen, true
		case 1:
			a, ok = abs8(p, n, t.off)
		case 2:
			a, ok = abs16(p, n, t.off)
		default:
			a, ok = abs32(p, n, t.off)
		}
		if !ok {
			return 0
		}
		a &= t.mask
		var cond bool
		switch t.kind {
		case 0:
			cond = a == t.k
		case 1:
			cond = a > t.k
		case 2:
			cond = a >= t.k
		default:
			cond = a&t.k != 0
		}
		if i == last {
			// The last test chooses between two returns: select
			// without a branch, which would be mispredicted as
			// often as the packets vary.
			var m uint32
			if cond == t.want {
				m = 1
			}
			return t.ret ^ (t.ret^v.accept)&-m
		}
		if cond != t.want {
			return t.ret
		}
	}
	return v.accept // unreachable: the last test returns
}
