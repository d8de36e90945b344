package filter

import (
	"encoding/binary"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/pcapio"
)

// Matcher returns a userspace VM running the program. It never fails for
// a program made by Compile; it panics if p was altered into an invalid
// program. To filter packets of several link types (a pcapng file, a
// capture's spool), use a [Matcher] instead: it compiles an expression
// once for each link type.
func (p *Program) Matcher() *vm.VM {
	v, err := vm.New(p.Raw)
	if err != nil {
		panic(fmt.Sprintf("filter: compiled program is invalid: %v", err))
	}
	return v
}

// Match runs the program on one packet (captured bytes data, on-wire length
// wireLen) and returns what libpcap's bpf_filter would: the number of bytes
// to keep, 0 to reject. For many packets, keep a Matcher instead.
func (p *Program) Match(data []byte, wireLen int) uint32 {
	return p.Matcher().Run(data, wireLen)
}

// FileOptions are the options libpcap compiles a filter with for a capture
// file whose bytes are in order order (nil when not known yet): the
// userspace target, in the file's byte order (it matters for NULL's
// address family word). LinkType is left for the caller, or for a
// [Matcher], to set.
func FileOptions(order binary.ByteOrder, snaplen int) Options {
	return Options{Snaplen: snaplen, Target: TargetFile, SavefileByteOrder: order}
}

// Matcher runs one filter on packets of any link type, as a pcapng file or
// a capture's spool holds them: the expression is compiled, with the
// Matcher's options and the packet's link type, the first time a link type
// is met, and its program runs in the userspace VM of package filter/vm.
// A link type the expression does not compile for (e.g. "ether host" on
// raw IP) matches none of its packets, as libpcap's "expression rejects
// all packets". A Matcher is safe for concurrent use; each link type is
// compiled once however many goroutines match with it.
type Matcher struct {
	expr string
	opts Options
	gate func() (release func(), err error)
	// fixed: the matcher runs one program on its link type, fixedLT, only
	// (made by NewProgramMatcher) and compiles nothing.
	fixed   bool
	fixedLT pcapio.LinkType

	// last caches the most recent link type's VM, the common case, so that
	// Match takes no lock.
	last atomic.Pointer[ltProgram]

	insns atomic.Int64 // instructions of every program compiled

	// byLT maps each link type met to its program: a map never changed
	// once stored (a new link type stores a copy), so lookups take no
	// lock; mu is held while compiling.
	byLT atomic.Pointer[map[pcapio.LinkType]*ltProgram]
	mu   sync.Mutex
}

// ltProgram is the outcome of compiling for one link type: a VM, or the
// error that left none.
type ltProgram struct {
	lt  pcapio.LinkType
	vm  *vm.VM
	err error
}

// NewMatcher returns a Matcher for expr compiled with opts (whose LinkType
// it replaces with each packet's). Nothing is compiled until a link type
// is asked for: call [Matcher.Check] to have a bad expression fail early.
// An empty or all-blank expression matches every packet.
func NewMatcher(expr string, opts Options) *Matcher {
	m := &Matcher{expr: expr, opts: opts}
	m.byLT.Store(&map[pcapio.LinkType]*ltProgram{})
	return m
}

// NewProgramMatcher returns a Matcher that runs the compiled program p on
// the packets of the link type p was compiled for, and matches no packet of
// another link type.
func NewProgramMatcher(p *Program) (*Matcher, error) {
	v, err := vm.New(p.Raw)
	if err != nil {
		return nil, fmt.Errorf("filter: the program is not valid classic BPF (compile it with filter.Compile): %w", err)
	}
	c := &ltProgram{lt: p.LinkType, vm: v}
	m := &Matcher{expr: p.Expr, fixed: true, fixedLT: p.LinkType}
	m.byLT.Store(&map[pcapio.LinkType]*ltProgram{p.LinkType: c})
	m.insns.Store(int64(len(p.Raw)))
	m.last.Store(c)
	return m, nil
}

// WithGate makes every compile of m wait for gate, which returns the
// function that ends the wait's hold (a server bounds the compiles it runs
// at once so), or an error that fails that compile: its link type then
// matches nothing. It returns m. Call it before m is used.
func (m *Matcher) WithGate(gate func() (release func(), err error)) *Matcher {
	m.gate = gate
	return m
}

// Expr returns the matcher's expression.
func (m *Matcher) Expr() string { return m.expr }

// Check compiles the expression for link type lt (once, as a packet of
// that link type would) and returns the compile error, a *Error with the
// column of the fault for a bad expression. It does not wait for the gate
// (see WithGate): its caller holds what the gate would give.
func (m *Matcher) Check(lt pcapio.LinkType) error { return m.programFor(lt, false).err }

// VM returns the program for packets of link type lt, compiling it the
// first time; nil and the compile error when the expression does not
// compile for lt.
func (m *Matcher) VM(lt pcapio.LinkType) (*vm.VM, error) {
	c := m.programFor(lt, true)
	return c.vm, c.err
}

// Instructions returns the number of instructions of every program the
// matcher has compiled so far (a measure of the memory it holds).
func (m *Matcher) Instructions() int { return int(m.insns.Load()) }

// Match reports whether the packet with captured bytes data, on-wire length
// wireLen and link type lt passes the filter.
func (m *Matcher) Match(lt pcapio.LinkType, data []byte, wireLen int) bool {
	c := m.last.Load()
	if c == nil || c.lt != lt {
		c = m.programFor(lt, true)
		m.last.Store(c)
	}
	return c.vm != nil && c.vm.Run(data, wireLen) != 0
}

// programFor returns the outcome of compiling for lt, compiling the first
// time (through the gate when gated).
func (m *Matcher) programFor(lt pcapio.LinkType, gated bool) *ltProgram {
	if c, ok := (*m.byLT.Load())[lt]; ok {
		return c
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.byLT.Load()
	if c, ok := old[lt]; ok {
		return c // compiled while this call waited
	}
	c := &ltProgram{lt: lt}
	switch {
	case m.fixed:
		c.err = fmt.Errorf("filter: the program was compiled for link type %s, not %s", m.fixedLT, lt)
	default:
		c.vm, c.err = m.compile(lt, gated)
	}
	if c.vm != nil {
		m.insns.Add(int64(len(c.vm.Program())))
	}
	byLT := maps.Clone(old)
	byLT[lt] = c
	m.byLT.Store(&byLT)
	return c
}

// compile compiles the expression for lt, through the gate when gated and
// there is one.
func (m *Matcher) compile(lt pcapio.LinkType, gated bool) (*vm.VM, error) {
	if gated && m.gate != nil {
		release, err := m.gate()
		if err != nil {
			return nil, err
		}
		defer release()
	}
	opts := m.opts
	opts.LinkType = lt
	prog, err := Compile(m.expr, opts)
	if err != nil {
		return nil, err
	}
	v, err := vm.New(prog.Raw)
	if err != nil {
		return nil, fmt.Errorf("filter: %q for link type %s ltProgram to an invalid program (a compiler bug; please report it): %w", m.expr, lt, err)
	}
	return v, nil
}
