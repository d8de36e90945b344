package web

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pkttap/pkttap/internal/netnstest"
)

// TestBrowserPushLatency measures, in headless chromium, how long a live
// packet takes from the interface to the packet list: datagrams are sent
// at 10,000 a second for 3 s on the veth of a namespace pair, the page
// follows the capture's end, and for every packet the time its kernel
// timestamp says it arrived is compared with the first time the list
// showed its row or a later one. The median and the 95th percentile must
// be under 200 ms, and the rows must have come pushed over the WebSocket,
// not asked for with GET rows.
func TestBrowserPushLatency(t *testing.T) {
	ctx := newBrowser(t)
	pair, ts := newLiveServer(t, Config{})
	const port, rate, seconds = 7777, 10_000, 3

	_, info, e := startLive(t, ts, fmt.Sprintf(`{"interface": %q, "filter": "udp dst port %d"}`, pair.IfB, port))
	if info.ID == "" {
		t.Fatalf("start the live capture: %+v", e)
	}
	watchPushes(t, ctx)
	do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+info.ID))
	// The follow's first answer: its (empty) rows.
	waitJS(t, ctx, "the follow accepted", `window.__pushes > 0 && document.getElementById('status-count').textContent.includes('capturing')`)
	restBefore, framesBefore := evalJS[int](t, ctx, `window.__restRows`), evalJS[int](t, ctx, `window.__frames`)

	took, tickP99 := sendPaced(t, pair, port, rate, seconds)
	sent := rate * seconds
	t.Logf("sent %d datagrams in %v (the sender's 1 ms ticks: p99 %v apart)", sent, took, tickP99)
	fps := float64(evalJS[int](t, ctx, `window.__frames`)-framesBefore) / took.Seconds()
	waitJS(t, ctx, "every packet counted", fmt.Sprintf(`document.getElementById('status-count').textContent === 'Displayed %s of %[1]s (capturing…)'`, fmtThousands(sent)))
	waitJS(t, ctx, "the last row shown", fmt.Sprintf(`document.querySelector('#list-rows .row[data-no="%d"]') !== null`, sent))
	pushes := evalJS[int](t, ctx, `window.__pushes`)
	rest := evalJS[int](t, ctx, `window.__restRows`) - restBefore
	shown := evalJS[[][2]float64](t, ctx, `window.__shown`)
	pushed := evalJS[[][2]float64](t, ctx, `window.__pushAt`)

	// The packets' arrival times, as the capture stamped them.
	arrived := make([]float64, 0, sent) // ms since the epoch, by packet number - 1
	for from := 0; from < sent; from += maxRows {
		var r RowsResponse
		do(t, "GET", fmt.Sprintf("%s/api/captures/%s/rows?start=%d&count=%d", ts.URL, info.ID, from, maxRows), nil, &r)
		for _, row := range r.Rows {
			arrived = append(arrived, float64(row.Sec)*1e3+float64(row.Nsec)/1e6)
		}
	}
	if len(arrived) != sent {
		t.Fatalf("%d rows for %d datagrams", len(arrived), sent)
	}
	lat, err := latencies(arrived, shown)
	if err != nil {
		t.Fatalf("the list: %v", err)
	}
	got, err := latencies(arrived, pushed)
	if err != nil {
		t.Fatalf("the pushes: %v", err)
	}
	sort.Float64s(got)
	sort.Float64s(lat)
	median, p95 := lat[len(lat)/2], lat[len(lat)*95/100]
	t.Logf("%d packets at %d/s: from the interface to the list: median %.0f ms, p95 %.0f ms, max %.0f ms (min %.0f); to the page's WebSocket: median %.0f ms, p95 %.0f ms; %d pushes, %d list updates, %.0f frames/s, %d GET rows while capturing",
		sent, rate, median, p95, lat[len(lat)-1], lat[0], got[len(got)/2], got[len(got)*95/100], pushes, len(shown), fps, rest)
	// The new rows came pushed: the page asked for none while following.
	if pushes < seconds*5 || rest > 2 {
		t.Errorf("%d pushes and %d GET rows while following the capture: want its rows pushed", pushes, rest)
	}
	if slices.ContainsFunc(lat, func(ms float64) bool { return ms < -5 }) {
		t.Errorf("a row shown %.0f ms before its packet arrived: the clocks disagree", lat[0])
	}
	if median >= 200 || p95 >= 200 {
		// A machine too busy to keep a sender to a 1 ms schedule cannot
		// time a 200 ms goal either: say so rather than fail.
		if tickP99 > 20*time.Millisecond || took > seconds*time.Second*11/10 || fps < 20 {
			t.Skipf("median %.0f ms, p95 %.0f ms from the interface to the list, but the machine is too busy to time it (the sender's ticks: p99 %v apart, %v to send %v of datagrams; the page: %.0f frames/s): run it again on a quieter machine",
				median, p95, tickP99, took, seconds*time.Second, fps)
		}
		t.Errorf("median %.0f ms, p95 %.0f ms from the interface to the list: want both under 200 ms", median, p95)
	}
}

