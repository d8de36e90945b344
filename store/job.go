package store

import (
	"context"
	"errors"
	"slices"
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

// ringRanges is how many ranges each goroutine of a parallel turn may scan
// ahead of the first range not merged yet, and maxRing bounds the ring of
// range results (each holds its matches) unless there are more goroutines.
// A goroutine waits for another only when it is that far ahead of it: the
// goroutines of a turn take ranges one after the other as they are done
// with the last, and never wait at a barrier for the slowest of a round.
const (
	ringRanges = 4
	maxRing    = 16
)

// minRange is the fewest packets a range of a parallel turn has, but for
// the last: ranges shrink as the end of the turn's packets nears (each is
// a share of what is left), so that the goroutines finish together rather
// than one scanning a whole last range while the others have nothing left.
const minRange = 256

// ringSize is the number of range slots of a turn on par goroutines: one
// for a lone goroutine, which merges each range as soon as it is done.
func ringSize(par int) int {
	if par <= 1 {
		return 1
	}
	return max(par, min(par*ringRanges, maxRing))
}

// scanner is a worker's reusable buffers: a reader for each goroutine of a
// parallel turn, and the ring of range results they fill.
type scanner struct {
	parts []*scanPart
	slots []*rangeSlot
	t     turn
	chunk int // the most packets of a range, at most scanBatch; 0 means scanBatch (tests make it small)
}

// scanPart is what one goroutine of a turn reads the index and the spool
// with.
type scanPart struct {
	recs []record
	sr   spoolReader

	// The packet bytes sr hands to the matchers are mostly slices of the
	// spool's read-only mapping, valid until the turn ends: a matcher must
	// neither keep nor modify them.
	ir      spoolReader // the index's records, read as sr reads the spool
	touched byte        // what sr.touch read, kept so that the reads are made
}

// rangeSlot holds what a goroutine found in one range of a turn until it
// is merged into the jobs.
type rangeSlot struct {
	lo, hi int        // the range's packets
	found  [][]uint32 // per job of the turn
	live   []bool     // per job: not cancelled when the range was scanned
	err    error
	done   atomic.Bool // scanned: found and live are ready to merge
}

// turn is what the goroutines of one scanTurn share. Ranges are handed out
// in packet order (claim); each goroutine scans the range it claimed into
// the range's slot of the ring, and then merges every scanned range that
// follows the merged prefix into the jobs, unless another goroutine is
// merging (merging), which then merges them: the matches reach the jobs in
// packet order, without a goroutine waiting for another.
type turn struct {
	s       *Store
	jobs    []*Job
	from    []int  // each job's next packet when the turn started
	dropped []bool // per job: cancelled during the turn (the merging goroutine's)
	total   int    // packets there were when the turn started
	chunk   int    // the most packets of a range
	par     int    // goroutines
	until   time.Time
	scanned *atomic.Int64
	slots   []*rangeSlot // range r's is slots[r%len(slots)]

	claimMu sync.Mutex
	claimed int // ranges handed out
	next    int // the first packet of the next range

	merged  atomic.Int64 // ranges merged into the jobs, a prefix
	merging atomic.Bool  // a goroutine is merging
	stop    atomic.Bool  // a range failed, or every job was cancelled: claim no more

	mu      sync.Mutex // guards err; room's lock
	room    sync.Cond  // signalled when merged grows or stop is set, for waiting goroutines
	waiting atomic.Int32
	err     error
}

func newScanner() *scanner { return &scanner{} }

// part returns the scanner's k-th part of a turn on par goroutines, made
// the first time. The parts share one spoolWindow of memory (a part reads
// at most a range of scanBatch packets at a time).
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
// scanned to scanned. It splits the packets into ranges of up to scanBatch
// packets (shrinking near the end, see claim), which par goroutines take in
// turn, each the next range as soon as it is done with one, and adds their matches to the jobs in packet
// order as soon as the ranges before them are done, so that the rows of a
// prefix are served as soon as it is scanned (see turn). With
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
	defer s.maps.release(spoolMap, indexMap) // after the last goroutine is done with them
	t := sc.begin(jobs, par, total, until, scanned)
	if t.next == total {
		return sc.caughtUp(indexing, changed)
	}
	for k := range t.par {
		p := sc.part(k, t.par)
		p.sr.reset(spool, spoolMap)
		p.ir.reset(s.index, indexMap)
	}
	var wg sync.WaitGroup
	for k := 1; k < t.par; k++ {
		wg.Go(func() { t.run(sc.parts[k]) })
	}
	t.run(sc.parts[0])
	wg.Wait()
	switch {
	case t.err != nil:
		return 0, nil, t.err
	case t.next < t.total: // the time was up
		return turnMore, nil, nil
	}
	return sc.caughtUp(indexing, changed)
}

