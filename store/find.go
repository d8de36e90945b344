package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/pcapio"
)

// findBatch is how many packets a search examines between looks at its
// deadline.
const findBatch = 256

// FindCursor is where a search (Wireshark's Find Packet) stands: it walks
// the displayed packets from the one after display position From (Next)
// or before it, wrapping around the ends, until it has examined every
// displayed packet (From itself last). At is the position to examine
// next, Checked how many it has examined.
type FindCursor struct {
	From    int  // display position the search starts after (Next) or before; -1 (Next) or the number displayed (not Next) for none
	Next    bool // forwards (Find Next) or backwards (Find Previous)
	At      int  // display position to examine next
	Checked int  // positions examined so far
}

// NewFindCursor returns the cursor of a search starting after (next) or
// before display position from, of displayed packets.
func NewFindCursor(from int, next bool, displayed int) FindCursor {
	c := FindCursor{From: from, Next: next, At: from - 1}
	if next {
		c.At = from + 1
	}
	c.At = c.wrap(c.At, displayed)
	return c
}

func (c FindCursor) wrap(at, displayed int) int {
	switch {
	case at >= displayed:
		return 0
	case at < 0:
		return max(displayed-1, 0)
	}
	return at
}

// String encodes the cursor's progress as "at.checked", for a client to
// resume the search with (ParseFindCursor).
func (c FindCursor) String() string { return strconv.Itoa(c.At) + "." + strconv.Itoa(c.Checked) }

// ParseFindCursor resumes the search from position from in the direction
// next at the progress s (FindCursor.String).
func ParseFindCursor(s string, from int, next bool) (FindCursor, error) {
	a, b, ok := strings.Cut(s, ".")
	at, err1 := strconv.Atoi(a)
	checked, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || at < 0 || checked < 0 {
		return FindCursor{}, fmt.Errorf("cursor %q is not one a search returned (at.checked)", s)
	}
	return FindCursor{From: from, Next: next, At: at, Checked: checked}, nil
}

// FindPacket is a packet a search looks at.
type FindPacket struct {
	Index    int // 0-based packet index
	LinkType pcapio.LinkType
	Data     []byte // captured bytes; valid during the call only
	WireLen  int
	Row      *Row // its row in the packet list, when the search asked for rows
	// Reassembled is the IP datagram the packet's fragment completes
	// (dissect.Options.Reassembled), nil when none.
	Reassembled *dissect.Reassembled
}

// FindMatch is where a match is in a packet: the bytes [Offset,
// Offset+Length) (Length 0: the packet as a whole) and, for a match in the
// details, the label of the line that matched.
type FindMatch struct {
	Offset int
	Length int
	Label  string
}

// FindResult is the outcome of one step of a search.
type FindResult struct {
	Found     bool
	Pos       int // display position of the packet found
	No        int // its number
	Match     FindMatch
	Wrapped   bool       // the search went past the last (first) displayed packet to find it
	Done      bool       // Found, or every displayed packet examined without a match
	Cursor    FindCursor // where to resume when not Done
	Displayed int        // packets displayed when the step ran
}

// Find examines the displayed packets (all, or those of j's filter as far
// as the job has got) from c on, with match, until one matches, all have
// been examined, or the deadline has passed (it examines one batch at
// least), so that one request never holds the server long on a large
// capture; the result's cursor resumes the search. withRows gives match
// each packet's row (list columns).
func (s *Store) Find(ctx context.Context, j *Job, c FindCursor, deadline time.Time, withRows bool, match func(p *FindPacket) (FindMatch, bool)) (FindResult, error) {
	displayed := s.Count()
	if j != nil {
		_, displayed = j.window(0, 0)
	}
	res := FindResult{Displayed: displayed, Cursor: c}
	sr := &spoolReader{f: s.spool, window: 256 << 10}
	notes := s.notes()
	var batch []byte // the packets of a batch, read in ascending order
	for first := true; c.Checked < displayed; first = false {
		if !first && (time.Now().After(deadline) || ctx.Err() != nil) {
			res.Cursor = c
			return res, nil
		}
		c.At = c.wrap(c.At, displayed)
		lo, hi := c.At, min(c.At+findBatch, displayed, c.At+displayed-c.Checked)
		if !c.Next {
			lo, hi = max(c.At-findBatch+1, 0, c.At-(displayed-c.Checked)+1), c.At+1
		}
		idx := make([]int, 0, hi-lo)
		if j == nil {
			for i := lo; i < hi; i++ {
				idx = append(idx, i)
			}
		} else {
			win, _ := j.window(lo, hi-lo)
			for _, i := range win {
				idx = append(idx, int(i))
			}
			if len(idx) != hi-lo {
				return res, errors.New("find: the filter's matches changed underneath")
			}
		}
		recs, err := s.recordsAt(idx)
		if err != nil {
			return res, err
		}
		var sums []summary
		if withRows {
			if sums, err = s.summaries(recs); err != nil {
				return res, err
			}
		}
		// Read the batch forwards (a Find Previous too), then look at it in
		// the search's direction.
		batch = batch[:0]
		ends := make([]int, len(recs))
		for k := range recs {
			data, err := sr.read(recs[k].DataOff, int(recs[k].CapLen))
			if err != nil {
				return res, err
			}
			batch = append(batch, data...)
			ends[k] = len(batch)
		}
		for n := 0; n < len(idx); n++ {
			k := n
			if !c.Next {
				k = len(idx) - 1 - n
			}
			rec := &recs[k]
			data := batch[ends[k]-int(rec.CapLen) : ends[k] : ends[k]]
			p := FindPacket{Index: idx[k], LinkType: rec.LinkType, Data: data, WireLen: int(rec.WireLen), Reassembled: s.reassembledFor(idx[k])}
			if withRows {
				row := makeRow(idx[k], rec, &sums[k])
				notes.decorate(&row, idx[k], sums[k].Comment)
				p.Row = &row
			}
			c.Checked++
			if m, ok := match(&p); ok {
				pos := lo + k
				res.Found, res.Done, res.Pos, res.No, res.Match, res.Cursor = true, true, pos, idx[k]+1, m, c
				res.Wrapped = c.Next && pos <= c.From || !c.Next && pos >= c.From
				return res, nil
			}
		}
		if c.Next {
			c.At = c.wrap(hi, displayed)
		} else {
			c.At = c.wrap(lo-1, displayed)
		}
	}
	res.Done, res.Cursor = true, c
	return res, nil
}
