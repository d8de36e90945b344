package bpfopt

import (
	"fmt"
	"slices"
	"sync"
)

// optimizer holds the state of one Optimize call.
type optimizer struct {
	vals       *valueTable
	src        *Sources // where merged instructions' origins go (nil: nowhere)
	stripping  bool     // copy blocks to drop statements redundant on one edge
	couldStrip bool     // stripping would have applied somewhere
	epoch      int      // visit mark of topo
	pullEpoch  int      // mark of the blocks one pullup call touched

	// Scratch storage reused across calls.
	order     []*block          // topo's result
	stack     []dfsFrame        // topo's search
	touched   []*block          // pullChain's blocks
	factBuf   [3]factSet        // computeFacts' intersections
	ne, anyOf []uint32          // decide's knowledge
	producer  []*Insn           // number's kept statement computing each value (with src)
	leader    []bool            // buildCFG's
	starts    []*block          // buildCFG's
	merged    map[uint64]*block // mergeIdentical's buckets

	// The edge thread simulated last, and the outcome.
	simFrom, simTo *block
	simState       state
	simOK          bool

	// The blocks: arena[:used] are in use, the rest free. Blocks are not
	// freed one by one: an optimization takes them from here and gives
	// them all back at its end.
	arena []*block
	used  int
}

// optimizers keeps optimizers between calls, so that a compile reuses
// the storage of an earlier one (blocks with their slices, the value
// table) instead of allocating it anew: most of a short program's
// optimization time was the allocator's.
var optimizers = sync.Pool{New: func() any { return &optimizer{vals: newValueTable()} }}

// maxPooledBlocks is the most blocks an optimizer may hold to go back to
// the pool: one that optimized a long program is left to the collector.
const maxPooledBlocks = 4096

// getOptimizer returns an optimizer ready for one optimization.
func getOptimizer(stripping bool, src *Sources) *optimizer {
	o := optimizers.Get().(*optimizer)
	o.stripping, o.couldStrip, o.src = stripping, false, src
	o.used = 0
	clear(o.producer)
	return o
}

// putOptimizer gives o back to the pool. Nothing o holds may be used
// after: the result of an optimization is copied out of its blocks.
func putOptimizer(o *optimizer) {
	if len(o.arena) > maxPooledBlocks || len(o.vals.exprs) > 4*maxPooledBlocks {
		return
	}
	o.src = nil
	for _, b := range o.arena[:o.used] {
		// Keep no pointers into the program just optimized.
		b.succ, b.rep, b.same = [2]*block{}, nil, nil
		clear(b.preds)
	}
	o.simFrom, o.simTo = nil, nil
	clear(o.order)
	clear(o.touched)
	clear(o.merged)
	optimizers.Put(o)
}

// maxRounds bounds the optimization rounds; each round that changes
// nothing ends the loop earlier, and programs converge in a few dozen.
const maxRounds = 200

// The budget of OptimizeWithin, in multiples of the length asked for
// (bpfop.MaxInsns for the compiler). Long or-lists shrink a lot: 1351
// ports on Ethernet are 17 times 4096 instructions unoptimized, 8 times
// after the first rounds, and 4096 at the end (pull-up and merging do the
// rest); the factors leave twice that room.
const (
	// MaxInputFactor bounds the input: longer programs are refused
	// before any work.
	MaxInputFactor = 32
	// giveUpFactor bounds the length after the first rounds: a program
	// still longer is refused.
	giveUpFactor = 16
	// workFactor bounds the work: the blocks visited over all rounds. A
	// program within the length asked for when the budget runs out is
	// returned as it is then; a longer one is refused.
	workFactor = 2048
	// stripFactor bounds the input the second strategy (block copying) is
	// tried on, unless the first result is too long.
	stripFactor = 4
)

// TooLongError is OptimizeWithin's refusal: the program cannot be
// brought within the length asked for, or not within the optimizer's
// budget.
type TooLongError struct {
	Len    int    // the program's length when the optimizer stopped
	Max    int    // the length asked for
	Final  bool   // Len is the length of the optimized program
	Reason string // where the optimizer stopped, when not Final
}

func (e *TooLongError) Error() string {
	if e.Final {
		return fmt.Sprintf("bpfopt: program of %d instructions after optimization, more than the %d asked for", e.Len, e.Max)
	}
	return fmt.Sprintf("bpfopt: program of %d instructions %s, more than the %d asked for", e.Len, e.Reason, e.Max)
}

// Optimize returns a program that returns the same value as prog for every
// packet, wire length and Linux ancillary data, and is never longer. The
// input may be longer than BPF_MAXINSNS (the limit applies to what is
// assembled); an otherwise invalid program (see [Validate]) is returned
// unchanged, for Assemble to report. Its time and memory grow with the
// input without a bound; [OptimizeWithin] bounds them.
func Optimize(prog []Insn) []Insn {
	out, _ := optimize(prog, 0, nil)
	return out
}

// OptimizeWithin is Optimize for a caller that refuses programs longer
// than maxLen (the compiler asks for bpfop.MaxInsns): its time and memory
// are bounded by a budget proportional to maxLen, and it returns a
// *TooLongError as soon as the result cannot fit: an input longer than
// MaxInputFactor × maxLen, a program still more than 16 × maxLen long
// once the first rounds have removed what is redundant, or still longer
// than maxLen when the budget of work runs out. A program that fits when
// the budget runs out is returned as it is then (valid, shorter than the
// input, maybe not as short as Optimize would make it). The second
// strategy of Optimize runs only on inputs of up to 4 × maxLen, or when
// the first result is too long by at most a quarter.
func OptimizeWithin(prog []Insn, maxLen int) ([]Insn, error) {
	return OptimizeMapped(prog, maxLen, nil)
}

