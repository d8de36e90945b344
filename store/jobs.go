package store

import (
	"cmp"
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkttap/pkttap/store/internal/matchset"
)

// Defaults of a pool's filter jobs (see filterJobs).
const (
	defaultFilterIdle    = 20 * time.Second
	defaultFilterBudget  = 128 << 20
	defaultFilterQuantum = 100 * time.Millisecond
	// A turn is shared by up to maxGroup jobs on one capture whose scans
	// are within groupSpan packets of each other.
	maxGroup  = 64
	groupSpan = 16 * scanBatch
	// jobOverhead is what a job is counted as beside its expression,
	// programs and results: its structs, context, map and queue entries.
	jobOverhead = 2 << 10
)

// ErrFilterMemory refuses a new filter job when the memory set aside for
// filter results is taken by jobs in use.
var ErrFilterMemory = errors.New("too many filter jobs in use: the memory set aside for their results is full; retry when some are done, or cancel one")

// filterJobs runs the filter jobs of all of a pool's stores.
//
// Turns: at most workers turns run at once. A job scans for a turn of
// quantum, then waits in the queue for its next turn, keeping its
// position, so every job asked for progresses and none restarts. The
// queue is round-robin by client (Store.StartFilter's): the clients with queued
// jobs take turns, each with its own jobs in the order they queued, so a
// client that asks for many filters gets no more turns than one that asks
// for one. A turn is shared with the queued jobs on the same capture whose
// scans are near (companionsLocked): each packet is read once for all of
// them, which is most of the cost of a scan, so many filters on one
// capture take little more time than one. A job that has scanned every
// packet of a capture still growing (indexing, or a live capture) leaves
// the queue until packets arrive. A turn scans on as many goroutines as
// there are workers per running turn (all of them for a lone job), each
// on its own range of packets (see scanTurn).
//
// Use: a job is asked for by every rows, position, download or start
// request naming it, and held while a request waits on it. One nobody has
// asked for during idle is idle: it has a turn only when no other job
// waits, and may be evicted.
//
// Memory: a job's results are counted in bytes (package matchset). A job
// still scanning is charged what its results can grow to over the packets
// there are, a finished one what it holds. When the total passes budget,
// finished and idle jobs are evicted (stopped and forgotten), least
// recently asked for first; a job in use is never evicted, and a new job
// that does not fit beside those in use is refused with ErrFilterMemory.
type filterJobs struct {
	workers int           // jobs scanning at once
	quantum time.Duration // a turn's length
	idle    time.Duration // unused this long, a job is idle
	budget  int           // bytes the jobs may take

	scanned atomic.Int64 // packets scanned by every job, ever

	mu      sync.Mutex
	jobs    map[jobKey]*Job
	clients []*clientQueue // clients with queued jobs, in turn order
	running int            // workers running
	seq     uint64
	// Scanners of workers that have stopped, for the next ones: a new
	// scanner's buffers are fresh memory, which a scan on two cores pays
	// for with milliseconds of page faults. At most one per worker.
	scanners []*scanner
}

// jobKey names a job: its store and expression.
type jobKey struct {
	s    *Store
	expr string
}

// clientQueue is one client's queued jobs, in the order they queued.
type clientQueue struct {
	client string
	jobs   []*Job
}

// newFilterJobs returns a scheduler with the default policy: a worker per
// CPU.
func newFilterJobs() *filterJobs {
	return &filterJobs{
		workers: runtime.GOMAXPROCS(0),
		quantum: defaultFilterQuantum,
		idle:    defaultFilterIdle,
		budget:  defaultFilterBudget,
		jobs:    map[jobKey]*Job{},
	}
}

// lookup returns the job for expr on s, if any, counting it as asked for.
func (q *filterJobs) lookup(s *Store, expr string) *Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	j := q.jobs[jobKey{s, expr}]
	if j != nil {
		j.lastUse = time.Now()
	}
	return j
}

