package vm

import (
	"unsafe"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// loopSlack is how many backward jumps a packet may take beyond one per
// captured byte before the program is deemed to loop forever.
const loopSlack = 4096

// run is the interpreter.
//
// It reads ops and packet bytes through unsafe pointers, without Go's
// bounds checks, and relies on two invariants instead:
//   - every op index it reaches is inside ops: jump targets were checked by
//     validate, and stepping to the next op never runs past the last op,
//     which is a return (pc is a byte offset into ops);
//   - every packet read of size s at offset k goes through abs32, abs16,
//     abs8, ind32, ind16, ind8 or msh, which check k+s <= n first (with
//     k < 2^31 for absolute loads, see absLoad, so that the sum cannot
//     overflow, and 64-bit sums for indexed loads).
//
// The differential, random and fuzz tests exercise both.
func (v *VM) run(data []byte, wireLen uint32, md *Metadata) uint32 {
	ops := unsafe.Pointer(unsafe.SliceData(v.ops))
	p := unsafe.Pointer(unsafe.SliceData(data))
	var a, x uint32
	var ok bool
	// The rarely used state lives in memory (a struct holding an array is
	// never split into registers), leaving the registers to the hot values.
	var f frame
	f.wireLen, f.md = wireLen, md
	mem := &f.mem
	n := uint(len(data))
	pc := uintptr(0)
	for {
		o := (*op)(unsafe.Add(ops, pc))
		// Every packet ends in a return: test for it before the jump
		// table, which is dearer than a predictable branch.
		if o.code == xRetK {
			return o.k
		}
		switch o.code {
		case xRetK: // handled above; kept so that the jump table stays dense
			return o.k
		case xRetA:
			return a
		case xLdW:
			if a, ok = abs32(p, n, o.k); !ok {
				return 0
			}
			pc += opSize
		case xLdH:
			if a, ok = abs16(p, n, o.k); !ok {
				return 0
			}
			pc += opSize
		case xLdB:
			if a, ok = abs8(p, n, o.k); !ok {
				return 0
			}
			pc += opSize
		case xLdWI:
			if a, ok = ind32(p, n, x, o.k); !ok {
				return 0
			}
			pc += opSize
		case xLdHI:
			if a, ok = ind16(p, n, x, o.k); !ok {
				return 0
			}
			pc += opSize
		case xLdBI:
			if a, ok = ind8(p, n, x, o.k); !ok {
				return 0
			}
			pc += opSize
		case xLdLen:
			a = f.wireLen
			pc += opSize
		case xLdImm:
			a = o.k
			pc += opSize
		case xLdMem:
			a = mem[o.k&(bpfop.MemWords-1)]
			pc += opSize
		case xLdxImm:
			x = o.k
			pc += opSize
		case xLdxMem:
			x = mem[o.k&(bpfop.MemWords-1)]
			pc += opSize
		case xLdxLen:
			x = f.wireLen
			pc += opSize
		case xLdxMsh:
			if x, ok = msh(p, n, o.k); !ok {
				return 0
			}
			pc += opSize
		case xSt:
			mem[o.k&(bpfop.MemWords-1)] = a
			pc += opSize
		case xStx:
			mem[o.k&(bpfop.MemWords-1)] = x
			pc += opSize
		case xJa:
			pc = uintptr(o.jt)
		case xJaBack:
			f.back++
			if f.back > len(data)+loopSlack {
				return 0
			}
			pc = uintptr(o.jt)
		case xJeqK:
			pc = pick(a == o.k, o)
		case xJgtK:
			pc = pick(a > o.k, o)
		case xJgeK:
			pc = pick(a >= o.k, o)
		case xJsetK:
			pc = pick(a&o.k != 0, o)
		case xJeqX:
			pc = pick(a == x, o)
		case xJgtX:
			pc = pick(a > x, o)
		case xJgeX:
			pc = pick(a >= x, o)
		case xJsetX:
			pc = pick(a&x != 0, o)
		case xAddK:
			a += o.k
			pc += opSize
		case xSubK:
			a -= o.k
			pc += opSize
		case xMulK:
			a *= o.k
			pc += opSize
		case xDivK:
			a /= o.k
			pc += opSize
		case xModK:
			a %= o.k
			pc += opSize
		case xAndK:
			a &= o.k
			pc += opSize
		case xOrK:
			a |= o.k
			pc += opSize
		case xXorK:
			a ^= o.k
			pc += opSize
		case xLshK:
			a <<= o.k
			pc += opSize
		case xRshK:
			a >>= o.k
			pc += opSize
		case xAddX:
			a += x
			pc += opSize
		case xSubX:
			a -= x
			pc += opSize
		case xMulX:
			a *= x
			pc += opSize
		case xDivX:
			if x == 0 {
				return 0
			}
			a /= x
			pc += opSize
		case xModX:
			if x == 0 {
				return 0
			}
			a %= x
			pc += opSize
		case xAndX:
			a &= x
			pc += opSize
		case xOrX:
			a |= x
			pc += opSize
		case xXorX:
			a ^= x
			pc += opSize
		case xLshX:
			a <<= x // Go gives 0 for x >= 32, as libpcap does
			pc += opSize
		case xRshX:
			a >>= x
			pc += opSize
		case xNeg:
			a = -a
			pc += opSize
		case xTax:
			x = a
			pc += opSize
		case xTxa:
			a = x
			pc += opSize
		case xAnc:
			if a, ok = ancillary(f.md, o.k); !ok {
				return 0
			}
			pc += opSize
		case xReject:
			return 0

		case xLdWJeq, xLdWJgt, xLdWJge, xLdWJset:
			if a, ok = abs32(p, n, o.k); !ok {
				return 0
			}
			pc = compare(o.code-xLdWJeq, a, o)
		case xLdHJeq:
			if a, ok = abs16(p, n, o.k); !ok {
				return 0
			}
			pc = pick(a == o.k2, o)
		case xLdHJgt, xLdHJge, xLdHJset:
			if a, ok = abs16(p, n, o.k); !ok {
				return 0
			}
			pc = compare(o.code-xLdHJeq, a, o)
		case xLdBJeq:
			if a, ok = abs8(p, n, o.k); !ok {
				return 0
			}
			pc = pick(a == o.k2, o)
		case xLdBJgt, xLdBJge, xLdBJset:
			if a, ok = abs8(p, n, o.k); !ok {
				return 0
			}
			pc = compare(o.code-xLdBJeq, a, o)
		case xMshWI:
			if x, ok = msh(p, n, o.k); !ok {
				return 0
			}
			o = (*op)(unsafe.Add(unsafe.Pointer(o), opSize))
			fallthrough
		case xLdWIJeq, xLdWIJgt, xLdWIJge, xLdWIJset:
			if a, ok = ind32(p, n, x, o.k); !ok {
				return 0
			}
			pc = compare(o.code-xLdWIJeq, a, o)
		case xMshHI:
			if x, ok = msh(p, n, o.k); !ok {
				return 0
			}
			o = (*op)(unsafe.Add(unsafe.Pointer(o), opSize))
			fallthrough
		case xLdHIJeq, xLdHIJgt, xLdHIJge, xLdHIJset:
			if a, ok = ind16(p, n, x, o.k); !ok {
				return 0
			}
			pc = compare(o.code-xLdHIJeq, a, o)
		case xMshBI:
			if x, ok = msh(p, n, o.k); !ok {
				return 0
			}
			o = (*op)(unsafe.Add(unsafe.Pointer(o), opSize))
			fallthrough
		case xLdBIJeq, xLdBIJgt, xLdBIJge, xLdBIJset:
			if a, ok = ind8(p, n, x, o.k); !ok {
				return 0
			}
			pc = compare(o.code-xLdBIJeq, a, o)
		case xLdLenJ:
			a = f.wireLen
			pc = compare(uint8(o.k3), a, o)
		case xJeqN:
			pc = chainN(v.cases, a, o)
		case xLdWJeqN:
			if a, ok = abs32(p, n, o.k); !ok {
				return 0
			}
			pc = chainN(v.cases, a, o)
		case xLdHJeqN:
			if a, ok = abs16(p, n, o.k); !ok {
				return 0
			}
			pc = chainN(v.cases, a, o)
		case xLdBJeqN:
			if a, ok = abs8(p, n, o.k); !ok {
				return 0
			}
			pc = chainN(v.cases, a, o)
		case xJeqJeq:
			pc = chain(a, o)
		case xLdWJeqJeq:
			if a, ok = abs32(p, n, o.k); !ok {
				return 0
			}
			pc = chain(a, o)
		case xLdHJeqJeq:
			if a, ok = abs16(p, n, o.k); !ok {
				return 0
			}
			pc = chain(a, o)
		case xLdBJeqJeq:
			if a, ok = abs8(p, n, o.k); !ok {
				return 0
			}
			pc = chain(a, o)
		case xLdWAndJeq, xLdWAndJgt, xLdWAndJge, xLdWAndJset:
			if a, ok = abs32(p, n, o.k); !ok {
				return 0
			}
			a &= o.k3
			pc = compare(o.code-xLdWAndJeq, a, o)
		case xLdHAndJeq, xLdHAndJgt, xLdHAndJge, xLdHAndJset:
			if a, ok = abs16(p, n, o.k); !ok {
				return 0
			}
			a &= o.k3
			pc = compare(o.code-xLdHAndJeq, a, o)
		case xLdBAndJeq, xLdBAndJgt, xLdBAndJge, xLdBAndJset:
			if a, ok = abs8(p, n, o.k); !ok {
				return 0
			}
			a &= o.k3
			pc = compare(o.code-xLdBAndJeq, a, o)
		default:
			panic("vm: corrupt translated program") // unreachable: translate emits only the codes above
		}
	}
}

// frame is the interpreter state that is not kept in registers.
type frame struct {
	mem     [bpfop.MemWords]uint32
	wireLen uint32
	back    int // backward jumps taken
	md      *Metadata
}

// pick returns the op's true or false target.
func pick(cond bool, o *op) uintptr {
	if cond {
		return uintptr(o.jt)
	}
	return uintptr(o.jf)
}

// chain evaluates a jeq chain: a == k2 goes to jt, a == k3 to jt2, any
// other value to jf.
func chain(a uint32, o *op) uintptr {
	switch a {
	case o.k2:
		return uintptr(o.jt)
	case o.k3:
		return uintptr(o.jt2)
	}
	return uintptr(o.jf)
}

// chainN evaluates a long jeq chain: the target of the first case equal
// to a, or jf.
func chainN(cases []jcase, a uint32, o *op) uintptr {
	for _, c := range cases[o.k3 : o.k3+uint32(o.jt2)] {
		if a == c.k {
			return uintptr(c.t)
		}
	}
	return uintptr(o.jf)
}

// compare evaluates fused comparison c (0 jeq, 1 jgt, 2 jge, 3 jset) of a
// against o.k2 and returns the next op.
func compare(c uint8, a uint32, o *op) uintptr {
	var cond bool
	switch c {
	case 0:
		cond = a == o.k2
	case 1:
		cond = a > o.k2
	case 2:
		cond = a >= o.k2
	default:
		cond = a&o.k2 != 0
	}
	return pick(cond, o)
}

// abs32 reads the big-endian word at k if the packet has all of it. k is
// below 2^31 (see absLoad), so k+4 cannot overflow.
func abs32(p unsafe.Pointer, n uint, k uint32) (uint32, bool) {
	if uint(k)+4 > n {
		return 0, false
	}
	return load32(p, uint(k)), true
}

// abs16 reads the big-endian half-word at k if the packet has it.
func abs16(p unsafe.Pointer, n uint, k uint32) (uint32, bool) {
	if uint(k)+2 > n {
		return 0, false
	}
	return load16(p, uint(k)), true
}

// abs8 reads the byte at k if the packet has it.
func abs8(p unsafe.Pointer, n uint, k uint32) (uint32, bool) {
	if uint(k) >= n {
		return 0, false
	}
	return load8(p, uint(k)), true
}

// ind32 reads the big-endian word at x+k, computed without overflow, if
// the packet has all of it.
func ind32(p unsafe.Pointer, n uint, x, k uint32) (uint32, bool) {
	off := uint64(x) + uint64(k)
	if off+4 > uint64(n) {
		return 0, false
	}
	return load32(p, uint(off)), true
}

// ind16 reads the big-endian half-word at x+k if the packet has it.
func ind16(p unsafe.Pointer, n uint, x, k uint32) (uint32, bool) {
	off := uint64(x) + uint64(k)
	if off+2 > uint64(n) {
		return 0, false
	}
	return load16(p, uint(off)), true
}

// ind8 reads the byte at x+k if the packet has it.
func ind8(p unsafe.Pointer, n uint, x, k uint32) (uint32, bool) {
	off := uint64(x) + uint64(k)
	if off >= uint64(n) {
		return 0, false
	}
	return load8(p, uint(off)), true
}

// msh computes ldx 4*([k]&0xf) if the packet has byte k.
func msh(p unsafe.Pointer, n uint, k uint32) (uint32, bool) {
	b, ok := abs8(p, n, k)
	return (b & 0xf) << 2, ok
}

// load32 reads the big-endian word at p+k; the caller has checked that
// the four bytes are inside the packet.
func load32(p unsafe.Pointer, k uint) uint32 {
	b := (*[4]byte)(unsafe.Add(p, k))
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// load16 reads the big-endian half-word at p+k, checked by the caller.
func load16(p unsafe.Pointer, k uint) uint32 {
	b := (*[2]byte)(unsafe.Add(p, k))
	return uint32(b[0])<<8 | uint32(b[1])
}

// load8 reads the byte at p+k, checked by the caller.
func load8(p unsafe.Pointer, k uint) uint32 {
	return uint32(*(*byte)(unsafe.Add(p, k)))
}
