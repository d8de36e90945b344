package store

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
)

// The packet list's built-in columns, as a sort names them. Any other
// column is a field of dissect's registry (a custom column).
const (
	ColumnNo       = "no"
	ColumnTime     = "time"
	ColumnSource   = "src"
	ColumnDest     = "dst"
	ColumnProtocol = "proto"
	ColumnLength   = "len"
	ColumnInfo     = "info"
	// ColumnInterface sorts by a packet's interface (Row.Iface): its
	// source in a live capture of several.
	ColumnInterface = "iface"
)

// ErrSortColumn refuses a sort by a column that is neither a built-in one
// nor a field of the registry.
var ErrSortColumn = errors.New("no such column")

// SortSpec is an order of the packet list: by a column, ascending or
// descending. Packets whose keys are equal keep their capture order in
// either direction.
type SortSpec struct {
	Column     string // a built-in column (ColumnNo, ...) or a registry field name
	Descending bool
}

// SortStatus is the progress of a sort as the API reports it.
type SortStatus struct {
	Column     string `json:"column"`
	Descending bool   `json:"descending"`
	Filter     string `json:"filter,omitempty"` // the display filter whose packets it sorts; "" for all
	Keyed      int    `json:"keyed"`            // packets whose key has been read
	Total      int    `json:"total"`            // packets to sort; 0 while a filter they come from runs
	Done       bool   `json:"done"`
	Error      string `json:"error,omitempty"`
}

// Sort is an ordering of a store's packets (all of them, or those a filter
// job matched): a permutation of their indices, built in the background
// from keys read in batches. Keys are sorted in runs of at most
// sortRunBytes of memory; a larger sort writes its runs to the store's
// folder and merges them, so what stays in memory is the permutation (4
// bytes a packet). A sort of a store still growing covers the packets
// there were when it began.
type Sort struct {
	s      *Store
	spec   SortSpec
	j      *Job
	expr   string // j's filter
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	keyed atomic.Int64
	total atomic.Int64

	mu      sync.Mutex
	perm    []uint32 // packet indices in display order, once done
	err     error
	lastUse time.Time
}

// sortRunBytes bounds the memory of one run of keys (a variable so tests
// can make runs small).
var sortRunBytes = 32 << 20

// maxSorts is how many sorts a store keeps; the least recently used of
// more is dropped.
const maxSorts = 4

// sorts is a store's sorts, by spec and filter.
type sorts struct {
	mu   sync.Mutex
	list []*Sort
}

// checkSortColumn returns ErrSortColumn unless col can be sorted by.
func checkSortColumn(col string) error {
	switch col {
	case ColumnNo, ColumnTime, ColumnSource, ColumnDest, ColumnProtocol, ColumnLength, ColumnInfo, ColumnInterface:
		return nil
	}
	if f, ok := dissect.LookupField(col); ok && f.Type != dissect.TypeNone {
		return nil
	}
	return fmt.Errorf("sort by %q: %w (a column is one of no, time, iface, src, dst, proto, len, info or a field name)", col, ErrSortColumn)
}

// StartSort returns the sort of the packets j matched (every packet when
// j is nil) by spec, starting it unless it is running or done.
func (s *Store) StartSort(spec SortSpec, j *Job) (*Sort, error) {
	if err := checkSortColumn(spec.Column); err != nil {
		return nil, err
	}
	expr := ""
	if j != nil {
		expr = j.expr
	}
	q := &s.sorts
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	for _, so := range q.list {
		if so.spec == spec && so.j == j && so.expr == expr {
			so.mu.Lock()
			so.lastUse = now
			failed := so.err != nil && errors.Is(so.err, context.Canceled)
			so.mu.Unlock()
			if !failed {
				return so, nil
			}
		}
	}
	ctx, cancel := context.WithCancel(s.ctx)
	so := &Sort{s: s, spec: spec, j: j, expr: expr, ctx: ctx, cancel: cancel, done: make(chan struct{}), lastUse: now}
	q.list = slices.DeleteFunc(q.list, func(o *Sort) bool {
		if o.spec == spec && o.expr == expr {
			o.cancel()
			return true
		}
		return false
	})
	q.list = append(q.list, so)
	if len(q.list) > maxSorts {
		oldest := 0
		for i, o := range q.list {
			if o.used().Before(q.list[oldest].used()) {
				oldest = i
			}
		}
		q.list[oldest].cancel()
		q.list = slices.Delete(q.list, oldest, oldest+1)
	}
	go so.run()
	return so, nil
}

