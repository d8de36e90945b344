package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// pollFilter asks for the first rows of expr every interval, as a packet
// list showing that filter does, until the job is done, ctx ends or a
// request fails.
func pollFilter(ctx context.Context, base, expr string, interval time.Duration) (FilterStatus, error) {
	url := base + "/rows?count=20&filter=" + urlQuery(expr)
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			return FilterStatus{}, err
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return FilterStatus{}, fmt.Errorf("filter %q: %w", expr, err)
		}
		var r RowsResponse
		err = json.NewDecoder(res.Body).Decode(&r)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK || r.Progress == nil {
			return FilterStatus{}, fmt.Errorf("filter %q: status %d: %v", expr, res.StatusCode, err)
		}
		if r.Progress.Done {
			return *r.Progress, nil
		}
		select {
		case <-ctx.Done():
			return *r.Progress, fmt.Errorf("filter %q not done: %+v", expr, *r.Progress)
		case <-time.After(interval):
		}
	}
}

// manyFilters returns n distinct filters of about the same cost.
func manyFilters(n int) []string {
	out := make([]string, n)
	for k := range out {
		out[k] = fmt.Sprintf("src port %d", 1024+k*997)
	}
	return out
}

// TestManyClientsManyFilters is the thrash scenario of many clients, each
// polling the rows of its own filter on one capture: every job must finish
// with complete results, in about the time the same jobs take one after
// the other, without scanning packets twice.
func TestManyClientsManyFilters(t *testing.T) {
	n, clients := 40_000, 50
	if v := os.Getenv("PKTTAP_FILTERJOBS_PACKETS"); v != "" {
		// The case: PKTTAP_FILTERJOBS_PACKETS=1000000.
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("PKTTAP_FILTERJOBS_PACKETS=%q: %v", v, err)
		}
	}
	s, ts := newTestServer(t, Config{})
	id := waitIndexed(t, ts, upload(t, ts, "many.pcap", synthetic(t, pcapio.FormatPcap, n)).ID).ID
	base := ts.URL + "/api/captures/" + id
	exprs := manyFilters(clients)
	const poll = 25 * time.Millisecond

	// Anchor: the same jobs one after the other, each polled by one client.
	want := map[string]int{}
	cpu0, _ := processCPU()
	t0 := time.Now()
	for _, expr := range exprs {
		st, err := pollFilter(context.Background(), base, expr, poll)
		if err != nil {
			t.Fatal(err)
		}
		if st.Scanned != n || st.Error != "" {
			t.Fatalf("filter %q alone: %+v", expr, st)
		}
		want[expr] = st.Matched
	}
	serial := time.Since(t0)
	cpu1, _ := processCPU()
	t.Logf("back to back: %v", serial)
	for _, expr := range exprs {
		if res := do(t, "DELETE", base+"/filter?filter="+urlQuery(expr), nil, nil); res.StatusCode != http.StatusNoContent && res.StatusCode != http.StatusNotFound {
			t.Fatalf("forget %q: status %d", expr, res.StatusCode)
		}
	}

	// All at once, each polled by its own client.
	limit := 2*serial + 5*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	scanned0 := s.filters.scannedPackets()
	t0 = time.Now()
	var wg sync.WaitGroup
	got := make([]FilterStatus, len(exprs))
	errs := make([]error, len(exprs))
	for k, expr := range exprs {
		wg.Go(func() { got[k], errs[k] = pollFilter(ctx, base, expr, poll) })
	}
	wg.Wait()
	together := time.Since(t0)
	cpu2, cpuOK := processCPU()
	scanned := s.filters.scannedPackets() - scanned0
	done := 0
	for k, expr := range exprs {
		if errs[k] != nil {
			t.Error(errs[k])
			continue
		}
		if st := got[k]; st.Scanned != n || st.Matched != want[expr] || st.Error != "" {
			t.Errorf("filter %q with others: %+v, want %d matches of %d", expr, st, want[expr], n)
			continue
		}
		done++
	}
	t.Logf("%d packets, %d clients: back to back %v, together %v (%.2fx); %d of %d complete; scanned %d packets (%.2fx the %d needed)",
		n, clients, serial.Round(time.Millisecond), together.Round(time.Millisecond), together.Seconds()/serial.Seconds(),
		done, clients, scanned, float64(scanned)/float64(clients*n), clients*n)
	if cpuOK {
		// CPU time (server and clients) says more than wall time on a busy
		// machine.
		t.Logf("CPU time: back to back %v, together %v (%.2fx)", (cpu1 - cpu0).Round(time.Millisecond),
			(cpu2 - cpu1).Round(time.Millisecond), (cpu2-cpu1).Seconds()/(cpu1-cpu0).Seconds())
	}
	if together > limit {
		t.Errorf("together took %v, more than 2x back to back (%v) + 5 s", together, serial)
	}
	if scanned > int64(float64(clients*n)*1.2) {
		t.Errorf("jobs scanned %d packets, more than 1.2x the %d needed: work was thrown away", scanned, clients*n)
	}
}

