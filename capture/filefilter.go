package capture

import (
	"fmt"
	"slices"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// newFileFilter prepares b's filter, compiled with opts, for a file whose
// interfaces read so far are ifs (none for a pcapng file with no interface
// before its first packet): a filter.Matcher, which compiles the
// expression once for each link type met (pcapng interfaces may differ),
// or runs a pre-compiled program on its own link type. The expression is
// compiled for the first interface's link type at once so that an invalid
// expression fails Open; it returns a nil matcher when b has no filter.
func newFileFilter(b Builder, opts filter.Options, ifs []pcapio.Interface) (*filter.Matcher, error) {
	known := len(ifs) > 0
	var lt pcapio.LinkType
	if known {
		lt = ifs[0].LinkType
	}
	if b.prog != nil {
		if known && !slices.ContainsFunc(ifs, func(i pcapio.Interface) bool { return i.LinkType == b.prog.LinkType }) {
			return nil, fmt.Errorf("capture: the filter program was compiled for link type %s, the file's is %s (compile it with filter.Options{LinkType: %s})", b.prog.LinkType, lt, lt)
		}
		m, err := filter.NewProgramMatcher(b.prog)
		if err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
		return m, nil
	}
	if isBlank(b.expr) {
		return nil, nil
	}
	m := filter.NewMatcher(b.expr, opts)
	if known {
		if err := m.Check(lt); err != nil {
			return nil, fmt.Errorf("capture: filter %q for link type %s: %w (see pcap-filter(7) for the syntax)", b.expr, lt, err)
		}
	}
	return m, nil
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
