package filter

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// layoutLibpcap encodes the block graph exactly as libpcap's
// icode_to_fcode does for a program it does not optimize: the same block
// order as linearize, and a branch whose target is 256 or more
// instructions away goes through a BPF_JA placed right after it (one for
// the true edge, then one for the false edge), found by relaying out until
// no branch is too long. A program that grows longer than maxLen is
// refused with a *tooLongError as soon as it does (long jumps only add
// instructions), which keeps the relayouts few.
//
// It also returns each instruction's origin set (def where it has none; a
// long-jump BPF_JA gets its branch's).
func layoutLibpcap(root *block, maxLen int, def uint16, exitsOut *[][2]Exit) ([]bpf.RawInstruction, []uint16, error) {
	withExits := exitsOut != nil
	order := blockOrder(root)
	longJT := map[*block]bool{}
	longJF := map[*block]bool{}
	size := func(b *block) int {
		n := len(b.stmts) + 1
		if longJT[b] {
			n++
		}
		if longJF[b] {
			n++
		}
		return n
	}
	for {
		n := placeBlocks(order, size)
		if n > maxLen {
			return nil, nil, &tooLongError{n: n}
		}
		changed := false
		for _, b := range order { // the order libpcap checks them in
			if b.jt == nil {
				continue
			}
			br := b.offset + len(b.stmts)
			if b.jt.offset-br-1 >= 256 && !longJT[b] {
				longJT[b], changed = true, true
				break
			}
			if b.jf.offset-br-1 >= 256 && !longJF[b] {
				longJF[b], changed = true, true
				break
			}
		}
		if !changed {
			var exits [][2]Exit
			if withExits {
				exits = make([][2]Exit, n)
				*exitsOut = exits
			}
			return emitLibpcap(order, n, longJT, longJF, def, exits)
		}
	}
}

// tooLongError is layoutLibpcap's refusal of a program longer than asked.
type tooLongError struct{ n int }

func (e *tooLongError) Error() string {
	return fmt.Sprintf("program of %d instructions or more", e.n)
}

func emitLibpcap(order []*block, n int, longJT, longJF map[*block]bool, def uint16, exits [][2]Exit) ([]bpf.RawInstruction, []uint16, error) {
	prog := make([]bpf.RawInstruction, n)
	srcs := make([]uint16, n)
	for _, b := range order {
		for i, s := range b.stmts {
			srcs[b.offset+i] = orDefault(s.src, def)
			in := bpf.RawInstruction{Op: s.code, K: s.k}
			if isLocalJump(s) {
				jt, jf := localJumps(b, i)
				if jt < 0 || jt >= 256 || jf < 0 || jf >= 256 {
					return nil, nil, fmt.Errorf("block-local jump out of range")
				}
				in.Jt, in.Jf = uint8(jt), uint8(jf)
			}
			prog[b.offset+i] = in
		}
		br := b.offset + len(b.stmts)
		in := bpf.RawInstruction{Op: b.s.code, K: b.s.k}
		if b.jt != nil {
			extra := 0
			off := b.jt.offset - br - 1
			if longJT[b] {
				in.Jt = uint8(extra)
				extra++
				prog[br+extra] = bpf.RawInstruction{Op: opJA, K: uint32(off - extra)}
				srcs[br+extra] = orDefault(b.s.src, def)
			} else {
				in.Jt = uint8(off)
			}
			off = b.jf.offset - br - 1
			if longJF[b] {
				in.Jf = uint8(extra)
				extra++
				prog[br+extra] = bpf.RawInstruction{Op: opJA, K: uint32(off - extra)}
				srcs[br+extra] = orDefault(b.s.src, def)
			} else {
				in.Jf = uint8(off)
			}
		}
		prog[br] = in
		srcs[br] = orDefault(b.s.src, def)
		if exits != nil {
			exits[br] = [2]Exit{b.exitT, b.exitF}
		}
	}
	return prog, srcs, nil
}