// CancelSort stops the sort by spec of the packets of filter expr ("" for
// all) and forgets it; it reports whether there was one.
func (s *Store) CancelSort(spec SortSpec, expr string) bool {
	q := &s.sorts
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.list)
	q.list = slices.DeleteFunc(q.list, func(o *Sort) bool {
		if o.spec == spec && o.expr == expr {
			o.cancel()
			return true
		}
		return false
	})
	return len(q.list) < n
}

func (so *Sort) used() time.Time {
	so.mu.Lock()
	defer so.mu.Unlock()
	return so.lastUse
}

// Done is closed when the sort has ended: built, failed or cancelled.
func (so *Sort) Done() <-chan struct{} { return so.done }

// Status returns the sort's progress.
func (so *Sort) Status() SortStatus {
	st := SortStatus{Column: so.spec.Column, Descending: so.spec.Descending, Filter: so.expr,
		Keyed: int(so.keyed.Load()), Total: int(so.total.Load())}
	select {
	case <-so.done:
		st.Done = true
	default:
	}
	so.mu.Lock()
	defer so.mu.Unlock()
	if so.err != nil {
		st.Error = so.err.Error()
	}
	return st
}

// result returns the permutation, or the sort's error; the sort must be
// done.
func (so *Sort) result() ([]uint32, error) {
	so.mu.Lock()
	defer so.mu.Unlock()
	so.lastUse = time.Now()
	return so.perm, so.err
}

func (so *Sort) run() {
	defer close(so.done)
	perm, err := so.build()
	if err != nil {
		err = fmt.Errorf("sort by %s: %w", so.spec.Column, err)
	}
	so.mu.Lock()
	so.perm, so.err = perm, err
	so.mu.Unlock()
}

// build reads the keys of the packets to sort a batch at a time, sorts
// them in runs and merges the runs into the permutation.
func (so *Sort) build() ([]uint32, error) {
	s := so.s
	n, index, err := s.scope(so.ctx, so.j)
	if err != nil {
		return nil, err
	}
	so.total.Store(int64(n))
	key, err := so.keyer()
	if err != nil {
		return nil, err
	}
	rb := &runs{desc: so.spec.Descending, dir: s.dir}
	defer rb.close()
	idx := make([]int, 0, scanBatch)
	var kb []byte
	for k := 0; k < n; k += scanBatch {
		if err := so.ctx.Err(); err != nil {
			return nil, err
		}
		idx = idx[:0]
		for i := k; i < min(k+scanBatch, n); i++ {
			idx = append(idx, index(i))
		}
		recs, err := s.recordsAt(idx)
		if err != nil {
			return nil, err
		}
		if err := key(idx, recs, func(i int, kv []byte) error { return rb.add(uint32(idx[i]), kv) }, &kb); err != nil {
			return nil, err
		}
		so.keyed.Add(int64(len(idx)))
	}
	return rb.finish(n)
}

// keyFunc appends the sort keys of the packets idx (whose records are
// recs) through emit; kb is scratch space.
type keyFunc func(idx []int, recs []record, emit func(i int, key []byte) error, kb *[]byte) error

