package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
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
	scanned0 := s.pool.ScannedPackets()
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
	scanned := s.pool.ScannedPackets() - scanned0
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

// openCapture uploads n synthetic packets and waits until they are indexed.
func openCapture(t *testing.T, s *Server, ts *httptest.Server, n int) *store.Store {
	t.Helper()
	id := waitIndexed(t, ts, upload(t, ts, "q.pcap", synthetic(t, pcapio.FormatPcap, n)).ID).ID
	c, ok := s.capture(id)
	if !ok {
		t.Fatalf("capture %s not found", id)
	}
	return c
}

// startJob starts the job for expr on c as client asks for it.
func startJob(t *testing.T, c *store.Store, expr, client string) *store.Job {
	t.Helper()
	j, err := c.StartFilter(expr, client)
	if err != nil {
		t.Fatalf("start %q: %v", expr, err)
	}
	return j
}

// waitDone waits (a bounded time) until j is done.
func waitDone(t *testing.T, j *store.Job) {
	t.Helper()
	select {
	case <-j.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("job not done after 30 s: %+v", j.Status())
	}
}

// TestFilterJobQueued: a job waiting for a worker says so, with its place
// in the queue, in every answer that carries its progress (start, rows,
// the capture and the WebSocket's snapshot of it), then runs.
func TestFilterJobQueued(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	c := openCapture(t, s, ts, 2000)
	base := ts.URL + "/api/captures/" + c.ID()
	s.pool.SetFilterWorkers(0)
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

	s.pool.SetFilterWorkers(1)
	for _, expr := range exprs {
		st := waitFilter(t, ts, c.ID(), expr)
		if st.Queued || st.Position != 0 || st.Scanned != 2000 || st.Error != "" {
			t.Errorf("%q after it ran: %+v", expr, st)
		}
	}
}

// TestFilterJobFollowsLive: a job that has caught up with a running live
// capture gives its worker back while it waits for packets, so jobs on
// other captures run, and it goes on with the packets that arrive.
func TestFilterJobFollowsLive(t *testing.T) {
	b := &fakeBackend{ifaces: fakeInterfaces(), frame: 60, every: time.Millisecond}
	s, ts := newTestServer(t, Config{Live: b})
	s.pool.SetFilterWorkers(1)
	res, info, e := startLive(t, ts, `{"interface": "veth0"}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start live: %d %+v", res.StatusCode, e)
	}
	live, _ := s.capture(info.ID)
	lj := startJob(t, live, "ether proto 0x88b5", "A")
	scanned := func() int { return lj.Status().Scanned }
	deadline := time.Now().Add(10 * time.Second)
	for scanned() < 50 {
		if time.Now().After(deadline) {
			t.Fatalf("live job: %+v", lj.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	file := openCapture(t, s, ts, 5000)
	if st := waitFilter(t, ts, file.ID(), "tcp"); st.Scanned != 5000 {
		t.Fatalf("job on a file beside a live one: %+v", st)
	}
	before := scanned()
	for deadline = time.Now().Add(10 * time.Second); scanned() < before+50; {
		if time.Now().After(deadline) {
			t.Fatalf("live job stopped following: %+v", lj.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := lj.Status(); st.Matched != st.Scanned || st.Done {
		t.Errorf("live job: %+v", st)
	}
	if res := do(t, "POST", ts.URL+"/api/captures/"+info.ID+"/stop", nil, nil); res.StatusCode/100 != 2 {
		t.Fatalf("stop: status %d", res.StatusCode)
	}
	waitDone(t, lj)
	if st := lj.Status(); st.Scanned != live.Count() || st.Matched != st.Scanned || st.Error != "" {
		t.Errorf("live job after stop: %+v, %d packets", st, live.Count())
	}
}

// TestFilterMemoryFull: a new filter that does not fit in the memory set
// aside for filter results, beside the jobs in use, is refused with 503,
// Retry-After and a JSON error that says so.
func TestFilterMemoryFull(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	c := openCapture(t, s, ts, 1000)
	s.pool.SetFilterWorkers(0) // the job stays in use, queued
	base := ts.URL + "/api/captures/" + c.ID()
	if res := do(t, "GET", base+"/rows?filter=udp", nil, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("rows of a first filter: status %d", res.StatusCode)
	}
	s.pool.SetFilterMemory(1)
	var e apiError
	res := do(t, "GET", base+"/rows?filter=icmp", nil, &e)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(e.Error, "memory") {
		t.Errorf("rows with a new filter and no room: status %d, Retry-After %q, %+v", res.StatusCode, res.Header.Get("Retry-After"), e)
	}
	if res := do(t, "GET", base+"/rows?filter=udp", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("rows of the filter in use: status %d", res.StatusCode)
	}
}
