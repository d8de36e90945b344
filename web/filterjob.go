package web

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/pcapio"
)

// maxFilterJobs is how many filter results a capture keeps; the oldest
// finished ones are dropped first.
const maxFilterJobs = 8

// scanBatch is how many index records a filter job reads at once.
const scanBatch = 4096

// FilterStatus is the progress of one filter job as the API reports it.
type FilterStatus struct {
	Filter  string `json:"filter"`
	Scanned int    `json:"scanned"`
	Matched int    `json:"matched"`
	Done    bool   `json:"done"`
	Error   string `json:"error,omitempty"`
}

// filterJob runs one compiled filter over a capture's spool and keeps the
// 0-based indices of the matching packets. It follows the index while the
// capture is still being indexed.
type filterJob struct {
	expr   string
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	matches []uint32
	scanned int
	err     error
	fin     bool
}

// status returns the job's progress.
func (j *filterJob) status() FilterStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := FilterStatus{Filter: j.expr, Scanned: j.scanned, Matched: len(j.matches), Done: j.fin}
	if j.err != nil {
		st.Error = j.err.Error()
	}
	return st
}

// window returns the packet indices at display positions [start, start+n)
// and the number of matches so far.
func (j *filterJob) window(start, n int) ([]uint32, int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	total := len(j.matches)
	if start < 0 || start >= total || n <= 0 {
		return nil, total
	}
	return slices.Clone(j.matches[start:min(start+n, total)]), total
}

// position returns the display position of packet index i, or the position
// of the first match after it and false when i does not match.
func (j *filterJob) position(i int) (int, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.BinarySearch(j.matches, uint32(i))
}

// snapshot returns the matches so far (shared, read-only: the job only
// appends) and the job's error.
func (j *filterJob) snapshot() ([]uint32, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.matches[:len(j.matches):len(j.matches)], j.err
}

// fileOptions are the options a filter on a capture file of link type lt
// and byte order order is compiled with: those capture uses for a file, so
// filters behave as libpcap's do when it reads one (order nil when unknown).
func fileOptions(lt pcapio.LinkType, order binary.ByteOrder) filter.Options {
	return filter.Options{LinkType: lt, Target: filter.TargetFile, SavefileByteOrder: order}
}

// compileFor compiles expr for one link type of a file in byte order order
// into a VM.
func compileFor(expr string, lt pcapio.LinkType, order binary.ByteOrder) (*vm.VM, *filter.Program, error) {
	prog, err := filter.Compile(expr, fileOptions(lt, order))
	if err != nil {
		return nil, nil, err
	}
	m, err := vm.New(prog.Raw)
	if err != nil {
		return nil, nil, fmt.Errorf("filter program rejected by the VM: %w", err)
	}
	return m, prog, nil
}

// run scans the capture. Packets of a link type the expression does not
// compile for never match (libpcap's "expression rejects all packets").
func (j *filterJob) run(ctx context.Context, c *Capture) {
	defer close(j.done)
	err := j.scan(ctx, c)
	j.mu.Lock()
	j.fin = true
	if err != nil {
		j.err = err
	}
	j.mu.Unlock()
	c.notify()
}

func (j *filterJob) scan(ctx context.Context, c *Capture) error {
	vms := map[pcapio.LinkType]*vm.VM{}
	var order binary.ByteOrder
	sr := newSpoolReader(c.spool)
	recs := make([]record, scanBatch)
	var found []uint32
	i := 0
	for {
		changed := c.waitChange()
		indexing := c.indexing()
		total := c.Packets()
		for i < total {
			if ctx.Err() != nil {
				return errors.New("cancelled")
			}
			n := min(scanBatch, total-i)
			if err := readRecords(c.index, i, recs[:n]); err != nil {
				return err
			}
			found = found[:0]
			for k := range recs[:n] {
				rec := &recs[k]
				m, ok := vms[rec.LinkType]
				if !ok {
					if order == nil {
						order = c.byteOrder() // read with the header, before any record
					}
					m, _, _ = c.compileWaiting(ctx, j.expr, rec.LinkType, order)
					vms[rec.LinkType] = m
				}
				if m == nil {
					continue
				}
				data, err := sr.read(rec.DataOff, int(rec.CapLen))
				if err != nil {
					return err
				}
				if m.Run(data, int(rec.WireLen)) != 0 {
					found = append(found, uint32(i+k))
				}
			}
			i += n
			j.mu.Lock()
			j.matches = append(j.matches, found...)
			j.scanned = i
			j.mu.Unlock()
			c.notify()
		}
		if !indexing {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return errors.New("cancelled")
		}
	}
}

// filterCache holds a capture's filter jobs by expression.
type filterCache struct {
	mu    sync.Mutex
	jobs  map[string]*filterJob
	order []string // oldest first
}

func newFilterCache() *filterCache {
	return &filterCache{jobs: map[string]*filterJob{}}
}

// normalizeFilter trims an expression; "" means no filter.
func normalizeFilter(expr string) string { return strings.TrimSpace(expr) }

// get returns the job for expr on c (whose cache fc is), starting it when
// it is new; the job ends when c is closed. The expression must already
// have been validated.
func (fc *filterCache) get(c *Capture, expr string) *filterJob {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if j, ok := fc.jobs[expr]; ok {
		j.mu.Lock()
		failed := j.err != nil
		j.mu.Unlock()
		if !failed {
			return j
		}
		fc.dropLocked(expr)
	}
	for len(fc.order) >= maxFilterJobs {
		fc.dropLocked(fc.order[0])
	}
	jctx, cancel := context.WithCancel(c.ctx)
	j := &filterJob{expr: expr, cancel: cancel, done: make(chan struct{})}
	fc.jobs[expr] = j
	fc.order = append(fc.order, expr)
	go j.run(jctx, c)
	return j
}

// lookup returns the job for expr, if any.
func (fc *filterCache) lookup(expr string) *filterJob {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.jobs[expr]
}

// cancel stops and forgets the job for expr. It reports whether there was
// one.
func (fc *filterCache) cancel(expr string) bool {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if _, ok := fc.jobs[expr]; !ok {
		return false
	}
	fc.dropLocked(expr)
	return true
}

func (fc *filterCache) dropLocked(expr string) {
	if j, ok := fc.jobs[expr]; ok {
		j.cancel()
		delete(fc.jobs, expr)
	}
	fc.order = slices.DeleteFunc(fc.order, func(e string) bool { return e == expr })
}

// cancelAll stops every job and waits for them to end.
func (fc *filterCache) cancelAll() {
	fc.mu.Lock()
	jobs := make([]*filterJob, 0, len(fc.jobs))
	for _, j := range fc.jobs {
		j.cancel()
		jobs = append(jobs, j)
	}
	fc.jobs = map[string]*filterJob{}
	fc.order = nil
	fc.mu.Unlock()
	for _, j := range jobs {
		<-j.done
	}
}

// statuses returns the progress of every job, oldest first.
func (fc *filterCache) statuses() []FilterStatus {
	fc.mu.Lock()
	jobs := make([]*filterJob, 0, len(fc.order))
	for _, e := range fc.order {
		jobs = append(jobs, fc.jobs[e])
	}
	fc.mu.Unlock()
	out := make([]FilterStatus, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, j.status())
	}
	return out
}
