package platform

import "golang.org/x/net/bpf"

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
