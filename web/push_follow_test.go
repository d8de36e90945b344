package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pkttap/pkttap/pcapio"
)

// sendFollow sends a follow request over conn.
func sendFollow(ctx context.Context, t testing.TB, conn *websocket.Conn, req followRequest) {
	t.Helper()
	req.Type = "follow"
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("send follow: %v", err)
	}
}

// pushMessage is any message the WebSocket carries, its type first.
type pushMessage struct {
	Type string `json:"type"`
	rowsPush
	Error  string          `json:"error"`
	No     int             `json:"no"`
	Packet json.RawMessage `json:"packet"`
}

// nextMessage reads conn's next message other than a state snapshot.
func nextMessage(ctx context.Context, t testing.TB, conn *websocket.Conn) pushMessage {
	t.Helper()
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("read the WebSocket: %v", err)
		}
		var m pushMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type != "state" {
			return m
		}
	}
}

// readPushes reads conn's messages until done says the rows pushed so far
// are all it waits for, and returns the rows messages of key in order;
// a follow-error fails the test.
func readPushes(ctx context.Context, t testing.TB, conn *websocket.Conn, key string, done func(last *rowsPush) bool) []rowsPush {
	t.Helper()
	var out []rowsPush
	for {
		m := nextMessage(ctx, t, conn)
		switch m.Type {
		case "follow-error":
			t.Fatalf("follow refused: %s", m.Error)
		case "rows":
			if m.Key != key {
				continue
			}
			m.rowsPush.Type = "rows"
			out = append(out, m.rowsPush)
			if done(&out[len(out)-1]) {
				return out
			}
		}
	}
}

// checkPushed checks that pushes, from position from on, account for
// every row exactly once: each batch's rows are contiguous and follow the
// previous batch after the rows it says it skipped. It returns the rows
// and the rows skipped in all.
func checkPushed(t testing.TB, pushes []rowsPush, from int) (rows, skipped int) {
	t.Helper()
	next := from
	for i, b := range pushes {
		if b.Start-b.Skipped != next {
			t.Fatalf("push %d starts at %d after skipping %d, but the previous ended at %d", i, b.Start, b.Skipped, next)
		}
		if b.Fields != nil && len(b.Fields) != len(b.Rows) {
			t.Fatalf("push %d: %d custom column rows for %d rows", i, len(b.Fields), len(b.Rows))
		}
		if b.Displayed < b.end() || b.Total < b.Displayed {
			t.Fatalf("push %d: rows up to %d of %d displayed, %d in all", i, b.end(), b.Displayed, b.Total)
		}
		rows += len(b.Rows)
		skipped += b.Skipped
		next = b.end()
	}
	return rows, skipped
}

// sameAsREST checks that each pushed batch's rows and custom columns are
// those GET …/rows serves for its positions with the follow's query.
func sameAsREST(t testing.TB, ts *httptest.Server, id, query string, pushes []rowsPush) {
	t.Helper()
	for i, b := range pushes {
		if len(b.Rows) == 0 {
			continue
		}
		var want RowsResponse
		do(t, "GET", fmt.Sprintf("%s/api/captures/%s/rows?start=%d&count=%d&%s", ts.URL, id, b.Start, len(b.Rows), query), nil, &want)
		if !reflect.DeepEqual(b.Rows, want.Rows) {
			t.Fatalf("push %d (rows %d-%d): pushed rows differ from GET rows':\npushed %+v\nREST   %+v", i, b.Start, b.end(), b.Rows[0], want.Rows[0])
		}
		if !reflect.DeepEqual(b.Fields, want.Fields) {
			t.Fatalf("push %d: pushed custom columns %v, GET rows' %v", i, b.Fields, want.Fields)
		}
	}
}

