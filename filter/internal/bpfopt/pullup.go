package bpfopt

import "github.com/pkttap/pkttap/filter/internal/bpfop"

// maxPullHops bounds how many comparisons of other values a chain walk
// passes before it gives up on finding one of the value it pulls up, and
// how long a run of tests of that value already grouped it walks first; it
// keeps pullup linear on long chains that offer nothing to pull.
const maxPullHops = 16

// pullup groups the comparisons of one value in a chain of comparisons
// that share a target (libpcap's or_pullup and and_pullup). In
// "ldh [54]; jeq #1 -> T; ldh [56]; jeq #1 -> T; ldh [54]; jeq #2 -> T; ..."
// (the false edges link an or-chain, the true edges an and-chain) a test of
// the value a block just compared is moved up next to that block, without
// its statements: A already holds the value there, and the loads of the
// tests left behind become redundant. A long list of ports or hosts then
// loads each field once per protocol instead of once per term.
//
// The tests of a chain commute when they cannot fail: moving test p up
// past c1..ck changes the path only for packets where p's outcome leads to
// the shared target, so each ci must run without possibly rejecting the
// packet (its loads reach no further than what earlier loads proved, or
// hold a value already loaded), p's statements must not be able to fail
// where they were, the shared target must see the same values whichever
// of the tests sends it there (it may return A), and the block after p,
// which ck now jumps to directly, must read nothing p's statements change.
// Every block of the chain has a single predecessor, so no other path sees
// the change. Unlike libpcap's, the result returns what the input returns
// on truncated packets too: a comparison is not moved past a load that
// could fail, so "port 1 or port 2 or ..." keeps the first source and
// destination port tests in their order, and pulls up the rest.
//
// It needs the states and liveness of the current round, so it runs only
// once nothing else changed. It takes the blocks in topological order and
// neither starts from nor walks through a block a pull-up touched (the
// start, the chain, the target, which has new predecessors); a shared
// target or end stays usable as one. That keeps what a later pull-up reads
// exact: the liveness of its blocks, which come after its start, cannot
// depend on a change above them, the states after a change differ only in
// atoms no one reads, and the blocks it walks have their one predecessor.
// It reports whether it changed anything.
func (o *optimizer) pullup(order []*block) bool {
	o.pullEpoch++
	changed := false
	for _, b := range order {
		if !b.isCond() || b.pulled == o.pullEpoch {
			continue
		}
	edges:
		for d := 0; d < 2; d++ {
			for link := 1; link >= 0; link-- {
				if o.pullChain(b, d, link) {
					changed = true
					break edges
				}
			}
		}
	}
	return changed
}

// pullChain walks the chain that starts at b's branch d, linked by branch
// link of each block (1: false edges, an or-chain; 0: true edges, an
// and-chain), and moves up next to b every test of the value b compared
// that the chain allows (see pullup). It reports whether it moved any.
func (o *optimizer) pullChain(b *block, d, link int) bool {
	v := b.out.v[atomA]
	first := b.succ[d]
	if !first.isCond() {
		return false
	}
	target := first.succ[1-link]
	if !o.mayPull(first, target, link, v) {
		return false
	}
	// at's branch atDir is where the next pulled test goes; stAt is the
	// state there. st is the state after the last kept chain block, last.
	at, atDir := b, d
	stAt, st := b.out, b.out
	var last *block
	pulled := false
	touched := append(o.touched[:0], b, target)
	defer func() {
		if pulled {
			for _, t := range touched {
				t.pulled = o.pullEpoch
			}
		}
		o.touched = touched[:0]
	}()
	for cur, hops := first, 0; hops < maxPullHops; {
		if !o.inChain(cur, target, link) {
			break
		}
		touched = append(touched, cur)
		s, ok := o.simulateFrom(&st, cur)
		if !ok {
			break
		}
		next := cur.succ[link]
		if s.v[atomA] != v || bpfop.Src(cur.term.Op) != bpfop.SrcK {
			// A test of another value: part of the chain to pull past,
			// if the target sees the same whichever test sends it there.
			if !sameOn(target.liveIn, &s, &stAt) {
				break
			}
			st, last = s, cur
			cur = next
			hops++
			continue
		}
		if last == nil {
			// Already next to the test of the same value before it.
			at, atDir, stAt, st = cur, link, s, s
			cur = next
			continue
		}
		if !sameOn(target.liveIn, &s, &stAt) || !sameOn(next.liveIn, &s, &st) {
			break
		}
		np := o.newBlock()
		np.term = cur.term
		np.succ[link] = at.succ[atDir]
		np.succ[1-link] = target
		at.succ[atDir] = np
		last.succ[link] = next
		at, atDir = np, link
		cur = next
		hops = 0
		pulled = true
	}
	return pulled
}

// mayPull reports whether the chain from first has a test of v after one
// of another value within reach of the walk, judging by the values the
// blocks compare (exact for the blocks no pull-up touched this pass, the
// only ones the walk takes): most chains offer nothing, and this finds it
// out without simulating their statements.
func (o *optimizer) mayPull(first, target *block, link int, v vid) bool {
	other := false
	for cur, hops, run := first, 0, 0; hops < maxPullHops && run < maxPullHops; cur = cur.succ[link] {
		if !o.inChain(cur, target, link) {
			return false
		}
		if cur.testA != v || bpfop.Src(cur.term.Op) != bpfop.SrcK {
			other = true
			hops++
		} else if other {
			return true
		} else {
			// A run of tests of v already grouped: a walk from its
			// end finds what follows (this one would walk the run
			// from every block of it).
			run++
		}
	}
	return false
}

// inChain reports whether a walk along branch link may take cur: a test
// whose other branch goes to target, reached from one block only, and not
// touched by a pull-up of this pass.
func (o *optimizer) inChain(cur, target *block, link int) bool {
	return cur.isCond() && cur.succ[1-link] == target && len(cur.preds) == 1 && cur.pulled != o.pullEpoch
}

// simulateFrom runs s's statements from state st; it fails if one of them
// could reject the packet there.
func (o *optimizer) simulateFrom(st *state, s *block) (state, bool) {
	out := *st
	for _, in := range s.stmts {
		e := o.eval(&out, in)
		if e.canFail {
			return out, false
		}
		out.apply(e)
	}
	return out, true
}
