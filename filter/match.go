package filter

import (
	"fmt"

	"github.com/pkttap/pkttap/filter/vm"
)

// Matcher returns a userspace VM running the program. It never fails for
// a program made by Compile; it panics if p was altered into an invalid
// program.
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
