package platform

import (
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/pcapio"
)

// programFor returns the program to install for a capture of link type lt:
// what filterFor (which may be nil) gives, prepared by kernelProgram.
func programFor(filterFor func(pcapio.LinkType) ([]bpf.RawInstruction, error), lt pcapio.LinkType, snaplen int) ([]bpf.RawInstruction, error) {
	var prog []bpf.RawInstruction
	if filterFor != nil {
		p, err := filterFor(lt)
		if err != nil {
			return nil, fmt.Errorf("filter for %s: %w", lt, err)
		}
		prog = p
	}
	return kernelProgram(prog, snaplen), nil
}

// opRetK is the opcode of "ret #k" (BPF_RET|BPF_K).
const opRetK = 0x06

// kernelProgram returns the program to install in the kernel for a capture
// with the given snap length: a copy of prog whose "ret #k" accept values
// are capped at snaplen (the kernel copies the returned number of bytes, and
// no more than snaplen are kept), or "ret #snaplen" when prog is empty. The
// verdicts (zero or not) are unchanged.
func kernelProgram(prog []bpf.RawInstruction, snaplen int) []bpf.RawInstruction {
	if len(prog) == 0 {
		return []bpf.RawInstruction{{Op: opRetK, K: uint32(snaplen)}}
	}
	out := make([]bpf.RawInstruction, len(prog))
	copy(out, prog)
	for i := range out {
		if out[i].Op == opRetK && out[i].K > uint32(snaplen) {
			out[i].K = uint32(snaplen)
		}
	}
	return out
}