// get returns the job for m's expression on s, starting it with m, ctx
// and cancel (which ends ctx) when it is new; else cancel is called.
func (q *filterJobs) get(s *Store, m matcher, ctx context.Context, cancel context.CancelFunc, client string) (*Job, error) {
	expr := m.Expr()
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	if j := q.jobs[jobKey{s, expr}]; j != nil {
		cancel()
		j.lastUse = now
		return j, nil
	}
	if !q.trimLocked(now, reserve(s.Count())+len(expr)) {
		cancel()
		return nil, ErrFilterMemory
	}
	q.seq++
	j := &Job{
		expr: expr, m: m, s: s, client: client, seq: q.seq,
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		lastUse: now,
	}
	q.jobs[jobKey{s, expr}] = j
	q.enqueueLocked(j)
	s.notify()
	return j, nil
}

// SetFilterWorkers sets how many filter jobs (or shared turns) scan at
// once, one worker each; 0 holds every job in its queue until workers are
// set again. The default is one per CPU (GOMAXPROCS).
func (p *Pool) SetFilterWorkers(n int) {
	q := p.jobs
	q.mu.Lock()
	defer q.mu.Unlock()
	q.workers = max(n, 0)
	q.startWorkersLocked()
}

// SetFilterMemory sets the bytes the filter jobs' results may take, all
// together (128 MiB by default; see filterJobs): finished and idle jobs are
// evicted to make room, and a new job that does not fit beside those in
// use is refused with ErrFilterMemory.
func (p *Pool) SetFilterMemory(bytes int) {
	q := p.jobs
	q.mu.Lock()
	defer q.mu.Unlock()
	q.budget = bytes
	q.trimLocked(time.Now(), 0)
}

// reserve is what a new job on a capture of n packets is charged.
func reserve(n int) int { return jobOverhead + matchset.MaxBytes(n) }

// chargeLocked is what j counts for against the budget.
func (q *filterJobs) chargeLocked(j *Job) int {
	b := jobOverhead + len(j.expr) + j.bytes()
	if j.state != jobEnded {
		b = max(b, len(j.expr)+reserve(j.s.Count()))
	}
	return b
}

// idleLocked reports whether nobody has asked for j during q.idle.
func (q *filterJobs) idleLocked(j *Job, now time.Time) bool {
	return j.holds == 0 && now.Sub(j.lastUse) >= q.idle
}

// trimLocked evicts finished and idle jobs, least recently used first,
// until the jobs and extra more bytes fit in the budget. It reports
// whether they do.
func (q *filterJobs) trimLocked(now time.Time, extra int) bool {
	total := extra
	var evictable []*Job
	for _, j := range q.jobs {
		total += q.chargeLocked(j)
		if j.state == jobEnded || (j.state != jobRunning && q.idleLocked(j, now)) {
			evictable = append(evictable, j)
		}
	}
	if total <= q.budget {
		return true
	}
	slices.SortFunc(evictable, func(a, b *Job) int { return a.lastUse.Compare(b.lastUse) })
	for _, j := range evictable {
		if total <= q.budget {
			break
		}
		total -= q.chargeLocked(j)
		q.dropLocked(j)
	}
	return total <= q.budget
}

// enqueueLocked puts j at the back of its client's queue and starts a
// worker when one is free.
func (q *filterJobs) enqueueLocked(j *Job) {
	j.state = jobQueued
	j.queued = j.next // no turn runs: next is still
	i := slices.IndexFunc(q.clients, func(cq *clientQueue) bool { return cq.client == j.client })
	if i < 0 {
		q.clients = append(q.clients, &clientQueue{client: j.client})
		i = len(q.clients) - 1
	}
	q.clients[i].jobs = append(q.clients[i].jobs, j)
	q.startWorkersLocked()
}

// startWorkersLocked starts a worker for each queued job while workers are
// free (a worker whose turn ends takes the next job itself).
func (q *filterJobs) startWorkersLocked() {
	for n := min(q.workers-q.running, q.queuedLocked()); n > 0; n-- {
		q.running++
		go q.work()
	}
}

// queuedLocked returns the number of queued jobs.
func (q *filterJobs) queuedLocked() int {
	n := 0
	for _, cq := range q.clients {
		n += len(cq.jobs)
	}
	return n
}

