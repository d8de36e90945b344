package store

import (
	"github.com/pkttap/pkttap/coloring"
	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
)

// Colorize sets each row's Color to the index of the first rule of set
// its packet matches, and leaves it nil when none does or the packet is
// ignored (Wireshark does not color ignored packets). It reads the rows'
// packets only. With the default options a rule is evaluated as a filter
// job evaluates a display filter; with others (checksums verified) on the
// packet's tree decoded with o, so "tcp.checksum.status == 0" (bad) can
// match only when checksums are verified, as in Wireshark.
func (s *Store) Colorize(rows []Row, set *coloring.Set, o dissect.Options) error {
	if len(rows) == 0 || len(set.Rules) == 0 {
		return nil
	}
	idx := make([]int, len(rows))
	for k, r := range rows {
		idx[k] = r.No - 1
	}
	recs, err := s.recordsAt(idx)
	if err != nil {
		return err
	}
	// Whether a rule reads stream records is the rule's, not the row's.
	matchers := make(map[*dfilter.Filter]displayMatcher, len(set.Rules))
	matcher := func(f *dfilter.Filter) displayMatcher {
		m, ok := matchers[f]
		if !ok {
			m = displayMatcher{f: f, s: s.ifStreams(f), r: s}
			matchers[f] = m
		}
		return m
	}
	sr := newSpoolReader(s.spool)
	for k := range recs {
		if rows[k].Ignored {
			continue
		}
		rec := &recs[k]
		data, err := sr.read(rec.DataOff, int(rec.CapLen))
		if err != nil {
			return err
		}
		var c int
		if o == (dissect.Options{}) {
			c = set.First(func(f *dfilter.Filter) bool {
				return matcher(f).Match(idx[k], rec.LinkType, data, int(rec.WireLen))
			})
		} else {
			var tree *dissect.Tree
			c = set.First(func(f *dfilter.Filter) bool {
				if tree == nil {
					po := o
					po.Stream = s.streamFor(idx[k])
					tree = po.Dissect(rec.LinkType, data, int(rec.WireLen))
				}
				return f.MatchTree(tree, idx[k]+1)
			})
		}
		if c >= 0 {
			rows[k].Color = &c
		}
	}
	return nil
}
