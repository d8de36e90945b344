package filter

import "github.com/pkttap/pkttap/filter/internal/bpfop"

// Whole opcodes the code generator and the layout name, built from the
// fields in bpfop.
const (
	opRetK = bpfop.ClassRET | bpfop.RvalK // ret #k
	opJA   = bpfop.ClassJMP | bpfop.OpJA  // ja k
)

// skfAdOffInt is SKF_AD_OFF as a signed offset (-4096), for the code
// generator's int offsets: it fits int on 32-bit platforms too, and it
// becomes the same instruction operand once converted to uint32.
const skfAdOffInt = bpfop.SKFAdOff - 1<<32
