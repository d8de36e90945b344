package web

import (
	"context"
	"testing"
	"time"

	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// TestWebSocketCoalesces checks that a burst of changes reaches a client as
// a few fresh snapshots, at most one per wsMinInterval, not one message per
// change, and that the last snapshot has the final state.
func TestWebSocketCoalesces(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := dialWS(ctx, t, ts)
	if _, _, err := conn.Read(ctx); err != nil { // the initial snapshot
		t.Fatal(err)
	}
	const uploads = 20
	data := synthetic(t, pcapio.FormatPcap, 1000)
	start := time.Now()
	var ids []string
	for range uploads {
		ids = append(ids, upload(t, ts, "burst.pcap", data).ID)
	}
	for _, id := range ids {
		waitIndexed(t, ts, id)
	}
	var msgs int
	var last stateMessage
	for {
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		_, b, err := conn.Read(rctx)
		rcancel()
		if err != nil {
			break // quiet for a second: the burst is over
		}
		msgs++
		if err := jsonUnmarshal(b, &last); err != nil {
			t.Fatal(err)
		}
	}
	elapsed := time.Since(start) - time.Second
	if max := int(elapsed/wsMinInterval) + 2; msgs > max {
		t.Errorf("%d messages in %v: more than one per %v", msgs, elapsed, wsMinInterval)
	}
	if len(last.Captures) != uploads {
		t.Fatalf("last snapshot has %d captures, want %d", len(last.Captures), uploads)
	}
	for _, c := range last.Captures {
		if c.State != store.StateReady || c.Packets != 1000 {
			t.Errorf("last snapshot: %s %s with %d packets", c.ID, c.State, c.Packets)
		}
	}
	t.Logf("%d uploads: %d snapshots in %v", uploads, msgs, elapsed)
}
