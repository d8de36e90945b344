package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// rssBytes returns the process's resident set size, or 0 where /proc does
// not tell it.
func rssBytes() int64 {
	n, _ := procStatusBytes(os.Getpid(), "VmRSS")
	return n
}

// settledRSS returns the resident set size once the garbage is collected
// and returned to the system.
func settledRSS() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return rssBytes()
}

// TestLoad is the short load test: 100 concurrent clients on a generated
// capture, each uploading, reading rows (plain and filtered), packets and
// filter progress, compiling filters and downloading, through Serve as
// pkttap-web runs it. It reports the 99th percentile latency of the small
// requests and the peak RSS, and checks that no request fails and that the
// RSS comes back near where it was before the load.
func TestLoad(t *testing.T) {
	const (
		clients = 100
		rounds  = 6
		packets = 20_000
	)
	_, base := serveTest(t, Config{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	res, err := client.Post(base+"/api/captures?name=load.pcap", "application/octet-stream", bytes.NewReader(synthetic(t, pcapio.FormatPcap, packets)))
	if err != nil {
		t.Fatal(err)
	}
	var info CaptureInfo
	jsonDecode(t, res, &info)
	res.Body.Close()
	if info = waitIndexed(t, urlOnly(base), info.ID); info.Packets != packets {
		t.Fatalf("capture %+v", info)
	}
	capURL := base + "/api/captures/" + info.ID
	small := synthetic(t, pcapio.FormatPcapNg, 500)
	filters := []string{"udp port 53", "icmp", "arp", "tcp port 80"}

	idle := settledRSS()
	var peak atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			if r := rssBytes(); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})

	var (
		mu        sync.Mutex
		latencies []time.Duration // of the small requests
		transfers []time.Duration // uploads and downloads
		failures  []string
	)
	// call makes one request and checks its status; small requests count
	// toward the latency percentiles.
	call := func(method, u, ctype string, body []byte, want int, small bool) []byte {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, _ := http.NewRequest(method, u, rd)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		start := time.Now()
		res, err := client.Do(req)
		var out []byte
		if err == nil {
			out, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		d := time.Since(start)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			failures = append(failures, fmt.Sprintf("%s %s: %v", method, u, err))
		case res.StatusCode != want:
			failures = append(failures, fmt.Sprintf("%s %s: status %d: %.200s", method, u, res.StatusCode, out))
		case small:
			latencies = append(latencies, d)
		default:
			transfers = append(transfers, d)
		}
		return out
	}

	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			expr := filters[c%len(filters)]
			q := url.QueryEscape(expr)
			for r := range rounds {
				pos := (c*7919 + r*104729) % (packets - 100)
				call("GET", fmt.Sprintf("%s/rows?start=%d&count=100", capURL, pos), "", nil, http.StatusOK, true)
				call("GET", fmt.Sprintf("%s/packets/%d", capURL, pos+1), "", nil, http.StatusOK, true)
				call("GET", fmt.Sprintf("%s/rows?start=%d&count=50&filter=%s", capURL, r*50, q), "", nil, http.StatusOK, true)
				call("GET", base+"/api/filter?linktype=EN10MB&expr="+q, "", nil, http.StatusOK, true)
				call("GET", capURL, "", nil, http.StatusOK, true)
			}
			call("POST", capURL+"/filter", "application/json", []byte(fmt.Sprintf(`{"filter": %q}`, expr)), http.StatusAccepted, true)
			switch c % 10 {
			case 0: // an upload of its own, read and deleted
				var mine CaptureInfo
				if err := jsonUnmarshal(call("POST", base+"/api/captures?name=mine.pcapng", "application/octet-stream", small, http.StatusCreated, false), &mine); err == nil && mine.ID != "" {
					call("GET", base+"/api/captures/"+mine.ID+"/rows?count=10", "", nil, http.StatusOK, true)
					call("DELETE", base+"/api/captures/"+mine.ID, "", nil, http.StatusNoContent, true)
				}
			case 1, 2: // a filtered download
				call("GET", capURL+"/download?format=pcapng&filter="+q, "", nil, http.StatusOK, false)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	sampler.Wait()
	client.CloseIdleConnections()

	for i, f := range failures {
		if i == 10 {
			t.Errorf("... and %d more failures", len(failures)-10)
			break
		}
		t.Error(f)
	}
	slices.Sort(latencies)
	slices.Sort(transfers)
	pct := func(d []time.Duration, p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[min(len(d)-1, int(float64(len(d))*p))]
	}
	after := settledRSS()
	t.Logf("%d clients, %d small requests in %v: p50 %v, p99 %v, max %v; %d uploads and downloads: p99 %v",
		clients, len(latencies), elapsed.Round(time.Millisecond), pct(latencies, 0.5), pct(latencies, 0.99), pct(latencies, 1), len(transfers), pct(transfers, 0.99))
	t.Logf("RSS: idle %d MB, peak %d MB, after %d MB", idle>>20, peak.Load()>>20, after>>20)
	if idle == 0 {
		testenv.Missing(t, "proc", "no /proc: the RSS after the load is not checked")
	}
	if margin := int64(128 << 20); after > idle+margin {
		t.Errorf("RSS %d MB after the load, idle was %d MB: more than %d MB kept", after>>20, idle>>20, margin>>20)
	}
}