// caughtUp is the end of a turn that scanned every packet there was.
func (sc *scanner) caughtUp(indexing bool, changed <-chan struct{}) (turnEnd, <-chan struct{}, error) {
	if indexing {
		return turnCaughtUp, changed, nil
	}
	return turnFinished, nil, nil
}

// begin readies the scanner's turn for jobs on par goroutines over the
// packets below total, and returns it.
func (sc *scanner) begin(jobs []*Job, par, total int, until time.Time, scanned *atomic.Int64) *turn {
	t := &sc.t
	t.s, t.jobs, t.total, t.until, t.scanned, t.err = jobs[0].s, jobs, total, until, scanned, nil
	t.room.L = &t.mu
	t.from, t.dropped = t.from[:0], t.dropped[:0]
	t.next = total
	for _, j := range jobs {
		t.from = append(t.from, j.next)
		t.dropped = append(t.dropped, false)
		t.next = min(t.next, j.next)
	}
	t.chunk = scanBatch
	if sc.chunk > 0 {
		t.chunk = min(sc.chunk, scanBatch)
	}
	// No more goroutines than ranges of the fewest packets.
	t.par = max(min(par, (total-t.next+t.minRange()-1)/t.minRange()), 1)
	t.claimed = 0
	nslots := ringSize(t.par)
	for len(sc.slots) < nslots {
		sc.slots = append(sc.slots, &rangeSlot{})
	}
	t.slots = sc.slots[:nslots]
	for _, sl := range t.slots {
		for len(sl.found) < len(jobs) {
			sl.found = append(sl.found, nil)
		}
		sl.live = slices.Grow(sl.live[:0], len(jobs))[:len(jobs)]
		sl.done.Store(false)
	}
	t.merged.Store(0)
	t.merging.Store(false)
	t.stop.Store(false)
	return t
}

// run scans ranges with p until there are none left, the time is up, or
// the turn is stopped: it claims the next range, waits until the ring has
// room for it, scans it into its slot and merges what it can.
func (t *turn) run(p *scanPart) {
	for !t.stop.Load() {
		r, lo, hi := t.claim()
		if hi == lo || !t.waitRoom(r) {
			return
		}
		sl := t.slots[r%len(t.slots)]
		sl.lo, sl.hi = lo, hi
		p.scan(t, sl)
		if sl.err != nil {
			t.fail(sl.err)
			return
		}
		sl.done.Store(true)
		t.merge()
	}
}

// minRange is the fewest packets of a range of t.
func (t *turn) minRange() int { return min(minRange, t.chunk) }

// claim hands out the next range, r-th of the turn, packets [lo, hi); an
// empty one when there are no packets left or the time is up (every range
// claimed is scanned: the merged prefix ends there). On one goroutine a
// range has chunk packets; on several, a share of the packets left, from
// chunk down to minRange.
func (t *turn) claim() (r, lo, hi int) {
	t.claimMu.Lock()
	defer t.claimMu.Unlock()
	if t.next == t.total || t.claimed > 0 && time.Now().After(t.until) {
		return 0, 0, 0
	}
	n := t.chunk
	if t.par > 1 {
		n = min(t.chunk, max((t.total-t.next)/(2*t.par), t.minRange()))
	}
	r, lo = t.claimed, t.next
	t.claimed++
	t.next = min(lo+n, t.total)
	return r, lo, t.next
}

