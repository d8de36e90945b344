package vm

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// VM is a validated classic BPF program translated for fast execution.
// It is immutable and safe for concurrent use.
type VM struct {
	ops   []op
	cases []jcase
	prog  []bpf.RawInstruction
	// tests is the program as a chain of tests, when it is one (see
	// test); Run then runs them instead of ops.
	tests  []test
	accept uint32
	// exec is run or runTests, chosen once by New so that Run stays
	// small enough to be inlined into its caller.
	exec func(v *VM, data []byte, wireLen uint32, md *Metadata) uint32
}

// New validates prog and translates it. The error, a *ProgramError, names
// the first bad instruction.
func New(prog []bpf.RawInstruction) (*VM, error) {
	if err := validate(prog); err != nil {
		return nil, err
	}
	p := make([]bpf.RawInstruction, len(prog))
	copy(p, prog)
	ops, cases := translate(p)
	v := &VM{ops: ops, cases: cases, prog: p, exec: (*VM).run}
	if tests, accept, ok := testChain(ops); ok {
		v.tests, v.accept, v.exec = tests, accept, (*VM).runTests
	}
	return v, nil
}

// NewFromInstructions assembles prog and calls New.
func NewFromInstructions(prog []bpf.Instruction) (*VM, error) {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("vm: assemble: %w", err)
	}
	return New(raw)
}

// Program returns a copy of the program the VM runs.
func (v *VM) Program() []bpf.RawInstruction {
	p := make([]bpf.RawInstruction, len(v.prog))
	copy(p, v.prog)
	return p
}

// Run executes the program on a packet whose captured bytes are data and
// whose length on the wire was wireLen, and returns what libpcap's
// bpf_filter returns: the number of bytes to keep, 0 to drop the packet.
// Linux ancillary loads reject the packet, as in libpcap.
func (v *VM) Run(data []byte, wireLen int) uint32 {
	return v.exec(v, data, uint32(wireLen), nil)
}

// RunWithMetadata is Run with Linux ancillary loads (SKF_AD_*) answered
// from md, as the kernel answers them for a socket filter. A nil md makes
// it Run.
func (v *VM) RunWithMetadata(data []byte, wireLen int, md *Metadata) uint32 {
	return v.exec(v, data, uint32(wireLen), md)
}
