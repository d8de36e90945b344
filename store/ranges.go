package store

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Limits of a packet range as a client writes it.
const (
	maxRangeText  = 4096 // bytes
	maxRangeParts = 1000
)

// ErrBadRange marks a packet range that cannot be read.
var ErrBadRange = errors.New("bad packet range")

// PacketRange is a set of packet numbers (1-based) as Wireshark writes it
// in its Export Specified Packets dialog: "1-10,15,20-", where "20-" runs to
// the last packet and "-5" from the first. The zero value is empty.
type PacketRange struct {
	spans []span // sorted, merged
}

// span is the packet numbers lo..hi; hi 0 runs to the last packet.
type span struct{ lo, hi int }

// ParseRange reads a packet range: parts separated by commas, each a packet
// number N, N-M, N- (to the last packet) or -M (from the first); spaces
// around parts and numbers are ignored, and N-M with N > M is M-N, as
// Wireshark takes it. The error names the part at fault and wraps
// ErrBadRange.
func ParseRange(text string) (PacketRange, error) {
	if len(text) > maxRangeText {
		return PacketRange{}, fmt.Errorf("%w: %d bytes long, more than %d", ErrBadRange, len(text), maxRangeText)
	}
	return parseRange(text, maxRangeParts)
}

// parseRange is ParseRange with at most maxParts parts (0: no limit).
func parseRange(text string, maxParts int) (PacketRange, error) {
	if strings.TrimSpace(text) == "" {
		return PacketRange{}, fmt.Errorf("%w: empty (write packet numbers such as 1-10,15,20-)", ErrBadRange)
	}
	parts := strings.Split(text, ",")
	if maxParts > 0 && len(parts) > maxParts {
		return PacketRange{}, fmt.Errorf("%w: %d parts, more than %d", ErrBadRange, len(parts), maxParts)
	}
	spans := make([]span, 0, len(parts))
	for i, part := range parts {
		p := strings.TrimSpace(part)
		if p == "" {
			return PacketRange{}, fmt.Errorf("%w: part %d is empty (two commas in a row, or one at an end)", ErrBadRange, i+1)
		}
		sp, err := parseSpan(p)
		if err != nil {
			return PacketRange{}, fmt.Errorf("%w: %q: %s", ErrBadRange, p, err)
		}
		spans = append(spans, sp)
	}
	return PacketRange{spans: mergeSpans(spans)}, nil
}

// parseSpan reads one part of a range.
func parseSpan(p string) (span, error) {
	lo, hi, dash := strings.Cut(p, "-")
	lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
	num := func(s string) (int, error) {
		n, err := strconv.ParseUint(s, 10, 32)
		switch {
		case errors.Is(err, strconv.ErrRange):
			return 0, fmt.Errorf("%s is larger than any packet number", s)
		case err != nil:
			return 0, fmt.Errorf("%q is not a packet number", s)
		case n == 0:
			return 0, errors.New("packet numbers start at 1, not 0")
		}
		return int(n), nil
	}
	if !dash {
		n, err := num(lo)
		return span{n, n}, err
	}
	if lo == "" && hi == "" {
		return span{}, errors.New("a dash needs a packet number on at least one side")
	}
	sp := span{lo: 1}
	var err error
	if lo != "" {
		if sp.lo, err = num(lo); err != nil {
			return span{}, err
		}
	}
	if hi != "" {
		if sp.hi, err = num(hi); err != nil {
			return span{}, err
		}
		if sp.hi < sp.lo {
			sp.lo, sp.hi = sp.hi, sp.lo
		}
	}
	return sp, nil
}

// mergeSpans sorts spans and joins those that overlap or touch.
func mergeSpans(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return a.lo - b.lo })
	out := spans[:0]
	for _, sp := range spans {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.hi == 0 || sp.lo <= last.hi+1 {
				if last.hi != 0 && (sp.hi == 0 || sp.hi > last.hi) {
					last.hi = sp.hi
				}
				continue
			}
		}
		out = append(out, sp)
	}
	return out
}

// Contains reports whether packet number no is in the range.
func (r PacketRange) Contains(no int) bool {
	i, _ := slices.BinarySearchFunc(r.spans, no, func(sp span, no int) int {
		switch {
		case sp.hi != 0 && sp.hi < no:
			return -1
		case sp.lo > no:
			return 1
		}
		return 0
	})
	return i < len(r.spans) && r.spans[i].lo <= no && (r.spans[i].hi == 0 || no <= r.spans[i].hi)
}

// IsEmpty reports whether the range holds no packet number.
func (r PacketRange) IsEmpty() bool { return len(r.spans) == 0 }

// String writes the range as ParseRange reads it, shortest first: "1-3,7,9-".
func (r PacketRange) String() string {
	var b strings.Builder
	for i, sp := range r.spans {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(sp.lo))
		switch {
		case sp.hi == 0:
			b.WriteByte('-')
		case sp.hi != sp.lo:
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(sp.hi))
		}
	}
	return b.String()
}

// indices returns the 0-based indices of the range's packets among n.
func (r PacketRange) indices(n int) []uint32 {
	var out []uint32
	for _, sp := range r.spans {
		hi := n
		if sp.hi != 0 {
			hi = min(sp.hi, n)
		}
		for no := sp.lo; no <= hi; no++ {
			out = append(out, uint32(no-1))
		}
	}
	return out
}
