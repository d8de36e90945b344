package store

import (
	"context"
	"fmt"

	"github.com/pkttap/pkttap/pcapio"
)

// Which names the packets of a scope a PacketSet takes: the rows of
// Wireshark's Export Specified Packets dialog.
type Which int

// The packets a PacketSet takes.
const (
	WhichAll               Which = iota // every packet of the scope
	WhichSelected                       // those in Range, the packets selected in the list
	WhichMarked                         // the marked ones
	WhichFirstToLastMarked              // from the first marked one to the last, marked or not
	WhichRange                          // those in Range
)

var whichNames = [...]string{"all", "selected", "marked", "first-last-marked", "range"}

// String returns the name ParseWhich reads.
func (w Which) String() string { return whichNames[w] }

// ParseWhich reads a Which's name: all, selected, marked,
// first-last-marked or range.
func ParseWhich(name string) (Which, error) {
	for w, n := range whichNames {
		if n == name {
			return Which(w), nil
		}
	}
	return 0, fmt.Errorf("unknown packet set %q: all, selected, marked, first-last-marked or range", name)
}

// PacketSet names packets of a store as Wireshark's Export Specified
// Packets dialog does: a scope (the captured packets, or those displayed
// under a filter), which of them, and whether ignored ones are left out.
type PacketSet struct {
	Filter        *Job        // the scope is the packets matching its filter; nil: every packet
	Which         Which       // which packets of the scope
	Range         PacketRange // packet numbers, for WhichSelected and WhichRange
	RemoveIgnored bool        // leave ignored packets out
}

// Selection is the packets a PacketSet names.
type Selection struct {
	Indices []uint32 // 0-based packet indices, ascending
	Ignored int      // ignored packets among those the set names, whether left out or not
}

// Select waits until the packets of set's scope are known, as Download
// does, and returns those it names. Packets named by number alone (a range
// or the selection, of every packet) are those indexed so far, at once:
// marking a packet does not wait for a file's index pass to end.
func (s *Store) Select(ctx context.Context, set PacketSet) (Selection, error) {
	if set.Filter == nil && (set.Which == WhichRange || set.Which == WhichSelected) {
		idx := set.Range.indices(s.Count())
		return s.selectFrom(len(idx), func(k int) int { return int(idx[k]) }, set), nil
	}
	n, index, err := s.scope(ctx, set.Filter)
	if err != nil {
		return Selection{}, err
	}
	return s.selectFrom(n, index, set), nil
}

// selectFrom returns the packets set names among the n of its scope, the
// k-th of which has index index(k).
func (s *Store) selectFrom(n int, index func(int) int, set PacketSet) Selection {
	notes := s.notes()
	lo, hi := 0, n
	if set.Which == WhichFirstToLastMarked {
		lo, hi = 0, 0
		for k, found := 0, false; k < n; k++ {
			if notes.marked.has(index(k)) {
				if !found {
					lo, found = k, true
				}
				hi = k + 1
			}
		}
	}
	var sel Selection
	for k := lo; k < hi; k++ {
		i := index(k)
		switch set.Which {
		case WhichSelected, WhichRange:
			if !set.Range.Contains(i + 1) {
				continue
			}
		case WhichMarked:
			if !notes.marked.has(i) {
				continue
			}
		}
		if notes.ignored.has(i) {
			sel.Ignored++
			if set.RemoveIgnored {
				continue
			}
		}
		sel.Indices = append(sel.Indices, uint32(i))
	}
	return sel
}

// Export is Download for the packets set names (Wireshark's Export
// Specified Packets): it returns them ready to be written in format, and
// the selection.
func (s *Store) Export(ctx context.Context, set PacketSet, format pcapio.Format) (*Download, Selection, error) {
	d, err := s.Download(ctx, set.Filter, format)
	if err != nil {
		return nil, Selection{}, err
	}
	sel := s.selectFrom(d.n, d.index, set)
	d.n, d.index = len(sel.Indices), func(k int) int { return int(sel.Indices[k]) }
	return d, sel, nil
}

// Format returns the format the download is written in.
func (d *Download) Format() pcapio.Format { return d.opts.Format }
