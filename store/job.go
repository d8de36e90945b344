package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/store/internal/matchset"
)

// scanBatch is how many index records a filter job reads at once.
const scanBatch = 4096

// FilterStatus is the progress of one filter job as the API reports it.
type FilterStatus struct {
	Filter string `json:"filter"`
	// Language is the filter's: "display" or "bpf" (see ChooseLanguage).
	Language Language `json:"language"`
	Scanned  int      `json:"scanned"`
	Matched  int      `json:"matched"`
	Done     bool     `json:"done"`
	// Queued: the job has packets to scan and waits for its turn on a
	// worker; Position is then its place in the queue of turns, 1 for the
	// next.
	Queued   bool   `json:"queued"`
	Position int    `json:"position,omitempty"`
	Error    string `json:"error,omitempty"`
}

// errJobCancelled is the error of a job stopped before it was done: its
// capture was closed, a client cancelled it, or it was evicted.
var errJobCancelled = errors.New("cancelled")

// jobState is where a filter job is in its life (see filterJobs).
type jobState int

const (
	jobQueued  jobState = iota // waiting for a turn on a worker
	jobRunning                 // a worker is scanning for it
	jobWaiting                 // it has scanned every packet there is; waits for more
	jobEnded                   // finished, failed or cancelled; done is closed
)

// Job runs one filter over a store's spool and keeps the 0-based indices
// of the matching packets. It scans in turns given by its pool's
// filterJobs, and follows the index while the store grows.
type Job struct {
	expr   string
	s      *Store
	client string // who asked for it first
	seq    uint64 // creation order
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the job is done

	// Guarded by the filterJobs' mu.
	state   jobState
	lastUse time.Time // when a client last asked for it
	holds   int       // requests waiting on it now
	queued  int       // next when it was last queued

	// m runs the filter: a display filter, or a BPF expression compiled
	// once for each link type met, in one of the pool's compile slots.
	m matcher

	// The scan's position, used only by the worker running the job's turn.
	next int // index of the next packet to scan

	mu      sync.Mutex
	matches matchset.Set
	scanned int
	err     error
	fin     bool
}

// status returns the job's progress, its place in the queue aside (see
// filterCache.status).
func (j *Job) status() FilterStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := FilterStatus{Filter: j.expr, Language: j.m.Language(), Scanned: j.scanned, Matched: j.matches.Len(), Done: j.fin}
	if j.err != nil {
		st.Error = j.err.Error()
	}
	return st
}

// window returns the packet indices at display positions [start, start+n)
// and the number of matches so far.
func (j *Job) window(start, n int) ([]uint32, int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.matches.Window(nil, start, n), j.matches.Len()
}

// position returns the display position of packet index i, or the position
// of the first match after it and false when i does not match.
func (j *Job) position(i int) (int, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.matches.Rank(uint32(i))
}

// snapshot returns a copy of the matches so far, which the job's later
// progress does not change, and the job's error.
func (j *Job) snapshot() (*matchset.Set, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.matches.Clone(), j.err
}

// bytes returns the memory the job's results and programs hold.
func (j *Job) bytes() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.matches.Bytes() + j.m.Bytes()
}

// matchIndexer returns a function giving the k-th member of m, for k
// mostly ascending, reading m a window at a time.
func matchIndexer(m *matchset.Set) func(k int) int {
	var buf []uint32
	lo := 0
	return func(k int) int {
		if k < lo || k >= lo+len(buf) {
			lo, buf = k, m.Window(buf[:0], k, scanBatch)
		}
		return int(buf[k-lo])
	}
}

// vmBytesPerInsn is what one instruction of a compiled program is counted
// as in a job's memory (the VM's translated form and the raw program).
const vmBytesPerInsn = 64

// turnEnd says why a turn of a filter job ended.
type turnEnd int

const (
	turnMore     turnEnd = iota // its time was up, with packets left to scan
	turnCaughtUp                // it scanned every packet there is; the capture may grow
	turnFinished                // it scanned every packet of a capture that no longer grows
)

