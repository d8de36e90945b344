package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
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
	n, clients := 100_000, 50
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
	const poll = 50 * time.Millisecond

	// Anchor: the same jobs one after the other, each polled by one client.
	want := map[string]int{}
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
	if together > limit {
		t.Errorf("together took %v, more than 2x back to back (%v) + 5 s", together, serial)
	}
	if scanned > int64(float64(clients*n)*1.2) {
		t.Errorf("jobs scanned %d packets, more than 1.2x the %d needed: work was thrown away", scanned, clients*n)
	}
}
