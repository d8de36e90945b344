package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFilterJobTurns: clients take turns, each with its jobs in order, so
// one asking for many filters does not hold back one asking for one; a job
// nobody asked about for a while comes after the others; and workers take
// jobs in the order their positions say.
func TestFilterJobTurns(t *testing.T) {
	p := newTestPool(t, Config{})
	c := openCapture(t, p, 1000)
	q := p.jobs
	p.SetFilterWorkers(0)
	jobs := map[string]*Job{}
	for _, e := range []struct{ expr, client string }{
		{"port 1", "A"}, {"port 2", "A"}, {"port 3", "A"},
		{"port 4", "B"},
		{"port 5", "C"}, {"port 6", "C"},
	} {
		jobs[e.expr] = startJob(t, c, e.expr, e.client)
	}
	order := func() []string {
		q.mu.Lock()
		defer q.mu.Unlock()
		pos := q.positionsLocked(time.Now())
		out := make([]string, len(pos))
		for j, p := range pos {
			out[p-1] = j.expr
		}
		return out
	}
	want := []string{"port 1", "port 4", "port 5", "port 2", "port 6", "port 3"}
	if got := order(); !slices.Equal(got, want) {
		t.Errorf("turns %q, want %q", got, want)
	}
	// Nobody has asked for port 1 for a while: it comes last.
	q.mu.Lock()
	jobs["port 1"].lastUse = time.Now().Add(-2 * q.idle)
	q.mu.Unlock()
	want = []string{"port 2", "port 4", "port 5", "port 3", "port 6", "port 1"}
	if got := order(); !slices.Equal(got, want) {
		t.Errorf("turns with port 1 idle: %q, want %q", got, want)
	}
	// The workers' picks follow the positions.
	q.mu.Lock()
	var picked []string
	for j := q.pickLocked(time.Now()); j != nil; j = q.pickLocked(time.Now()) {
		picked = append(picked, j.expr)
	}
	q.mu.Unlock()
	if !slices.Equal(picked, want) {
		t.Errorf("picked %q, want %q", picked, want)
	}
}

// TestFilterJobEviction: finished jobs are evicted least recently used
// first when a new job needs their memory; a job in use (asked for within
// the idle time, or waited on) is never evicted, and a new job that does
// not fit beside those in use is refused; an idle one gives way.
func TestFilterJobEviction(t *testing.T) {
	const n = 2000
	p := newTestPool(t, Config{})
	c := openCapture(t, p, n)
	q := p.jobs
	charges := func() (total int) {
		q.mu.Lock()
		defer q.mu.Unlock()
		for _, j := range q.jobs {
			total += q.chargeLocked(j)
		}
		return total
	}
	setBudget := func(b int) {
		q.mu.Lock()
		q.budget = b
		q.mu.Unlock()
	}
	present := func(expr string) bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.jobs[jobKey{c, expr}] != nil
	}

	// Three finished jobs, then room for exactly one more: the least
	// recently used of the three goes.
	finished := []string{"src port 1024", "src port 2021", "src port 3018"}
	var old []*Job
	for _, expr := range finished {
		j := startJob(t, c, expr, "A")
		waitDone(t, j)
		old = append(old, j)
	}
	newExpr := "src port 4015"
	setBudget(charges() + reserve(n) + len(newExpr) - 1)
	for _, k := range []int{1, 0, 2} { // port 2021 is now the least recently used
		time.Sleep(time.Millisecond)
		if c.LookupFilter(finished[k]) == nil {
			t.Fatalf("%q gone before it had to", finished[k])
		}
	}
	j := startJob(t, c, newExpr, "A")
	if present(finished[1]) || !present(finished[0]) || !present(finished[2]) {
		t.Errorf("after %q: present %v %v %v, want only %q evicted", newExpr,
			present(finished[0]), present(finished[1]), present(finished[2]), finished[1])
	}
	waitDone(t, j)
	if st := old[1].status(); !st.Done || st.Matched == 0 {
		t.Errorf("evicted finished job: %+v", st)
	}

	// Jobs in use, queued: with no room, a new one is refused and they
	// stay.
	for _, expr := range append(finished, newExpr) {
		c.CancelFilter(expr)
	}
	p.SetFilterWorkers(0)
	setBudget(defaultFilterBudget)
	asked := startJob(t, c, "udp", "A")
	held := startJob(t, c, "arp", "A")
	q.hold(held, 1)
	q.mu.Lock()
	held.lastUse = time.Now().Add(-2 * q.idle) // waited on, though not asked for lately
	q.mu.Unlock()
	setBudget(charges() + len("icmp")) // room for icmp once one of them goes
	if _, err := c.StartFilter("icmp", "B"); !errors.Is(err, ErrFilterMemory) {
		t.Fatalf("new job beside jobs in use: err %v, want ErrFilterMemory", err)
	}
	if !present("udp") || !present("arp") {
		t.Fatal("a job in use was evicted")
	}
	if !strings.Contains(ErrFilterMemory.Error(), "memory") {
		t.Errorf("ErrFilterMemory does not say memory is short: %v", ErrFilterMemory)
	}
	// Once nobody asks for udp, it gives way (stopped, forgotten); the
	// held job stays.
	q.mu.Lock()
	asked.lastUse = time.Now().Add(-2 * q.idle)
	q.mu.Unlock()
	icmp := startJob(t, c, "icmp", "B")
	waitDone(t, asked)
	if st := asked.status(); st.Error != errJobCancelled.Error() || present("udp") {
		t.Errorf("idle job after eviction: %+v, present %v", st, present("udp"))
	}
	if !present("arp") || !present("icmp") {
		t.Error("the held job or the new one is gone")
	}
	q.hold(held, -1)
	p.SetFilterWorkers(1)
	waitDone(t, held)
	waitDone(t, icmp)
}

