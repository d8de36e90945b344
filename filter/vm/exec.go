package vm

import "encoding/binary"

// loopSlack is how many backward jumps a packet may take beyond one per
// captured byte before the program is deemed to loop forever.
const loopSlack = 4096

// run is the interpreter. Every op index it reaches was checked by
// validate, and every packet access is bounds-checked here, so no program
// accepted by New can make it panic.
func (v *VM) run(data []byte, wireLen uint32, md *Metadata) uint32 {
	ops := v.ops
	var a, x uint32
	var mem [memWords]uint32
	budget := len(data) + loopSlack
	n := uint(len(data))
	pc := 0
	for {
		o := &ops[pc]
		switch o.code {
		case xRetK:
			return o.k
		case xRetA:
			return a
		case xLdW:
			k := uint(o.k)
			if k+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(data[k:])
			pc++
		case xLdH:
			k := uint(o.k)
			if k+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(data[k:]))
			pc++
		case xLdB:
			k := uint(o.k)
			if k >= n {
				return 0
			}
			a = uint32(data[k])
			pc++
		case xLdWI:
			k := uint64(x) + uint64(o.k)
			if k+4 > uint64(n) {
				return 0
			}
			a = binary.BigEndian.Uint32(data[k:])
			pc++
		case xLdHI:
			k := uint64(x) + uint64(o.k)
			if k+2 > uint64(n) {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(data[k:]))
			pc++
		case xLdBI:
			k := uint64(x) + uint64(o.k)
			if k >= uint64(n) {
				return 0
			}
			a = uint32(data[k])
			pc++
		case xLdLen:
			a = wireLen
			pc++
		case xLdImm:
			a = o.k
			pc++
		case xLdMem:
			a = mem[o.k&(memWords-1)]
			pc++
		case xLdxImm:
			x = o.k
			pc++
		case xLdxMem:
			x = mem[o.k&(memWords-1)]
			pc++
		case xLdxLen:
			x = wireLen
			pc++
		case xLdxMsh:
			k := uint(o.k)
			if k >= n {
				return 0
			}
			x = uint32(data[k]&0xf) << 2
			pc++
		case xSt:
			mem[o.k&(memWords-1)] = a
			pc++
		case xStx:
			mem[o.k&(memWords-1)] = x
			pc++
		case xJa:
			pc = int(o.jt)
		case xJaBack:
			budget--
			if budget < 0 {
				return 0
			}
			pc = int(o.jt)
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
			pc++
		case xSubK:
			a -= o.k
			pc++
		case xMulK:
			a *= o.k
			pc++
		case xDivK:
			a /= o.k
			pc++
		case xModK:
			a %= o.k
			pc++
		case xAndK:
			a &= o.k
			pc++
		case xOrK:
			a |= o.k
			pc++
		case xXorK:
			a ^= o.k
			pc++
		case xLshK:
			a <<= o.k
			pc++
		case xRshK:
			a >>= o.k
			pc++
		case xAddX:
			a += x
			pc++
		case xSubX:
			a -= x
			pc++
		case xMulX:
			a *= x
			pc++
		case xDivX:
			if x == 0 {
				return 0
			}
			a /= x
			pc++
		case xModX:
			if x == 0 {
				return 0
			}
			a %= x
			pc++
		case xAndX:
			a &= x
			pc++
		case xOrX:
			a |= x
			pc++
		case xXorX:
			a ^= x
			pc++
		case xLshX:
			a <<= x // Go gives 0 for x >= 32, as libpcap does
			pc++
		case xRshX:
			a >>= x
			pc++
		case xNeg:
			a = -a
			pc++
		case xTax:
			x = a
			pc++
		case xTxa:
			a = x
			pc++
		case xAnc:
			val, ok := ancillary(md, o.k)
			if !ok {
				return 0
			}
			a = val
			pc++
		case xReject:
			return 0

		case xLdWJeq, xLdWJgt, xLdWJge, xLdWJset:
			k := uint(o.k)
			if k+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(data[k:])
			pc = compare(o.code-xLdWJeq, a, o)
		case xLdHJeq:
			k := uint(o.k)
			if k+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(data[k:]))
			pc = pick(a == o.k2, o)
		case xLdHJgt, xLdHJge, xLdHJset:
			k := uint(o.k)
			if k+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(data[k:]))
			pc = compare(o.code-xLdHJeq, a, o)
		case xLdBJeq:
			k := uint(o.k)
			if k >= n {
				return 0
			}
			a = uint32(data[k])
			pc = pick(a == o.k2, o)
		case xLdBJgt, xLdBJge, xLdBJset:
			k := uint(o.k)
			if k >= n {
				return 0
			}
			a = uint32(data[k])
			pc = compare(o.code-xLdBJeq, a, o)
		case xLdWIJeq, xLdWIJgt, xLdWIJge, xLdWIJset:
			k := uint64(x) + uint64(o.k)
			if k+4 > uint64(n) {
				return 0
			}
			a = binary.BigEndian.Uint32(data[k:])
			pc = compare(o.code-xLdWIJeq, a, o)
		case xLdHIJeq, xLdHIJgt, xLdHIJge, xLdHIJset:
			k := uint64(x) + uint64(o.k)
			if k+2 > uint64(n) {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(data[k:]))
			pc = compare(o.code-xLdHIJeq, a, o)
		case xLdBIJeq, xLdBIJgt, xLdBIJge, xLdBIJset:
			k := uint64(x) + uint64(o.k)
			if k >= uint64(n) {
				return 0
			}
			a = uint32(data[k])
			pc = compare(o.code-xLdBIJeq, a, o)
		default:
			panic("vm: corrupt translated program") // unreachable: translate emits only the codes above
		}
	}
}

// pick returns the op's true or false target.
func pick(cond bool, o *op) int {
	if cond {
		return int(o.jt)
	}
	return int(o.jf)
}

// compare evaluates fused comparison c (0 jeq, 1 jgt, 2 jge, 3 jset) of a
// against o.k2 and returns the next op.
func compare(c uint8, a uint32, o *op) int {
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