// pickLocked takes the next job to run off the queue: the first job not
// idle of the first client that has one, or failing that the first idle
// one. Its client goes to the back of the turn order. It returns nil when
// the queue is empty.
func (q *filterJobs) pickLocked(now time.Time) *Job {
	for _, wantIdle := range []bool{false, true} {
		for ci, cq := range q.clients {
			for ji, j := range cq.jobs {
				if q.idleLocked(j, now) != wantIdle {
					continue
				}
				cq.jobs = slices.Delete(cq.jobs, ji, ji+1)
				q.clients = slices.Delete(q.clients, ci, ci+1)
				if len(cq.jobs) > 0 {
					q.clients = append(q.clients, cq)
				}
				return j
			}
		}
	}
	return nil
}

// unqueueLocked removes a queued job from the queue.
func (q *filterJobs) unqueueLocked(j *Job) {
	for ci, cq := range q.clients {
		if ji := slices.Index(cq.jobs, j); ji >= 0 {
			cq.jobs = slices.Delete(cq.jobs, ji, ji+1)
			if len(cq.jobs) == 0 {
				q.clients = slices.Delete(q.clients, ci, ci+1)
			}
			return
		}
	}
}

// positionsLocked returns the place in the queue of every queued job, 1
// for the next to run, in the order pickLocked would take them if no job
// came back: by rounds of the clients' turns, jobs not idle first.
func (q *filterJobs) positionsLocked(now time.Time) map[*Job]int {
	pos := map[*Job]int{}
	for _, wantIdle := range []bool{false, true} {
		lists := make([][]*Job, len(q.clients))
		rounds := 0
		for i, cq := range q.clients {
			for _, j := range cq.jobs {
				if q.idleLocked(j, now) == wantIdle {
					lists[i] = append(lists[i], j)
				}
			}
			rounds = max(rounds, len(lists[i]))
		}
		for r := range rounds {
			for _, l := range lists {
				if r < len(l) {
					pos[l[r]] = len(pos) + 1
				}
			}
		}
	}
	return pos
}

// work runs turns of queued jobs until the queue is empty.
func (q *filterJobs) work() {
	q.mu.Lock()
	defer q.mu.Unlock()
	sc := newScanner()
	if n := len(q.scanners); n > 0 {
		sc, q.scanners = q.scanners[n-1], q.scanners[:n-1]
	}
	for {
		j := q.pickLocked(time.Now())
		if j == nil {
			q.running--
			if len(q.scanners) < q.workers {
				q.scanners = append(q.scanners, sc)
			}
			return
		}
		group := append(q.companionsLocked(j, time.Now()), j)
		for _, g := range group {
			g.state = jobRunning
		}
		// A turn scans on as many goroutines as the workers it has to
		// itself: all of them for a lone job.
		par := max(q.workers/max(q.running, 1), 1)
		q.mu.Unlock()
		end, changed, err := scanTurn(group, sc, par, time.Now().Add(q.quantum), &q.scanned)
		q.mu.Lock()
		for _, g := range group {
			q.afterTurnLocked(g, end, changed, err)
		}
		q.trimLocked(time.Now(), 0) // their results grew
	}
}

// companionsLocked takes off the queue the jobs that share j's turn:
// others on the same capture whose scans are within groupSpan packets of
// j's (idle ones only when j is idle; a running job's scan is where it was
// when it was queued), so that they read the capture once between them. Once in a turn together, jobs stay together. A turn takes
// no more than its share of the capture's jobs (queued or running) per
// worker, so that many jobs on one capture still keep every worker busy,
// and at most maxGroup.
func (q *filterJobs) companionsLocked(j *Job, now time.Time) []*Job {
	idle := q.idleLocked(j, now)
	with := func(k *Job) bool {
		return k.s == j.s && abs(k.queued-j.queued) <= groupSpan && (idle || !q.idleLocked(k, now))
	}
	busy := 1 // j
	for _, k := range q.jobs {
		if k != j && (k.state == jobQueued || k.state == jobRunning) && with(k) {
			busy++
		}
	}
	w := max(q.workers, 1)
	size := min(maxGroup, (busy+w-1)/w)
	var out []*Job
	for _, cq := range q.clients {
		for _, k := range cq.jobs {
			if len(out) < size-1 && k != j && with(k) {
				out = append(out, k)
			}
		}
	}
	for _, k := range out {
		q.unqueueLocked(k)
	}
	return out
}

