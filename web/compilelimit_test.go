package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// TestCompileLimit checks that every request that compiles a filter waits
// for one of the server's compile slots, and answers 503 with Retry-After
// and a JSON error when none frees up in time.
func TestCompileLimit(t *testing.T) {
	b := &fakeBackend{ifaces: fakeInterfaces(), frame: 100, every: time.Millisecond}
	s, ts := newTestServer(t, Config{MaxCompiles: 1, CompileWait: 50 * time.Millisecond, Live: b})
	info := waitIndexed(t, ts, upload(t, ts, "c.pcap", synthetic(t, pcapio.FormatPcap, 100)).ID)
	base := ts.URL + "/api/captures/" + info.ID
	requests := []struct {
		name, method, url, body string
		ok                      int
	}{
		{"compile", "GET", ts.URL + "/api/filter?expr=tcp", "", http.StatusOK},
		{"compile a capture filter", "GET", ts.URL + "/api/filter?expr=tcp&interface=veth0", "", http.StatusOK},
		{"rows", "GET", base + "/rows?filter=tcp", "", http.StatusOK},
		{"position", "GET", base + "/position?no=1&filter=udp", "", http.StatusOK},
		{"filter job", "POST", base + "/filter", `{"filter": "icmp"}`, http.StatusAccepted},
		{"download", "GET", base + "/download?filter=arp", "", http.StatusOK},
		{"live start", "POST", ts.URL + "/api/live", `{"interface": "veth0", "filter": "udp"}`, http.StatusCreated},
	}
	// Hold the only slot, as a long compile would.
	releaseSlot, err := s.pool.AcquireCompile(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, rq := range requests {
		start := time.Now()
		res := do(t, rq.method, rq.url, strings.NewReader(rq.body), nil, "Content-Type", "application/json")
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
			t.Errorf("%s with every compile slot taken: status %d, Retry-After %q; want 503 with Retry-After", rq.name, res.StatusCode, res.Header.Get("Retry-After"))
			continue
		}
		checkJSONError(t, res)
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("%s: refused after %v, before waiting CompileWait", rq.name, d)
		}
	}
	if st := waitFilterStatuses(t, ts, info.ID); len(st) != 0 {
		t.Errorf("filter jobs started without a compile: %+v", st)
	}

	// A filter job started meanwhile (as a request that found a slot
	// would) waits for a slot before it scans.
	// A job started in a slot a request holds (here, the test's) compiles
	// its check there, which its scan reuses (store's
	// TestFilterJobCompileSlots checks that a compile for another link
	// type waits for a slot).
	c, _ := s.capture(info.ID)
	j, err := c.StartFilter("ip", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	releaseSlot()
	select {
	case <-j.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("filter job did not finish once the slot was free")
	}
	if st := c.FilterStatus(j); st.Error != "" || st.Scanned != 100 || st.Matched == 0 {
		t.Errorf("filter job after the wait: %+v", st)
	}

	for _, rq := range requests {
		res := do(t, rq.method, rq.url, strings.NewReader(rq.body), nil, "Content-Type", "application/json")
		if res.StatusCode != rq.ok {
			t.Errorf("%s with a free slot: status %d, want %d", rq.name, res.StatusCode, rq.ok)
		}
	}
	if _, n := s.pool.CompileSlots(); n != 0 {
		t.Errorf("%d compile slots still taken after the requests", n)
	}
}
