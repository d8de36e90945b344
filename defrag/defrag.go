// Package defrag reassembles IPv4 and IPv6 datagrams from their fragments
// over a capture read in order, as Wireshark does with its default
// preferences (ip.defragment, ipv6.defragment): the packet whose fragment
// completes a datagram gets the datagram's payload, which dissect decodes
// in its place ([dissect.Options.Reassembled]); the other fragments show
// as fragments.
//
// Fragments are matched as Wireshark matches them: IPv4 by source,
// destination, protocol and Identification; IPv6 by source, destination
// and the Fragment Header's Identification. A fragment is taken only when
// its bytes were all captured and it is not inside an ICMP error
// ([dissect.Fragmented]). Overlapping fragments keep the bytes of the
// fragment with the lower offset (the first one seen at equal offsets), as
// Wireshark's reassembly copies them. Unlike Wireshark, the VLAN a
// fragment came on is not part of its key.
//
// The bytes of incomplete datagrams are held in memory up to
// [Table.MaxPending] bytes; beyond it the datagrams begun longest ago are
// dropped, so a capture full of fragments that never complete costs a
// bounded amount of memory.
package defrag

import (
	"bytes"
	"slices"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/pcapio"
)

// DefaultMaxPending is the bytes of incomplete datagrams a [Table] holds
// unless told otherwise.
const DefaultMaxPending = 32 << 20

// maxDatagram bounds a datagram's payload: an IPv6 fragment may start at
// offset 65528 and carry up to 65535 bytes.
const maxDatagram = 65528 + 65535

// Table holds the datagrams being reassembled. Feed it every packet of a
// capture in order with [Table.Add]; it is not safe for concurrent use.
// The zero value is not usable: call [New].
type Table struct {
	// MaxPending is the most bytes of fragments held for incomplete
	// datagrams.
	MaxPending int

	pending map[key]*datagram
	order   []begun // datagrams in the order they began, for eviction (some since completed)
	held    int
	started uint64
}

type key struct {
	src, dst [16]byte
	id       uint32
	proto    uint8 // IPv4 only
	ipv6     bool
}

// begun is a datagram's key and when it began.
type begun struct {
	k   key
	seq uint64
}

type datagram struct {
	seq   uint64 // when it began, to tell a stale order entry
	size  int    // the payload's length once the last fragment came, else -1
	frags []piece
	held  int
}

type piece struct {
	frame uint32
	off   int
	data  []byte
}

// New returns an empty table holding at most DefaultMaxPending bytes.
func New() *Table {
	return &Table{MaxPending: DefaultMaxPending, pending: map[key]*datagram{}}
}

// Add takes the packet numbered frame (from 1), captured on a link of type
// lt with its bytes and on-wire length. When the packet's fragment
// completes a datagram, Add returns the datagram's payload and its
// fragments; otherwise nil. The returned data does not alias data.
func (t *Table) Add(frame uint32, lt pcapio.LinkType, data []byte, wireLen int) *dissect.Reassembled {
	h, ok := dissect.Fragmented(lt, data, wireLen)
	if !ok {
		return nil
	}
	return t.AddFragment(frame, h, data[h.PayloadOffset:h.PayloadOffset+h.PayloadLength])
}

// AddFragment is [Table.Add] for a fragment already found: its header and
// its bytes.
func (t *Table) AddFragment(frame uint32, h dissect.FragmentHeader, payload []byte) *dissect.Reassembled {
	if h.Offset+len(payload) > maxDatagram {
		return nil
	}
	k := key{src: h.Src, dst: h.Dst, id: h.ID, ipv6: h.IPv6}
	if !h.IPv6 {
		k.proto = h.Proto
	}
	dg := t.pending[k]
	if dg == nil {
		t.started++
		dg = &datagram{seq: t.started, size: -1}
		t.pending[k] = dg
		t.order = append(t.order, begun{k, dg.seq})
	}
	p := piece{frame: frame, off: h.Offset, data: slices.Clone(payload)}
	// Keep the pieces in offset order, a later one after earlier ones at
	// the same offset.
	i := len(dg.frags)
	for i > 0 && dg.frags[i-1].off > p.off {
		i--
	}
	dg.frags = slices.Insert(dg.frags, i, p)
	dg.held += len(p.data)
	t.held += len(p.data)
	if !h.More && dg.size < 0 {
		dg.size = h.Offset + len(payload)
	}
	if r := dg.complete(); r != nil {
		t.drop(k, dg)
		return r
	}
	t.evict()
	return nil
}

// complete returns the reassembled datagram when its pieces cover its
// whole payload, else nil.
func (dg *datagram) complete() *dissect.Reassembled {
	if dg.size < 0 {
		return nil
	}
	covered := 0
	for _, p := range dg.frags {
		if p.off > covered {
			return nil // a gap
		}
		covered = max(covered, p.off+len(p.data))
	}
	if covered < dg.size {
		return nil
	}
	r := &dissect.Reassembled{Data: make([]byte, dg.size), Fragments: make([]dissect.Fragment, 0, len(dg.frags))}
	pos := 0
	for _, p := range dg.frags {
		f := dissect.Fragment{Frame: p.frame, Offset: p.off, Length: len(p.data)}
		end := min(p.off+len(p.data), dg.size)
		if p.off < pos { // bytes given already: the first copy stays
			f.Overlap = true
			seen := min(pos, end)
			f.Conflict = seen > p.off && !bytes.Equal(r.Data[p.off:seen], p.data[:seen-p.off])
		}
		if end > pos {
			copy(r.Data[pos:end], p.data[pos-p.off:])
			pos = end
		}
		r.Fragments = append(r.Fragments, f)
	}
	return r
}

func (t *Table) drop(k key, dg *datagram) {
	delete(t.pending, k)
	t.held -= dg.held
}

// evict drops the oldest incomplete datagrams while more than MaxPending
// bytes are held.
func (t *Table) evict() {
	for t.held > t.MaxPending && len(t.order) > 0 {
		b := t.order[0]
		t.order = t.order[1:]
		if dg := t.pending[b.k]; dg != nil && dg.seq == b.seq {
			t.drop(b.k, dg)
		}
	}
	if len(t.order) > 2*len(t.pending)+64 { // drop the completed ones' entries
		live := t.order[:0]
		for _, b := range t.order {
			if dg := t.pending[b.k]; dg != nil && dg.seq == b.seq {
				live = append(live, b)
			}
		}
		t.order = live
	}
}

// Pending returns how many datagrams are incomplete and the bytes their
// fragments hold.
func (t *Table) Pending() (datagrams, bytes int) { return len(t.pending), t.held }