func abs(x int) int { return max(x, -x) }

// afterTurnLocked puts j where its turn's end sends it.
func (q *filterJobs) afterTurnLocked(j *Job, end turnEnd, changed <-chan struct{}, err error) {
	switch {
	case j.ctx.Err() != nil:
		q.finishLocked(j, errJobCancelled)
	case err != nil:
		q.finishLocked(j, err)
	case end == turnMore:
		q.enqueueLocked(j)
	case end == turnCaughtUp:
		j.state = jobWaiting
		go q.waitMore(j, changed)
	default:
		q.finishLocked(j, nil)
	}
}

// waitMore queues j again when its capture has changed.
func (q *filterJobs) waitMore(j *Job, changed <-chan struct{}) {
	select {
	case <-changed:
	case <-j.ctx.Done():
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if j.state != jobWaiting {
		return // cancelled meanwhile
	}
	if j.ctx.Err() != nil {
		q.finishLocked(j, errJobCancelled)
		return
	}
	q.enqueueLocked(j)
}

// finishLocked ends j with err (nil: it scanned every packet).
func (q *filterJobs) finishLocked(j *Job, err error) {
	if j.state == jobEnded {
		return
	}
	j.state = jobEnded
	j.mu.Lock()
	j.fin = true
	if err != nil {
		j.err = err
	}
	j.mu.Unlock()
	j.cancel()
	close(j.done)
	j.s.notify()
}

// dropLocked forgets j and stops it: at once when it is queued or waiting
// for packets, at the end of its turn when it is running.
func (q *filterJobs) dropLocked(j *Job) {
	if q.jobs[jobKey{j.s, j.expr}] == j {
		delete(q.jobs, jobKey{j.s, j.expr})
	}
	j.cancel()
	switch j.state {
	case jobQueued:
		q.unqueueLocked(j)
		q.finishLocked(j, errJobCancelled)
	case jobWaiting:
		q.finishLocked(j, errJobCancelled)
	}
	j.s.notify()
}

// hold adds d to the requests waiting on j, counting it as asked for.
func (q *filterJobs) hold(j *Job, d int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	j.holds += d
	j.lastUse = time.Now()
}

// status returns j's progress and its place in the queue.
func (q *filterJobs) status(j *Job) FilterStatus {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := j.status()
	if j.state == jobQueued {
		st.Queued, st.Position = true, q.positionsLocked(time.Now())[j]
	}
	return st
}

// cancel stops and forgets the job for expr on s. It reports whether there
// was one.
func (q *filterJobs) cancel(s *Store, expr string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	j := q.jobs[jobKey{s, expr}]
	if j == nil {
		return false
	}
	q.dropLocked(j)
	return true
}

// cancelAll stops every job of s and waits for them to end.
func (q *filterJobs) cancelAll(s *Store) {
	q.mu.Lock()
	var jobs []*Job
	for k, j := range q.jobs {
		if k.s == s {
			jobs = append(jobs, j)
			q.dropLocked(j)
		}
	}
	q.mu.Unlock()
	for _, j := range jobs {
		<-j.done
	}
}

// statuses returns the progress of every job of s, oldest first.
func (q *filterJobs) statuses(s *Store) []FilterStatus {
	q.mu.Lock()
	defer q.mu.Unlock()
	var jobs []*Job
	for k, j := range q.jobs {
		if k.s == s {
			jobs = append(jobs, j)
		}
	}
	slices.SortFunc(jobs, func(a, b *Job) int { return cmp.Compare(a.seq, b.seq) })
	var pos map[*Job]int
	out := make([]FilterStatus, 0, len(jobs))
	for _, j := range jobs {
		st := j.status()
		if j.state == jobQueued {
			if pos == nil {
				pos = q.positionsLocked(time.Now())
			}
			st.Queued, st.Position = true, pos[j]
		}
		out = append(out, st)
	}
	return out
}