// roundRanges is how many ranges each goroutine of a parallel turn scans
// in a round, and maxRoundRanges bounds the ranges of a round (each has its
// buffers) unless there are more goroutines. A round ends when its slowest
// goroutine is done, and the next one wakes the others from idle; with one
// range each (a few tenths of a millisecond) that cost a two-core scan a
// noticeable part of its time.
const (
	roundRanges    = 4
	maxRoundRanges = 16
)

// scanner is a worker's reusable buffers: one part per goroutine of a
// parallel turn.
type scanner struct {
	parts []*scanPart
	chunk int // packets per range, at most scanBatch; 0 means scanBatch (tests make it small)
}

// scanPart is what one goroutine of a turn scans with, and what it found.
type scanPart struct {
	recs  []record
	sr    spoolReader
	found [][]uint32 // per job of the turn
	err   error

	// The packet bytes sr hands to the matchers are mostly slices of the
	// spool's read-only mapping, valid until the turn ends: a matcher must
	// neither keep nor modify them.
	ir      spoolReader // the index's records, read as sr reads the spool
	touched byte        // what sr.touch read, kept so that the reads are made
}

func newScanner() *scanner { return &scanner{} }

// part returns the scanner's k-th part of par, made the first time. The
// parts share one spoolWindow of memory (a part reads at most a range of
// scanBatch packets at a time).
func (sc *scanner) part(k, par int) *scanPart {
	for len(sc.parts) <= k {
		sc.parts = append(sc.parts, &scanPart{recs: make([]record, scanBatch)})
	}
	p := sc.parts[k]
	p.ir.window = scanBatch * recordSize // the windows are made only when the files are not mapped
	if size := max(spoolWindow/par, 64<<10); p.sr.window != size {
		p.sr.window, p.sr.buf = size, nil
	}
	return p
}

// scanTurn runs a turn of jobs, all on one store: it scans packets from
// where the job furthest behind stopped until every packet there is has
// been scanned or until the time is up, reading each packet once for all
// the jobs that have not scanned it yet, and adds the packets each job
// scanned to scanned. It scans in rounds: each round splits the next
// packets into ranges of scanBatch packets, roundRanges for each of par
// goroutines scanning at once (a goroutine takes every par-th range), and
// adds their matches to the jobs in packet order, so that the rows of a
// prefix are served as soon as it is scanned. With
// turnCaughtUp, changed is closed when the store has changed since. A job
// cancelled meanwhile is left out (its context says so). Packets of a link
// type the expression does not compile for never match (libpcap's
// "expression rejects all packets").
func scanTurn(jobs []*Job, sc *scanner, par int, until time.Time, scanned *atomic.Int64) (end turnEnd, changed <-chan struct{}, err error) {
	s := jobs[0].s
	changed = s.Changed()
	indexing := s.Indexing()
	total := s.Count()
	s.mu.Lock()
	spool := s.spool
	s.mu.Unlock()
	spoolMap, indexMap := s.maps.acquire(spool, s.index)
	defer s.maps.release(spoolMap, indexMap) // after the last part is done with them
	par = max(par, 1)
	chunk := scanBatch
	if sc.chunk > 0 {
		chunk = min(sc.chunk, scanBatch)
	}
	nparts := 1 // ranges per round
	if par > 1 {
		nparts = max(par, min(par*roundRanges, maxRoundRanges))
	}
	for k := range nparts {
		p := sc.part(k, nparts)
		p.sr.reset(spool, spoolMap)
		p.ir.reset(s.index, indexMap)
		for len(p.found) < len(jobs) {
			p.found = append(p.found, nil)
		}
	}
	i := total
	for _, j := range jobs {
		i = min(i, j.next)
	}
	act := make([]bool, len(jobs)) // not cancelled
	var wg sync.WaitGroup
	for i < total {
		live := 0
		for g, j := range jobs {
			act[g] = j.ctx.Err() == nil
			if act[g] {
				live++
			}
		}
		if live == 0 {
			return 0, nil, errJobCancelled
		}
		parts := min(nparts, (total-i+chunk-1)/chunk)
		if parts == 1 {
			sc.parts[0].scan(s, jobs, act, i, min(i+chunk, total)) // no goroutine for a lone range
		} else {
			for g := range min(par, parts) {
				wg.Go(func() {
					for k := g; k < parts; k += par { // every par-th range of the round
						lo := i + k*chunk
						sc.parts[k].scan(s, jobs, act, lo, min(lo+chunk, total))
					}
				})
			}
			wg.Wait()
		}
		end := min(i+parts*chunk, total)
		for k := range parts {
			if err := sc.parts[k].err; err != nil {
				return 0, nil, err
			}
		}
		for g, j := range jobs {
			if j.next >= end {
				continue
			}
			j.mu.Lock()
			for k := range parts {
				for _, v := range sc.parts[k].found[g] {
					j.matches.Add(v)
				}
			}
			j.scanned = end
			j.mu.Unlock()
			scanned.Add(int64(end - j.next))
			j.next = end
		}
		i = end
		s.notify()
		if i < total && time.Now().After(until) {
			return turnMore, nil, nil
		}
	}
	if indexing {
		return turnCaughtUp, changed, nil
	}
	return turnFinished, nil, nil
}

