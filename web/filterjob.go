package web

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/web/internal/matchset"
)

// scanBatch is how many index records a filter job reads at once.
const scanBatch = 4096

// FilterStatus is the progress of one filter job as the API reports it.
type FilterStatus struct {
	Filter  string `json:"filter"`
	Scanned int    `json:"scanned"`
	Matched int    `json:"matched"`
	Done    bool   `json:"done"`
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

// filterJob runs one compiled filter over a capture's spool and keeps the
// 0-based indices of the matching packets. It scans in turns given by its
// server's filterJobs, and follows the index while the capture grows.
type filterJob struct {
	expr   string
	c      *Capture
	client string // who asked for it first (see clientOf)
	seq    uint64 // creation order
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the job is done

	// Guarded by the filterJobs' mu.
	state   jobState
	lastUse time.Time // when a client last asked for it
	holds   int       // requests waiting on it now
	queued  int       // next when it was last queued

	// m runs the filter, compiling it once for each link type met, in one
	// of the server's compile slots.
	m *filter.Matcher

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
func (j *filterJob) status() FilterStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := FilterStatus{Filter: j.expr, Scanned: j.scanned, Matched: j.matches.Len(), Done: j.fin}
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
	return j.matches.Window(nil, start, n), j.matches.Len()
}

// position returns the display position of packet index i, or the position
// of the first match after it and false when i does not match.
func (j *filterJob) position(i int) (int, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.matches.Rank(uint32(i))
}

// snapshot returns a copy of the matches so far, which the job's later
// progress does not change, and the job's error.
func (j *filterJob) snapshot() (*matchset.Set, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.matches.Clone(), j.err
}

// bytes returns the memory the job's results and programs hold.
func (j *filterJob) bytes() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.matches.Bytes() + j.m.Instructions()*vmBytesPerInsn
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

// scanner is a worker's reusable buffers.
type scanner struct {
	recs  []record
	spool []byte
	found [][]uint32 // per job of the turn
}

func newScanner() *scanner {
	return &scanner{recs: make([]record, scanBatch), spool: make([]byte, spoolWindow)}
}

// scanTurn runs a turn of jobs, all on one capture: it scans packets from
// where the job furthest behind stopped until every packet there is has
// been scanned or until the time is up, reading each packet once for all
// the jobs that have not scanned it yet, and adds the packets each job
// scanned to scanned. With turnCaughtUp, changed is closed when the
// capture has changed since. A job cancelled meanwhile is left out (its
// context says so). Packets of a link type the expression does not compile
// for never match (libpcap's "expression rejects all packets").
func scanTurn(jobs []*filterJob, sc *scanner, until time.Time, scanned *atomic.Int64) (end turnEnd, changed <-chan struct{}, err error) {
	c := jobs[0].c
	changed = c.waitChange()
	indexing := c.indexing()
	total := c.Packets()
	c.mu.Lock()
	sr := &spoolReader{f: c.spool, buf: sc.spool}
	c.mu.Unlock()
	for len(sc.found) < len(jobs) {
		sc.found = append(sc.found, nil)
	}
	i := total
	for _, j := range jobs {
		i = min(i, j.next)
	}
	act := make([]bool, len(jobs)) // not cancelled
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
		n := min(scanBatch, total-i)
		recs := sc.recs[:n]
		if err := readRecords(c.index, i, recs); err != nil {
			return 0, nil, err
		}
		for g := range jobs {
			sc.found[g] = sc.found[g][:0]
		}
		for k := range recs {
			rec := &recs[k]
			var data []byte
			for g, j := range jobs {
				if !act[g] || i+k < j.next {
					continue // cancelled, or it has scanned this packet
				}
				if data == nil {
					if data, err = sr.read(rec.DataOff, int(rec.CapLen)); err != nil {
						return 0, nil, err
					}
				}
				if j.m.Match(rec.LinkType, data, int(rec.WireLen)) {
					sc.found[g] = append(sc.found[g], uint32(i+k))
				}
			}
		}
		i += n
		for g, j := range jobs {
			if j.next >= i {
				continue
			}
			j.mu.Lock()
			for _, v := range sc.found[g] {
				j.matches.Add(v)
			}
			j.scanned = i
			j.mu.Unlock()
			scanned.Add(int64(i - j.next))
			j.next = i
		}
		c.notify()
		if i < total && time.Now().After(until) {
			return turnMore, nil, nil
		}
	}
	if indexing {
		return turnCaughtUp, changed, nil
	}
	return turnFinished, nil, nil
}

// filterCache is a capture's view of its server's filter jobs.
type filterCache struct {
	q *filterJobs
	c *Capture
}

// normalizeFilter trims an expression; "" means no filter.
func normalizeFilter(expr string) string { return strings.TrimSpace(expr) }

// lookup returns the job for expr, if any, and counts it as asked for.
func (fc *filterCache) lookup(expr string) *filterJob { return fc.q.lookup(fc.c, expr) }

// get returns the job for m's expression, starting it with m when it is
// new (in client's queue), and counts it as asked for. The expression must
// already have been validated (m.Check). It fails with errFilterMemory
// when the jobs' memory budget has no room for a new job.
func (fc *filterCache) get(m *filter.Matcher, client string) (*filterJob, error) {
	return fc.q.get(fc.c, m, client)
}

// hold counts j as asked for until release: a request waits on it.
func (fc *filterCache) hold(j *filterJob) { fc.q.hold(j, 1) }

// release ends a hold.
func (fc *filterCache) release(j *filterJob) { fc.q.hold(j, -1) }

// status returns j's progress and its place in the queue.
func (fc *filterCache) status(j *filterJob) FilterStatus {
	return fc.q.status(j)
}

// cancel stops and forgets the job for expr. It reports whether there was
// one.
func (fc *filterCache) cancel(expr string) bool { return fc.q.cancel(fc.c, expr) }

// cancelAll stops every job of the capture and waits for them to end.
func (fc *filterCache) cancelAll() { fc.q.cancelAll(fc.c) }

// statuses returns the progress of every job of the capture, oldest first.
func (fc *filterCache) statuses() []FilterStatus { return fc.q.statuses(fc.c) }