// latencies returns, for each packet (arrived: the ms since the epoch it
// arrived, by number - 1), the ms until the first of events ([ms since the
// epoch, packet number] with the numbers increasing) that reaches its
// number.
func latencies(arrived []float64, events [][2]float64) ([]float64, error) {
	out := make([]float64, 0, len(arrived))
	k := 0
	for i, at := range arrived {
		for k < len(events) && int(events[k][1]) < i+1 {
			k++
		}
		if k == len(events) {
			return nil, fmt.Errorf("packet %d never reached (%d events)", i+1, len(events))
		}
		out = append(out, events[k][0]-at)
	}
	return out, nil
}

// sendPaced sends rate datagrams a second for the given seconds from A to
// port on B, a millisecond's worth at a time, each carrying its number; it
// returns how long that took and how far apart its ticks came at the 99th
// percentile (how busy the machine is).
func sendPaced(t *testing.T, pair *netnstest.Pair, port, rate, seconds int) (took, tickP99 time.Duration) {
	t.Helper()
	conn := pair.UDPSocketA(t, 0)
	dst := &net.UDPAddr{IP: pair.IPB, Port: port}
	payload := make([]byte, 64)
	total := rate * seconds
	var gaps []time.Duration
	start := time.Now()
	last := start
	sent := 0
	for tick := time.NewTicker(time.Millisecond); sent < total; <-tick.C {
		now := time.Now()
		gaps = append(gaps, now.Sub(last))
		last = now
		for due := min(int(now.Sub(start).Seconds()*float64(rate))+rate/1000, total); sent < due; sent++ {
			binary.BigEndian.PutUint64(payload, uint64(sent))
			if _, err := conn.WriteToUDP(payload, dst); err != nil {
				t.Fatalf("send datagram %d: %v", sent, err)
			}
		}
	}
	took = time.Since(start)
	slices.Sort(gaps)
	return took, gaps[len(gaps)*99/100]
}

// TestPushLiveLatency times the server's share of the way from the
// interface to the list, without a browser: a WebSocket client follows a
// live capture while datagrams arrive at 10,000 a second for 2 s, and for
// every packet the time its kernel timestamp says it arrived is compared
// with the arrival of the first push reaching its number. The median and
// the 95th percentile must be under 100 ms (half the page's goal).
func TestPushLiveLatency(t *testing.T) {
	pair, ts := newLiveServer(t, Config{})
	const port, rate, seconds = 7778, 10_000, 2
	_, info, e := startLive(t, ts, fmt.Sprintf(`{"interface": %q, "filter": "udp dst port %d"}`, pair.IfB, port))
	if info.ID == "" {
		t.Fatalf("start the live capture: %+v", e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := dialWS(ctx, t, ts)
	conn.SetReadLimit(-1)
	sendFollow(ctx, t, conn, followRequest{Capture: info.ID, Key: "k", Window: 30})
	var events [][2]float64
	got := make(chan error, 1)
	go func() {
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				got <- err
				return
			}
			at := float64(time.Now().UnixNano()) / 1e6
			var m pushMessage
			if err := json.Unmarshal(b, &m); err != nil {
				got <- err
				return
			}
			if m.Type == "rows" && len(m.Rows) > 0 {
				events = append(events, [2]float64{at, float64(m.end())})
				if m.end() == rate*seconds {
					got <- nil
					return
				}
			}
		}
	}()
	took, tickP99 := sendPaced(t, pair, port, rate, seconds)
	if err := <-got; err != nil {
		t.Fatalf("reading the pushes: %v", err)
	}
	var arrived []float64
	for from := 0; from < rate*seconds; from += maxRows {
		var r RowsResponse
		do(t, "GET", fmt.Sprintf("%s/api/captures/%s/rows?start=%d&count=%d", ts.URL, info.ID, from, maxRows), nil, &r)
		for _, row := range r.Rows {
			arrived = append(arrived, float64(row.Sec)*1e3+float64(row.Nsec)/1e6)
		}
	}
	lat, err := latencies(arrived, events)
	if err != nil {
		t.Fatal(err)
	}
	sort.Float64s(lat)
	median, p95 := lat[len(lat)/2], lat[len(lat)*95/100]
	t.Logf("%d packets at %d/s: from the interface to a WebSocket client: median %.0f ms, p95 %.0f ms, max %.0f ms; %d pushes; sent in %v, ticks p99 %v apart",
		len(lat), rate, median, p95, lat[len(lat)-1], len(events), took, tickP99)
	if median >= 100 || p95 >= 100 {
		if tickP99 > 20*time.Millisecond || took > seconds*time.Second*11/10 {
			t.Skipf("median %.0f ms, p95 %.0f ms, but the machine is too busy to time it (the sender's ticks p99 %v apart): run it again on a quieter machine", median, p95, tickP99)
		}
		t.Errorf("median %.0f ms, p95 %.0f ms from the interface to a WebSocket client: want both under 100 ms", median, p95)
	}
}
