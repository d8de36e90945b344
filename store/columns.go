package store

import (
	"errors"
	"fmt"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
)

// ErrNoField refuses a custom column of a name the registry does not have.
var ErrNoField = errors.New("no such field")

// CheckField returns ErrNoField, naming name, unless a custom column may
// show it: a field or protocol of dissect's registry.
func CheckField(name string) error {
	if _, ok := dissect.LookupField(name); !ok {
		return fmt.Errorf("column %q: %w (GET /api/fields lists them)", name, ErrNoField)
	}
	return nil
}

// FieldColumns returns, for each packet number of nos (1-based), the text
// of each field of names in it, as tshark's -T fields -e prints it:
// several occurrences joined by ',', "" for none. It dissects only those
// packets.
func (s *Store) FieldColumns(nos []int, names []string) ([][]string, error) {
	bases := make([]dissect.Base, len(names))
	for i, name := range names {
		if err := CheckField(name); err != nil {
			return nil, err
		}
		f, _ := dissect.LookupField(name)
		bases[i] = f.Base
	}
	idx := make([]int, len(nos))
	for k, no := range nos {
		if no < 1 || no > s.Count() {
			return nil, fmt.Errorf("packet %d: %w", no, ErrNoPacket)
		}
		idx[k] = no - 1
	}
	recs, err := s.recordsAt(idx)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(nos))
	var b []byte
	for k := range recs {
		data, err := s.packetData(&recs[k])
		if err != nil {
			return nil, err
		}
		tree := dissect.Dissect(recs[k].LinkType, data, int(recs[k].WireLen))
		row := make([]string, len(names))
		for i, vals := range dfilter.FieldValues(tree, nos[k], names) {
			b = dfilter.AppendFieldText(b[:0], vals, bases[i])
			row[i] = string(b)
		}
		out[k] = row
	}
	return out, nil
}