// scan runs the active jobs (act) on packets [lo, hi) of s, each on the
// packets it has not scanned yet, into p.found.
func (p *scanPart) scan(s *Store, jobs []*Job, act []bool, lo, hi int) {
	p.err = nil
	defer guardFaults(&p.err)() // a mapped file cut underneath
	for g := range jobs {
		p.found[g] = p.found[g][:0]
	}
	recs := p.recs[:hi-lo]
	if p.err = p.ir.records(lo, recs); p.err != nil {
		return
	}
	p.touched = p.sr.touch(recs)
	for k := range recs {
		rec := &recs[k]
		var data []byte
		for g, j := range jobs {
			if !act[g] || lo+k < j.next {
				continue // cancelled, or it has scanned this packet
			}
			if data == nil {
				if data, p.err = p.sr.read(rec.DataOff, int(rec.CapLen)); p.err != nil {
					return
				}
			}
			if j.m.Match(lo+k, rec.LinkType, data, int(rec.WireLen)) {
				p.found[g] = append(p.found[g], uint32(lo+k))
			}
		}
	}
}

// NormalizeFilter trims an expression; "" means no filter.
func NormalizeFilter(expr string) string { return strings.TrimSpace(expr) }

// newMatcher returns a matcher for a filter on s's packets: compiled with
// the options of s's file, each link type in one of the pool's compile
// slots, waiting for one as long as ctx lasts.
func (s *Store) newMatcher(ctx context.Context, expr string) *filter.Matcher {
	return filter.NewMatcher(expr, s.FilterOptions()).WithGate(func() (func(), error) {
		return s.pool.AcquireCompile(ctx, 0)
	})
}

// LookupFilter returns the filter job for expr (normalized), if there is
// one, and counts it as asked for.
func (s *Store) LookupFilter(expr string) *Job { return s.jobs.lookup(s, expr) }

// StartFilter returns the filter job for expr (normalized), starting it
// when it is new, and counts it as asked for by client (clients take turns
// on the pool's workers: name each by its address). A new expression is
// checked first: its language chosen (see ChooseLanguage), a display
// filter compiled, or a BPF one compiled for the store's first link type,
// in the compile slot the caller holds (see Pool.AcquireCompile). A bad
// one fails with a *dfilter.Error or a *filter.Error. It fails with ErrFilterMemory when the jobs' memory
// budget has no room for a new job.
func (s *Store) StartFilter(expr, client string) (*Job, error) {
	if j := s.jobs.lookup(s, expr); j != nil {
		return j, nil
	}
	ctx, cancel := context.WithCancel(s.ctx) // the new job's
	m, err := s.compileFilter(ctx, expr)
	if err != nil {
		cancel()
		return nil, err
	}
	return s.jobs.get(s, m, ctx, cancel, client)
}

// FilterStatus returns j's progress and its place in the queue.
func (s *Store) FilterStatus(j *Job) FilterStatus { return s.jobs.status(j) }

// CancelFilter stops and forgets the job for expr. It reports whether there
// was one.
func (s *Store) CancelFilter(expr string) bool { return s.jobs.cancel(s, expr) }

// Done returns a channel closed when the job has ended: it has scanned
// every packet of a store that no longer grows, failed, or was cancelled.
func (j *Job) Done() <-chan struct{} { return j.done }

// Status returns the job's progress, its place in the queue aside.
func (j *Job) Status() FilterStatus { return j.status() }