// OptimizeMapped is OptimizeWithin keeping a source map: every instruction
// of the result carries the Src of the input instruction it comes from,
// and where the optimizer merges instructions (identical blocks, a
// statement that recomputes a value an earlier one computed, an operation
// folded into the comparison after it, a tax folded into indexed loads) the
// survivor's Src becomes the union of theirs in src. A nil src keeps the
// Src fields as they are without unions. The program is the same as
// OptimizeWithin's.
func OptimizeMapped(prog []Insn, maxLen int, src *Sources) ([]Insn, error) {
	if maxLen <= 0 {
		return nil, fmt.Errorf("bpfopt: length limit %d is not positive", maxLen)
	}
	if len(prog) > MaxInputFactor*maxLen {
		return nil, &TooLongError{Len: len(prog), Max: maxLen, Reason: fmt.Sprintf("before optimization (the optimizer takes at most %d)", MaxInputFactor*maxLen)}
	}
	out, err := optimize(prog, maxLen, src)
	if err != nil {
		return nil, err
	}
	if len(out) > maxLen {
		return nil, &TooLongError{Len: len(out), Max: maxLen, Final: true}
	}
	return out, nil
}

// optimize is Optimize, within the budget for maxLen when maxLen > 0.
func optimize(prog []Insn, maxLen int, src *Sources) ([]Insn, error) {
	// The input is returned as a copy where it stays; it is not copied
	// up front, which would add to the peak memory of a long program.
	if validateShape(prog) != nil || hasBackwardJump(prog) {
		// Loops (protochain) are left alone, as libpcap does.
		return slices.Clone(prog), nil
	}
	// Two strategies: plain, and with blocks copied where a path makes
	// their statements redundant; the shorter result wins (the first on a
	// tie), which keeps the outcome deterministic.
	out, couldStrip, err := optimizeWith(prog, false, maxLen, src)
	if err != nil {
		return nil, err
	}
	if couldStrip && (maxLen == 0 || len(prog) <= stripFactor*maxLen || (len(out) > maxLen && len(out) <= maxLen+maxLen/4)) {
		if alt, _, err := optimizeWith(prog, true, maxLen, src); err == nil && len(alt) < len(out) {
			out = alt
		}
	}
	if len(out) > len(prog) || validateShape(out) != nil {
		return slices.Clone(prog), nil
	}
	return out, nil
}

// optimizeWith runs the optimization rounds until nothing changes. It also
// reports whether the stripping strategy would have applied anywhere. With
// maxLen > 0 it keeps to OptimizeWithin's budget.
func optimizeWith(prog []Insn, stripping bool, maxLen int, src *Sources) ([]Insn, bool, error) {
	o := getOptimizer(stripping, src)
	defer putOptimizer(o)
	root := o.buildCFG(prog)
	work := 0
	// order is the topological order of the graph from root, and stale
	// says the graph changed since it was computed: topo is a function of
	// the graph, so an order still current is not computed again.
	var order []*block
	stale := true
	for round := 0; round < maxRounds; round++ {
		changed := false
		o.vals.reset()
		if stale {
			order = o.topo(root)
		}
		stale = false
		if maxLen > 0 {
			work += len(order)
			if round >= 2 || work > workFactor*maxLen {
				n := programLen(order)
				switch {
				case round >= 2 && n > giveUpFactor*maxLen:
					return nil, false, &TooLongError{Len: n, Max: maxLen, Reason: fmt.Sprintf("after %d rounds of optimization (the optimizer goes on below %d)", round, giveUpFactor*maxLen)}
				case work > workFactor*maxLen && n > maxLen:
					return nil, false, &TooLongError{Len: n, Max: maxLen, Reason: "when the optimizer's budget ran out"}
				case work > workFactor*maxLen:
					return emit(order), o.couldStrip, nil
				}
			}
		}
		if o.number(order) {
			changed = true
			order = o.topo(root)
		}
		o.computeFacts(order)
		if o.thread(order) {
			changed = true
			order = o.topo(root)
		}
		if eliminateDead(order) {
			changed = true
		}
		if peephole(order, o.src) {
			// A jump folded with its operation may have its branches
			// swapped, which changes the order.
			changed, stale = true, true
		}
		var c bool
		if root, c = bypass(root, order); c {
			changed = true
			order = o.topo(root)
			stale = false
		}
		if changed {
			continue
		}
		// Pull up tests of chains with the states and liveness of an
		// unchanged round.
		if o.pullup(order) {
			stale = true
			continue
		}
		// Merge identical blocks only once nothing else applies: a block
		// shared by several paths can no longer be threaded differently on
		// each of them.
		if root, c = o.mergeIdentical(root, order); !c {
			break
		}
		stale = true
	}
	return emit(o.topo(root)), o.couldStrip, nil
}

// programLen returns the length of the program emit would lay out, but
// for the gotos it elides.
func programLen(order []*block) int {
	n := 0
	for _, b := range order {
		n += len(b.stmts) + 1
	}
	return n
}
