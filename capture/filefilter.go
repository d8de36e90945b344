package capture

import (
	"fmt"
	"slices"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/pcapio"
)

// fileFilter runs a filter in the userspace VM on packets read from a file.
// An expression is compiled once for each link type met (pcapng interfaces
// may differ); a pre-compiled program runs on every packet as it is.
type fileFilter struct {
	expr string
	opts filter.Options // LinkType set for each link type met
	// lastLT/lastVM cache the most recent link type's program, the common
	// case; byLT holds the others (a nil VM: the expression cannot apply
	// to that link type, so no packet of it matches).
	lastLT pcapio.LinkType
	lastVM *vm.VM
	byLT   map[pcapio.LinkType]*vm.VM
}

// newFileFilter prepares b's filter, compiled with opts, for a file whose
// interfaces read so far are ifs (none for a pcapng file with no interface
// before its first packet). The expression is compiled for the first
// interface's link type at once so that an invalid expression fails Open;
// it returns a nil filter when b has none.
func newFileFilter(b Builder, opts filter.Options, ifs []pcapio.Interface) (packetFilter, error) {
	known := len(ifs) > 0
	var lt pcapio.LinkType
	if known {
		lt = ifs[0].LinkType
	}
	if b.prog != nil {
		if known && !slices.ContainsFunc(ifs, func(i pcapio.Interface) bool { return i.LinkType == b.prog.LinkType }) {
			return nil, fmt.Errorf("capture: the filter program was compiled for link type %s, the file's is %s (compile it with filter.Options{LinkType: %s})", b.prog.LinkType, lt, lt)
		}
		m, err := vm.New(b.prog.Raw)
		if err != nil {
			return nil, fmt.Errorf("capture: the filter program is not valid classic BPF (compile it with filter.Compile): %w", err)
		}
		return programFilter{m: m, lt: b.prog.LinkType}, nil
	}
	if isBlank(b.expr) {
		return nil, nil
	}
	f := &fileFilter{expr: b.expr, opts: opts, byLT: map[pcapio.LinkType]*vm.VM{}}
	if !known {
		f.lastLT = ^pcapio.LinkType(0) // compile for the first packet's
		return f, nil
	}
	m, err := f.compile(lt)
	if err != nil {
		return nil, err
	}
	f.lastLT, f.lastVM, f.byLT[lt] = lt, m, m
	return f, nil
}

// compile compiles the expression for packets of link type lt.
func (f *fileFilter) compile(lt pcapio.LinkType) (*vm.VM, error) {
	opts := f.opts
	opts.LinkType = lt
	prog, err := filter.Compile(f.expr, opts)
	if err != nil {
		return nil, fmt.Errorf("capture: filter %q for link type %s: %w (see pcap-filter(7) for the syntax)", f.expr, lt, err)
	}
	m, err := vm.New(prog.Raw)
	if err != nil {
		return nil, fmt.Errorf("capture: filter %q for link type %s compiled to an invalid program (a compiler bug; please report it): %w", f.expr, lt, err)
	}
	return m, nil
}

func (f *fileFilter) match(lt pcapio.LinkType, data []byte, wireLen int) bool {
	if lt != f.lastLT {
		m, ok := f.byLT[lt]
		if !ok {
			// A later interface's link type: an expression that cannot be
			// compiled for it (e.g. "ether host" on raw IP) matches none of
			// its packets.
			m, _ = f.compile(lt)
			f.byLT[lt] = m
		}
		f.lastLT, f.lastVM = lt, m
	}
	return f.lastVM != nil && f.lastVM.Run(data, wireLen) != 0
}

// programFilter runs a pre-compiled program on the packets of the link type
// it was compiled for; it matches no packet of another link type (which a
// pcapng file may also hold).
type programFilter struct {
	m  *vm.VM
	lt pcapio.LinkType
}

func (f programFilter) match(lt pcapio.LinkType, data []byte, wireLen int) bool {
	return lt == f.lt && f.m.Run(data, wireLen) != 0
}

// isBlank reports whether expr has nothing but blanks, which means no filter.
func isBlank(expr string) bool {
	for _, r := range expr {
		switch r {
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return true
}
