package capture

import (
	"fmt"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// MaxSnaplen is the largest snap length, libpcap's MAXIMUM_SNAPLEN
// (pcapio.MaxSnaplen, 262144). A snap length of 0 means MaxSnaplen wherever
// pkttap takes one, as tcpdump's -s 0 does; it is also the snap length of a
// live capture whose builder does not set one.
const MaxSnaplen = pcapio.MaxSnaplen

// Builder describes a capture to open: made by Live or FromFile, refined
// with its methods, opened with Open. A Builder is a value: each method
// returns a changed copy, so one base description can be reused.
type Builder struct {
	live    bool
	name    string // interface name or file path
	promisc bool
	snaplen int
	snapSet bool // Snaplen was called (a file is otherwise never cut)
	expr    string
	prog    *filter.Program
}

// FromFile describes a capture read from a .pcap or .pcapng file (the format
// is told by the file's first bytes, not its name); "-" reads standard input
// (which Close leaves open, so Close does not wake a Next blocked on it).
func FromFile(path string) Builder {
	return Builder{name: path}
}

// Snaplen sets the most bytes kept of each packet; 0 means MaxSnaplen. A cut
// packet keeps its on-wire length. A live capture keeps MaxSnaplen bytes
// unless Snaplen says otherwise; a file keeps every byte it holds unless
// Snaplen is called, which cuts its packets as it cuts live ones.
func (b Builder) Snaplen(n int) Builder {
	b.snaplen, b.snapSet = n, true
	return b
}

// Filter sets a tcpdump filter expression (pcap-filter(7)) that packets must
// match; "" means no filter. It replaces a program set by FilterProgram.
func (b Builder) Filter(expr string) Builder {
	b.expr, b.prog = expr, nil
	return b
}

// FilterProgram sets a program compiled beforehand by filter.Compile; nil
// means no filter. It replaces an expression set by Filter. The program is
// not modified, so one program can serve any number of captures at once.
// It must be compiled for the capture's link type (Open fails otherwise)
// and, for a live capture on Linux, with filter.TargetLinuxSocket. In a
// pcapng file with interfaces of several link types, packets of the other
// link types do not match it.
func (b Builder) FilterProgram(p *filter.Program) Builder {
	b.prog, b.expr = p, ""
	return b
}

// effectiveSnaplen validates and resolves the snap length.
func (b Builder) effectiveSnaplen() (int, error) {
	if b.snaplen < 0 {
		return 0, fmt.Errorf("capture: snaplen %d is negative: use a positive length, or 0 for the maximum (%d)", b.snaplen, MaxSnaplen)
	}
	return resolveSnaplen(b.snaplen), nil
}

// resolveSnaplen returns the snap length n asks for: n, or MaxSnaplen when
// n is 0 (or out of range), as in captures, their filters and dumps alike.
func resolveSnaplen(n int) int {
	if n <= 0 || n > MaxSnaplen {
		return MaxSnaplen
	}
	return n
}

// Open starts the capture. For a live capture the filter is installed in
// the operating system before the first packet is read. Errors: see the
// package documentation.
func (b Builder) Open() (*Capture, error) {
	snaplen, err := b.effectiveSnaplen()
	if err != nil {
		return nil, err
	}
	if b.live {
		return openLive(b, snaplen)
	}
	return openFile(b, snaplen)
}
