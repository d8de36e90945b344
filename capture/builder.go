package capture

import "fmt"

// DefaultSnaplen is the snap length of a capture whose builder does not set
// one: packets longer than this are cut and report IsTruncated.
const DefaultSnaplen = 65535

// MaxSnaplen is the largest snap length, libpcap's; Snaplen(0) selects it,
// as tcpdump's -s 0 does.
const MaxSnaplen = 262144

// Builder describes a capture to open: made by FromFile, refined with its
// methods, opened with Open. A Builder is a value: each method returns a
// changed copy, so one base description can be reused.
type Builder struct {
	name    string // file path
	snaplen int
}

// FromFile describes a capture read from a .pcap or .pcapng file (the format
// is told by the file's first bytes, not its name); "-" reads standard input.
func FromFile(path string) Builder {
	return Builder{name: path, snaplen: DefaultSnaplen}
}

// Snaplen sets the most bytes kept of each packet (default DefaultSnaplen);
// 0 means MaxSnaplen. A cut packet keeps its on-wire length.
func (b Builder) Snaplen(n int) Builder {
	b.snaplen = n
	return b
}

// effectiveSnaplen validates and resolves the snap length.
func (b Builder) effectiveSnaplen() (int, error) {
	switch {
	case b.snaplen < 0:
		return 0, fmt.Errorf("capture: snaplen %d is negative: use a positive length, or 0 for the maximum (%d)", b.snaplen, MaxSnaplen)
	case b.snaplen == 0 || b.snaplen > MaxSnaplen:
		return MaxSnaplen, nil
	}
	return b.snaplen, nil
}

// Open starts the capture. Errors: see the package documentation.
func (b Builder) Open() (*Capture, error) {
	snaplen, err := b.effectiveSnaplen()
	if err != nil {
		return nil, err
	}
	return openFile(b, snaplen)
}