// TestPushFollowIndexing follows the end of a file while it is indexed,
// unfiltered and then under a display filter, with coloring rules, name
// resolution, checksums verified and custom columns: the pushes account
// for every row up to the last, in order, and carry exactly what GET
// …/rows serves for the same positions and query.
func TestPushFollowIndexing(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := dialWS(ctx, t, ts)
	q := url.Values{"color": {"tcp.flags.syn == 1", "udp", "ip"}, "names": {"t"}, "checksums": {"1"}, "fields": {"ip.ttl,frame.len"}}
	query := q.Encode()

	info := upload(t, ts, "follow.pcap", synthetic(t, pcapio.FormatPcap, 60_000))
	sendFollow(ctx, t, conn, followRequest{Capture: info.ID, Key: "all", Query: query, Window: 40})
	pushes := readPushes(ctx, t, conn, "all", func(b *rowsPush) bool { return !b.Indexing && b.end() == b.Total })
	final := waitIndexed(t, ts, info.ID)
	rows, skipped := checkPushed(t, pushes, 0)
	if last := pushes[len(pushes)-1]; int64(last.end()) != final.Packets || len(last.Rows) == 0 {
		t.Fatalf("the last push ends at %d with %d rows; %d packets", last.end(), len(last.Rows), final.Packets)
	}
	for i, b := range pushes {
		if len(b.Rows) > 40 {
			t.Fatalf("push %d has %d rows, over the window of 40", i, len(b.Rows))
		}
	}
	if pushes[len(pushes)-1].Rows[0].Color == nil {
		t.Errorf("pushed rows carry no coloring: %+v", pushes[len(pushes)-1].Rows[0])
	}
	sameAsREST(t, ts, info.ID, query, pushes)
	t.Logf("%d pushes while indexing %d packets: %d rows, %d skipped", len(pushes), final.Packets, rows, skipped)

	// Under a filter: the job started as the page starts it, followed
	// from a position already shown.
	filter := "udp || arp"
	do(t, "POST", ts.URL+"/api/captures/"+info.ID+"/filter", strings.NewReader(fmt.Sprintf(`{"filter": %q}`, filter)), nil)
	st := waitFilter(t, ts, info.ID, filter)
	q.Set("filter", filter)
	fquery := q.Encode()
	from := st.Matched - 25
	sendFollow(ctx, t, conn, followRequest{Capture: info.ID, Key: "filtered", Query: fquery, Window: 10, From: from})
	fpushes := readPushes(ctx, t, conn, "filtered", func(b *rowsPush) bool { return b.end() == st.Matched })
	if _, skipped := checkPushed(t, fpushes, from); skipped != 15 || len(fpushes) != 1 {
		t.Errorf("following %d filtered rows from %d with a window of 10: %d pushes, %d skipped; want 1 push of the last 10", st.Matched, from, len(fpushes), skipped)
	}
	sameAsREST(t, ts, info.ID, fquery, fpushes)
}

// TestPushFollowRefused checks the follows the server refuses, each with
// a follow-error that says why (the page then asks for rows with GET):
// an unknown capture, a sorted list, a filter with no job, a bad option.
func TestPushFollowRefused(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info := upload(t, ts, "refused.pcap", synthetic(t, pcapio.FormatPcap, 100))
	waitIndexed(t, ts, info.ID)
	conn := dialWS(ctx, t, ts)
	for _, tt := range []struct {
		capture, query, want string
	}{
		{"0123456789abcdef", "", "no capture with id"},
		{info.ID, "sort=len", "sorted list"},
		{info.ID, "filter=udp", `no filter job for "udp"`},
		{info.ID, "names=x", "parameter names takes m"},
		{info.ID, "fields=no.such.field", "no.such.field"},
	} {
		sendFollow(ctx, t, conn, followRequest{Capture: tt.capture, Key: tt.query, Query: tt.query, Window: 10})
		if m := nextMessage(ctx, t, conn); m.Type != "follow-error" || m.Key != tt.query || !strings.Contains(m.Error, tt.want) {
			t.Errorf("%q: %s %q (key %q), want a follow-error saying %q", tt.query, m.Type, m.Error, m.Key, tt.want)
		}
	}
	// A message the server does not understand closes the connection
	// with a reason.
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type": "dance"}`)); err != nil {
		t.Fatal(err)
	}
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			if websocket.CloseStatus(err) != websocket.StatusUnsupportedData || !strings.Contains(err.Error(), "unknown type") || !strings.Contains(err.Error(), "dance") {
				t.Errorf("closed with %v, want unsupported data naming the type", err)
			}
			break
		}
	}
	// Still served: a REST call works.
	if res := do(t, "GET", ts.URL+"/api/captures", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("list after a closed WebSocket: %d", res.StatusCode)
	}
}

// TestPushSelect asks for packets over the WebSocket as the page does
// when it selects one while it follows: each comes as GET …/packets/{no}
// serves it with the same query, and a number out of range gets a
// follow-error naming the range.
func TestPushSelect(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info := upload(t, ts, "select.pcap", synthetic(t, pcapio.FormatPcap, 50))
	waitIndexed(t, ts, info.ID)
	conn := dialWS(ctx, t, ts)
	for _, tt := range []struct {
		no    int
		query string
		want  string // the follow-error, "" for the packet
	}{
		{7, "", ""},
		{8, "checksums=1&names=mt", ""},
		{51, "", "between 1 and 50"},
		{3, "checksums=2", "parameter checksums"},
	} {
		b, err := json.Marshal(followRequest{Type: "select", Capture: info.ID, Key: "sel", Query: tt.query, No: tt.no})
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
		m := nextMessage(ctx, t, conn)
		switch {
		case tt.want != "" && (m.Type != "follow-error" || !strings.Contains(m.Error, tt.want)):
			t.Errorf("select %d %q: %s %q, want a follow-error saying %q", tt.no, tt.query, m.Type, m.Error, tt.want)
		case tt.want == "":
			var got, want PacketResponse
			if err := json.Unmarshal(m.Packet, &got); err != nil || m.Type != "packet" || m.No != tt.no {
				t.Fatalf("select %d: %s %d (%v), want the packet", tt.no, m.Type, m.No, err)
			}
			do(t, "GET", fmt.Sprintf("%s/api/captures/%s/packets/%d?%s", ts.URL, info.ID, tt.no, tt.query), nil, &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("select %d %q: pushed packet differs from GET packets':\n%+v\n%+v", tt.no, tt.query, got, want)
			}
		}
	}
}