// keyer returns how the sort's keys are read: numbers as big-endian bytes
// (so that keys compare as bytes), columns as their text, a field as its
// first value's number when it is an integer, else as its values' text
// joined by ',' (as its column shows them).
func (so *Sort) keyer() (keyFunc, error) {
	s := so.s
	numeric := func(get func(i int, r *record) uint64) keyFunc {
		return func(idx []int, recs []record, emit func(int, []byte) error, kb *[]byte) error {
			for i := range recs {
				*kb = binary.BigEndian.AppendUint64((*kb)[:0], get(idx[i], &recs[i]))
				if err := emit(i, *kb); err != nil {
					return err
				}
			}
			return nil
		}
	}
	text := func(get func(*summary) string) keyFunc {
		return func(idx []int, recs []record, emit func(int, []byte) error, kb *[]byte) error {
			sums, err := s.summaries(recs)
			if err != nil {
				return err
			}
			for i := range sums {
				if err := emit(i, []byte(get(&sums[i]))); err != nil {
					return err
				}
			}
			return nil
		}
	}
	switch so.spec.Column {
	case ColumnNo:
		return numeric(func(i int, _ *record) uint64 { return uint64(i) }), nil
	case ColumnTime:
		return numeric(func(_ int, r *record) uint64 { return uint64(r.TSNanos) ^ 1<<63 }), nil
	case ColumnLength:
		return numeric(func(_ int, r *record) uint64 { return uint64(r.WireLen) }), nil
	case ColumnInterface:
		return numeric(func(_ int, r *record) uint64 { return uint64(r.IfIndex) }), nil
	case ColumnSource:
		return text(func(m *summary) string { return m.Source }), nil
	case ColumnDest:
		return text(func(m *summary) string { return m.Destination }), nil
	case ColumnProtocol:
		return text(func(m *summary) string { return m.Protocol }), nil
	case ColumnInfo:
		return text(func(m *summary) string { return m.Info }), nil
	}
	f, _ := dissect.LookupField(so.spec.Column)
	names := []string{f.Name}
	return func(idx []int, recs []record, emit func(int, []byte) error, kb *[]byte) error {
		for i := range recs {
			data, err := s.packetData(&recs[i])
			if err != nil {
				return err
			}
			tree := dissect.Dissect(recs[i].LinkType, data, int(recs[i].WireLen))
			vals := dfilter.FieldValues(tree, idx[i]+1, names)[0]
			*kb = (*kb)[:0]
			switch {
			case len(vals) == 0: // no value: first
			case vals[0].Type.IsUint() || vals[0].Type == dissect.TypeBool || vals[0].Type == dissect.TypeRelTime:
				*kb = binary.BigEndian.AppendUint64(append(*kb, 1), vals[0].N)
			case vals[0].Type.IsInt() || vals[0].Type == dissect.TypeTime:
				*kb = binary.BigEndian.AppendUint64(append(*kb, 1), vals[0].N^1<<63)
			default:
				*kb = append(*kb, 2)
				*kb = dfilter.AppendFieldText(*kb, vals, f.Base)
			}
			if err := emit(i, *kb); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// sortEntry is one packet's key in a run: arena[off:off+n], and its index.
type sortEntry struct{ off, n, idx uint32 }

// runs sorts keys a run at a time, writing full runs to files.
type runs struct {
	desc  bool
	dir   string
	arena []byte
	ents  []sortEntry
	files []*os.File
}

func compareKeys(desc bool, a []byte, ai uint32, b []byte, bi uint32) int {
	c := bytes.Compare(a, b)
	if desc {
		c = -c
	}
	if c == 0 {
		c = int(int64(ai) - int64(bi))
	}
	return c
}

func (rb *runs) add(idx uint32, key []byte) error {
	if len(rb.arena)+len(key)+(len(rb.ents)+1)*12 > sortRunBytes && len(rb.ents) > 0 {
		if err := rb.spill(); err != nil {
			return err
		}
	}
	rb.ents = append(rb.ents, sortEntry{off: uint32(len(rb.arena)), n: uint32(len(key)), idx: idx})
	rb.arena = append(rb.arena, key...)
	return nil
}

func (rb *runs) key(e sortEntry) []byte { return rb.arena[e.off : e.off+e.n] }

func (rb *runs) sortRun() {
	slices.SortFunc(rb.ents, func(a, b sortEntry) int {
		return compareKeys(rb.desc, rb.key(a), a.idx, rb.key(b), b.idx)
	})
}

// spill sorts the run in memory and writes it to a file of its own.
func (rb *runs) spill() error {
	rb.sortRun()
	f, err := os.CreateTemp(rb.dir, "sort-run-*")
	if err != nil {
		return fmt.Errorf("create sort run: %w", err)
	}
	rb.files = append(rb.files, f)
	_ = os.Remove(f.Name()) // kept open; nothing left behind
	w := bufio.NewWriterSize(f, 256<<10)
	var hdr [binary.MaxVarintLen64 + 4]byte
	for _, e := range rb.ents {
		h := binary.LittleEndian.AppendUint32(hdr[:0], e.idx)
		h = binary.AppendUvarint(h, uint64(e.n))
		w.Write(h)
		w.Write(rb.key(e))
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write sort run: %w", err)
	}
	rb.arena, rb.ents = rb.arena[:0], rb.ents[:0]
	return nil
}

// finish returns the permutation of the n keys added.
func (rb *runs) finish(n int) ([]uint32, error) {
	perm := make([]uint32, 0, n)
	if len(rb.files) == 0 {
		rb.sortRun()
		for _, e := range rb.ents {
			perm = append(perm, e.idx)
		}
		return perm, nil
	}
	if len(rb.ents) > 0 {
		if err := rb.spill(); err != nil {
			return nil, err
		}
	}
	rb.arena, rb.ents = nil, nil
	h := &runHeap{desc: rb.desc}
	for _, f := range rb.files {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("read sort run: %w", err)
		}
		r := &runReader{br: bufio.NewReaderSize(f, 64<<10)}
		ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if ok {
			h.rs = append(h.rs, r)
		}
	}
	heap.Init(h)
	for len(h.rs) > 0 {
		r := h.rs[0]
		perm = append(perm, r.idx)
		ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return perm, nil
}

func (rb *runs) close() {
	for _, f := range rb.files {
		f.Close()
	}
}

// runReader reads a run's entries in order.
type runReader struct {
	br  *bufio.Reader
	key []byte
	idx uint32
}

func (r *runReader) next() (bool, error) {
	var b [4]byte
	if _, err := io.ReadFull(r.br, b[:]); err == io.EOF {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("read sort run: %w", err)
	}
	r.idx = binary.LittleEndian.Uint32(b[:])
	n, err := binary.ReadUvarint(r.br)
	if err != nil || n > uint64(sortRunBytes) {
		return false, fmt.Errorf("read sort run: bad key length (%v)", err)
	}
	r.key = slices.Grow(r.key[:0], int(n))[:n]
	if _, err := io.ReadFull(r.br, r.key); err != nil {
		return false, fmt.Errorf("read sort run: %w", err)
	}
	return true, nil
}

// runHeap merges runs: the reader with the least key on top.
type runHeap struct {
	desc bool
	rs   []*runReader
}

func (h *runHeap) Len() int { return len(h.rs) }
func (h *runHeap) Less(i, j int) bool {
	return compareKeys(h.desc, h.rs[i].key, h.rs[i].idx, h.rs[j].key, h.rs[j].idx) < 0
}
func (h *runHeap) Swap(i, j int) { h.rs[i], h.rs[j] = h.rs[j], h.rs[i] }
func (h *runHeap) Push(x any)    { h.rs = append(h.rs, x.(*runReader)) }
func (h *runHeap) Pop() any {
	r := h.rs[len(h.rs)-1]
	h.rs = h.rs[:len(h.rs)-1]
	return r
}

// SortedRows returns the rows at display positions [start, start+n) of a
// done sort (Rows otherwise). A row's delta is to the previous packet
// displayed in capture order, as Wireshark's is whatever the sort.
func (s *Store) SortedRows(start, n int, so *Sort, o dissect.Options) (Page, error) {
	page := Page{Total: s.Count(), Rows: []Row{}}
	perm, err := so.result()
	if err != nil {
		return page, err
	}
	page.Displayed = len(perm)
	var idx []int // each row's packet index, then that of the packet displayed before it (-1: none)
	for _, i := range perm[min(start, len(perm)):min(start+n, len(perm))] {
		idx = append(idx, int(i))
	}
	rows := len(idx)
	for _, i := range idx[:rows] {
		idx = append(idx, so.prevDisplayed(i))
	}
	var have []int
	for _, i := range idx {
		if i >= 0 {
			have = append(have, i)
		}
	}
	recs, err := s.recordsAt(have)
	if err != nil {
		return page, err
	}
	byIdx := make(map[int]*record, len(have))
	for k, i := range have {
		byIdx[i] = &recs[k]
	}
	mine := recs[:rows]
	sums, err := s.summaries(mine)
	if err == nil && o != (dissect.Options{}) {
		err = s.retag(have[:rows], mine, sums, o)
	}
	if err != nil {
		return page, err
	}
	notes := s.notes()
	for k := range rows {
		row := makeRow(idx[k], &mine[k], &sums[k])
		notes.decorate(&row, idx[k], sums[k].Comment)
		row.Comment = shortComment(row.Comment)
		if p := idx[rows+k]; p >= 0 && !byIdx[p].noTime() && !mine[k].noTime() {
			row.Delta = mine[k].TSNanos - byIdx[p].TSNanos
		}
		page.Rows = append(page.Rows, row)
	}
	return page, nil
}

// prevDisplayed returns the index of the packet displayed before packet
// index i in capture order, or -1.
func (so *Sort) prevDisplayed(i int) int {
	if so.j == nil {
		return i - 1
	}
	pos, _ := so.j.position(i)
	if pos == 0 {
		return -1
	}
	w, _ := so.j.window(pos-1, 1)
	if len(w) == 0 {
		return -1
	}
	return int(w[0])
}

// SortedPosition returns where packet no (1-based) is in a done sort's
// order: its display position; or, with exact false, when the sort does
// not hold it (the filter does not match it, or it arrived after the sort
// began), the position of the next packet in capture order that it holds,
// as Go to packet shows; found is false when there is none.
func (so *Sort) SortedPosition(no int) (pos int, exact, found bool, err error) {
	perm, err := so.result()
	if err != nil {
		return 0, false, false, err
	}
	want := uint32(no - 1)
	next := uint32(1<<32 - 1)
	for k, i := range perm {
		switch {
		case i == want:
			return k, true, true, nil
		case i > want && i <= next:
			pos, next, found = k, i, true
		}
	}
	return pos, false, found, nil
}