// waitRoom waits until range r has its slot in the ring: the range that
// had it before is merged. It reports false when the turn is stopped.
func (t *turn) waitRoom(r int) bool {
	if r >= int(t.merged.Load())+len(t.slots) {
		t.waiting.Add(1)
		t.mu.Lock()
		for r >= int(t.merged.Load())+len(t.slots) && !t.stop.Load() {
			t.room.Wait()
		}
		t.mu.Unlock()
		t.waiting.Add(-1)
	}
	return !t.stop.Load()
}

// wake wakes the goroutines waiting for room in the ring, if any.
func (t *turn) wake() {
	if t.waiting.Load() > 0 {
		t.mu.Lock()
		t.room.Broadcast()
		t.mu.Unlock()
	}
}

// fail stops the turn with err (the first error wins).
func (t *turn) fail(err error) {
	t.mu.Lock()
	if t.err == nil {
		t.err = err
	}
	t.stop.Store(true)
	t.room.Broadcast()
	t.mu.Unlock()
}

// merge merges the scanned ranges that follow the merged prefix into the
// jobs, unless another goroutine is merging: that one then merges them
// too, for it looks again once it has stopped merging.
func (t *turn) merge() {
	n := len(t.slots)
	for t.merging.CompareAndSwap(false, true) {
		from := int(t.merged.Load())
		to := from
		for to < from+n && t.slots[to%n].done.Load() {
			to++
		}
		if to > from {
			t.publish(from, to)
			for r := from; r < to; r++ {
				t.slots[r%n].done.Store(false)
			}
			t.merged.Store(int64(to))
		}
		t.merging.Store(false)
		if to > from {
			t.wake()
		}
		if !t.slots[to%n].done.Load() {
			return // a range done meanwhile is merged by the goroutine that did it
		}
	}
}

// publish adds the matches of ranges [from, to) to the jobs, in packet
// order, and tells the pool's watchers. Only the goroutine merging calls
// it.
func (t *turn) publish(from, to int) {
	n := len(t.slots)
	for g, j := range t.jobs {
		if t.dropped[g] || j.next >= t.slots[(to-1)%n].hi {
			continue
		}
		before := j.next
		j.mu.Lock()
		for r := from; r < to; r++ {
			sl := t.slots[r%n]
			if !sl.live[g] {
				t.dropped[g] = true // cancelled: it ends with the turn
				break
			}
			for _, v := range sl.found[g] {
				j.matches.Add(v)
			}
			j.next = max(j.next, sl.hi)
		}
		j.scanned = j.next
		j.mu.Unlock()
		t.scanned.Add(int64(j.next - before))
	}
	t.s.notify()
}

// scan runs the jobs not cancelled on the packets of sl's range of t's
// store, each on the packets it had not scanned when the turn started, into
// sl.
func (p *scanPart) scan(t *turn, sl *rangeSlot) {
	lo, hi := sl.lo, sl.hi
	sl.err = nil
	defer guardFaults(&sl.err)() // a mapped file cut underneath
	live := false
	for g, j := range t.jobs {
		sl.found[g] = sl.found[g][:0]
		sl.live[g] = j.ctx.Err() == nil
		live = live || sl.live[g]
	}
	if !live {
		sl.err = errJobCancelled
		return
	}
	recs := p.recs[:hi-lo]
	if sl.err = p.ir.records(lo, recs); sl.err != nil {
		return
	}
	p.touched = p.sr.touch(recs)
	for k := range recs {
		rec := &recs[k]
		var data []byte
		for g, j := range t.jobs {
			if !sl.live[g] || lo+k < t.from[g] {
				continue // cancelled, or it has scanned this packet
			}
			if data == nil {
				if data, sl.err = p.sr.read(rec.DataOff, int(rec.CapLen)); sl.err != nil {
					return
				}
			}
			if j.m.Match(lo+k, rec.LinkType, data, int(rec.WireLen)) {
				sl.found[g] = append(sl.found[g], uint32(lo+k))
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