// TestFilterJobSharedTurn: jobs on one capture whose scans are near each
// other share turns, reading each packet once for all of them, and each
// still scans every packet once: one that had gone ahead skips what it has
// scanned, those behind catch up.
func TestFilterJobSharedTurn(t *testing.T) {
	const n = 10_000
	p := newTestPool(t, Config{})
	c := openCapture(t, p, n)
	q := p.jobs
	p.SetFilterWorkers(0)
	scanned0 := p.ScannedPackets()

	// tcp goes ahead by one batch, alone.
	tcp := startJob(t, c, "tcp", "A")
	q.mu.Lock()
	if j := q.pickLocked(time.Now()); j != tcp {
		t.Fatalf("picked %v", j)
	}
	tcp.state = jobRunning
	q.mu.Unlock()
	end, changed, err := scanTurn([]*Job{tcp}, newScanner(), 1, time.Now(), &q.scanned) // time is up after one batch
	q.mu.Lock()
	q.afterTurnLocked(tcp, end, changed, err)
	q.mu.Unlock()
	if st := tcp.status(); st.Scanned != scanBatch || end != turnMore || err != nil {
		t.Fatalf("after one batch: %+v, end %v, err %v", st, end, err)
	}

	// udp and arp start from the beginning; the three share turns.
	udp := startJob(t, c, "udp", "B")
	arp := startJob(t, c, "arp", "C")
	q.mu.Lock()
	lead := q.pickLocked(time.Now())
	group := append(q.companionsLocked(lead, time.Now()), lead)
	for _, j := range group {
		q.enqueueLocked(j) // back in line, for the workers
	}
	q.mu.Unlock()
	if len(group) != 3 {
		t.Fatalf("turn shared by %d jobs, want 3", len(group))
	}
	p.SetFilterWorkers(1)
	want := map[*Job]int{tcp: n * 7 / 10, udp: n / 10, arp: n / 10}
	for j, matched := range want {
		waitDone(t, j)
		if st := j.status(); st.Scanned != n || st.Matched != matched || st.Error != "" {
			t.Errorf("%q: %+v, want %d matches of %d", j.expr, st, matched, n)
		}
	}
	if got := p.ScannedPackets() - scanned0; got != 3*n {
		t.Errorf("scanned %d packets, want %d: each job scans each packet once", got, 3*n)
	}
}

// TestFilterJobSharedTurnSplit: many jobs on one capture are shared out
// between the workers, a turn per worker, rather than all riding on one
// worker's turn while the others have nothing to do.
func TestFilterJobSharedTurnSplit(t *testing.T) {
	p := newTestPool(t, Config{})
	c := openCapture(t, p, 1000)
	q := p.jobs
	p.SetFilterWorkers(0)
	var jobs []*Job
	for _, expr := range []string{"tcp", "udp", "arp", "icmp"} {
		jobs = append(jobs, startJob(t, c, expr, "A"))
	}
	q.mu.Lock()
	q.workers = 2 // as the workers would see it; none started
	var turns [][]*Job
	for lead := q.pickLocked(time.Now()); lead != nil; lead = q.pickLocked(time.Now()) {
		group := append(q.companionsLocked(lead, time.Now()), lead)
		for _, j := range group {
			j.state = jobRunning
		}
		turns = append(turns, group)
	}
	for _, group := range turns {
		for _, j := range group {
			q.enqueueLocked(j)
		}
	}
	q.mu.Unlock()
	if len(turns) != 2 || len(turns[0]) != 2 || len(turns[1]) != 2 {
		t.Errorf("4 jobs, 2 workers: turns of %d and %d jobs, want 2 and 2", len(turns[0]), len(turns[len(turns)-1]))
	}
	for _, j := range jobs {
		waitDone(t, j)
	}
}

// TestFilterWorkersReuseScanners checks that a worker takes the scanner a
// stopped worker left, instead of making one (fresh memory, which a
// parallel scan pays for in page faults), and that no more scanners are
// kept than there are workers.
func TestFilterWorkersReuseScanners(t *testing.T) {
	p := newTestPool(t, Config{})
	s := openCapture(t, p, 5000)
	q := p.jobs
	p.SetFilterWorkers(2)
	idle := func() []*scanner {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			q.mu.Lock()
			running, scanners := q.running, slices.Clone(q.scanners)
			q.mu.Unlock()
			if running == 0 {
				return scanners
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d workers still running", running)
			}
		}
	}
	var kept []*scanner
	for round, exprs := range [][]string{{"tcp"}, {"udp"}, {"port 1", "port 2", "port 3", "port 4"}, {"ip"}} {
		var jobs []*Job
		for _, expr := range exprs {
			jobs = append(jobs, startJob(t, s, expr, expr)) // a client each: a worker each
		}
		for _, j := range jobs {
			waitDone(t, j)
		}
		got := idle()
		if len(got) == 0 || len(got) > 2 {
			t.Fatalf("round %d: %d scanners kept for 2 workers", round, len(got))
		}
		if round > 0 && len(exprs) == 1 && (len(got) != len(kept) || !slices.Contains(got, kept[0]) || !slices.Contains(kept, got[0])) {
			t.Errorf("round %d, one job: scanners kept %p, were %p: its worker made one instead of taking one", round, got, kept)
		}
		kept = got
	}
}