// setWorkers changes how many jobs q runs at once; 0 holds every job in
// the queue.
func setWorkers(q *filterJobs, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.workers = n
	q.startWorkersLocked()
}

// openCapture uploads n synthetic packets and waits until they are indexed.
func openCapture(t *testing.T, s *Server, ts *httptest.Server, n int) *Capture {
	t.Helper()
	id := waitIndexed(t, ts, upload(t, ts, "q.pcap", synthetic(t, pcapio.FormatPcap, n)).ID).ID
	c, ok := s.capture(id)
	if !ok {
		t.Fatalf("capture %s not found", id)
	}
	return c
}

// startJob starts the job for expr on c as client asks for it.
func startJob(t *testing.T, c *Capture, expr, client string) *filterJob {
	t.Helper()
	j, err := c.filters.get(c.newMatcher(expr), client)
	if err != nil {
		t.Fatalf("start %q: %v", expr, err)
	}
	return j
}

// waitDone waits (a bounded time) until j is done.
func waitDone(t *testing.T, j *filterJob) {
	t.Helper()
	select {
	case <-j.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("job %q not done after 30 s: %+v", j.expr, j.status())
	}
}

// TestFilterJobQueued: a job waiting for a worker says so, with its place
// in the queue, in every answer that carries its progress (start, rows,
// the capture and the WebSocket's snapshot of it), then runs.
func TestFilterJobQueued(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	c := openCapture(t, s, ts, 2000)
	base := ts.URL + "/api/captures/" + c.id
	setWorkers(s.filters, 0)
	exprs := []string{"tcp", "udp", "arp"}
	for k, expr := range exprs {
		var st FilterStatus
		res := do(t, "POST", base+"/filter", strings.NewReader(fmt.Sprintf(`{"filter": %q}`, expr)), &st, "Content-Type", "application/json")
		if res.StatusCode != http.StatusAccepted || !st.Queued || st.Position != k+1 || st.Scanned != 0 || st.Done {
			t.Fatalf("start %q: status %d %+v, want queued at %d", expr, res.StatusCode, st, k+1)
		}
	}
	var r RowsResponse
	do(t, "GET", base+"/rows?filter=udp", nil, &r)
	if p := r.Progress; p == nil || !p.Queued || p.Position != 2 || len(r.Rows) != 0 {
		t.Fatalf("rows of a queued job: %+v, progress %+v", r, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := dialWS(ctx, t, ts)
	_, msg, err := conn.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var state stateMessage
	if err := json.Unmarshal(msg, &state); err != nil {
		t.Fatal(err)
	}
	if len(state.Captures) != 1 || len(state.Captures[0].Filters) != 3 {
		t.Fatalf("snapshot: %s", msg)
	}
	for k, f := range state.Captures[0].Filters {
		if f.Filter != exprs[k] || !f.Queued || f.Position != k+1 {
			t.Errorf("snapshot of %q: %+v, want queued at %d", exprs[k], f, k+1)
		}
	}
	if !strings.Contains(string(msg), `"queued":true,"position":1`) {
		t.Errorf("snapshot does not carry queued and position as the README says: %s", msg)
	}

	setWorkers(s.filters, 1)
	for _, expr := range exprs {
		st := waitFilter(t, ts, c.id, expr)
		if st.Queued || st.Position != 0 || st.Scanned != 2000 || st.Error != "" {
			t.Errorf("%q after it ran: %+v", expr, st)
		}
	}
}

// TestFilterJobTurns: clients take turns, each with its jobs in order, so
// one asking for many filters does not hold back one asking for one; a job
// nobody asked about for a while comes after the others; and workers take
// jobs in the order their positions say.
func TestFilterJobTurns(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	c := openCapture(t, s, ts, 1000)
	q := s.filters
	setWorkers(q, 0)
	jobs := map[string]*filterJob{}
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
	s, ts := newTestServer(t, Config{})
	c := openCapture(t, s, ts, n)
	q := s.filters
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
	var old []*filterJob
	for _, expr := range finished {
		j := startJob(t, c, expr, "A")
		waitDone(t, j)
		old = append(old, j)
	}
	newExpr := "src port 4015"
	setBudget(charges() + reserve(n) + len(newExpr) - 1)
	for _, k := range []int{1, 0, 2} { // port 2021 is now the least recently used
		time.Sleep(time.Millisecond)
		if c.filters.lookup(finished[k]) == nil {
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
		c.filters.cancel(expr)
	}
	setWorkers(q, 0)
	setBudget(defaultFilterBudget)
	asked := startJob(t, c, "udp", "A")
	held := startJob(t, c, "arp", "A")
	c.filters.hold(held)
	q.mu.Lock()
	held.lastUse = time.Now().Add(-2 * q.idle) // waited on, though not asked for lately
	q.mu.Unlock()
	setBudget(charges() + len("icmp")) // room for icmp once one of them goes
	if _, err := c.filters.get(c.newMatcher("icmp"), "B"); !errors.Is(err, errFilterMemory) {
		t.Fatalf("new job beside jobs in use: err %v, want errFilterMemory", err)
	}
	if !present("udp") || !present("arp") {
		t.Fatal("a job in use was evicted")
	}
	// Over HTTP, that is a 503 with Retry-After.
	var e apiError
	res := do(t, "GET", ts.URL+"/api/captures/"+c.id+"/rows?filter=icmp", nil, &e)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(e.Error, "memory") {
		t.Errorf("rows with a new filter and no room: status %d, Retry-After %q, %+v", res.StatusCode, res.Header.Get("Retry-After"), e)
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
	c.filters.release(held)
	setWorkers(q, 1)
	waitDone(t, held)
	waitDone(t, icmp)
}

// TestFilterJobFollowsLive: a job that has caught up with a running live
// capture gives its worker back while it waits for packets, so jobs on
// other captures run, and it goes on with the packets that arrive.
func TestFilterJobFollowsLive(t *testing.T) {
	b := &fakeBackend{ifaces: fakeInterfaces(), frame: 60, every: time.Millisecond}
	s, ts := newTestServer(t, Config{Live: b})
	setWorkers(s.filters, 1)
	res, info, e := startLive(t, ts, `{"interface": "veth0"}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start live: %d %+v", res.StatusCode, e)
	}
	live, _ := s.capture(info.ID)
	lj := startJob(t, live, "ether proto 0x88b5", "A")
	scanned := func() int { return lj.status().Scanned }
	deadline := time.Now().Add(10 * time.Second)
	for scanned() < 50 {
		if time.Now().After(deadline) {
			t.Fatalf("live job: %+v", lj.status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	file := openCapture(t, s, ts, 5000)
	if st := waitFilter(t, ts, file.id, "tcp"); st.Scanned != 5000 {
		t.Fatalf("job on a file beside a live one: %+v", st)
	}
	before := scanned()
	for deadline = time.Now().Add(10 * time.Second); scanned() < before+50; {
		if time.Now().After(deadline) {
			t.Fatalf("live job stopped following: %+v", lj.status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := lj.status(); st.Matched != st.Scanned || st.Done {
		t.Errorf("live job: %+v", st)
	}
	if res := do(t, "POST", ts.URL+"/api/captures/"+info.ID+"/stop", nil, nil); res.StatusCode/100 != 2 {
		t.Fatalf("stop: status %d", res.StatusCode)
	}
	waitDone(t, lj)
	if st := lj.status(); st.Scanned != live.Packets() || st.Matched != st.Scanned || st.Error != "" {
		t.Errorf("live job after stop: %+v, %d packets", st, live.Packets())
	}
}

// TestFilterJobSharedTurn: jobs on one capture whose scans are near each
// other share turns, reading each packet once for all of them, and each
// still scans every packet once: one that had gone ahead skips what it has
// scanned, those behind catch up.
func TestFilterJobSharedTurn(t *testing.T) {
	const n = 10_000
	s, ts := newTestServer(t, Config{})
	c := openCapture(t, s, ts, n)
	q := s.filters
	setWorkers(q, 0)
	scanned0 := q.scannedPackets()

	// tcp goes ahead by one batch, alone.
	tcp := startJob(t, c, "tcp", "A")
	q.mu.Lock()
	if j := q.pickLocked(time.Now()); j != tcp {
		t.Fatalf("picked %v", j)
	}
	tcp.state = jobRunning
	q.mu.Unlock()
	end, changed, err := scanTurn([]*filterJob{tcp}, newScanner(), time.Now(), &q.scanned) // time is up after one batch
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
	setWorkers(q, 1)
	want := map[*filterJob]int{tcp: n * 7 / 10, udp: n / 10, arp: n / 10}
	for j, matched := range want {
		waitDone(t, j)
		if st := j.status(); st.Scanned != n || st.Matched != matched || st.Error != "" {
			t.Errorf("%q: %+v, want %d matches of %d", j.expr, st, matched, n)
		}
	}
	if got := q.scannedPackets() - scanned0; got != 3*n {
		t.Errorf("scanned %d packets, want %d: each job scans each packet once", got, 3*n)
	}
}

// TestFilterJobSharedTurnSplit: many jobs on one capture are shared out
// between the workers, a turn per worker, rather than all riding on one
// worker's turn while the others have nothing to do.
func TestFilterJobSharedTurnSplit(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	c := openCapture(t, s, ts, 1000)
	q := s.filters
	setWorkers(q, 0)
	var jobs []*filterJob
	for _, expr := range []string{"tcp", "udp", "arp", "icmp"} {
		jobs = append(jobs, startJob(t, c, expr, "A"))
	}
	q.mu.Lock()
	q.workers = 2 // as the workers would see it; none started
	var turns [][]*filterJob
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
