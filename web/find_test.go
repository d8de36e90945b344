package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// find asks base/find with query q (without the leading ?), following the
// cursor until the search is done, and returns the last answer and how
// many requests it took.
func find(t *testing.T, base, q string) (FindResponse, int) {
	t.Helper()
	var r FindResponse
	cursor := ""
	for n := 1; ; n++ {
		u := base + "/find?" + q
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		r = FindResponse{}
		var e apiError
		res := do(t, "GET", u, nil, nil)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			_ = json.Unmarshal(body, &e)
			t.Fatalf("%s: status %d: %s", u, res.StatusCode, e.Error)
		}
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if r.Done {
			return r, n
		}
		if r.Cursor == "" || n > 100000 {
			t.Fatalf("find?%s: not done, cursor %q", q, r.Cursor)
		}
		cursor = r.Cursor
	}
}

// findAll walks Find Next (or Find Previous) from no selection until the
// search wraps, and returns the packet numbers found, in order.
func findAll(t *testing.T, base, q string, next bool) []int {
	t.Helper()
	dir := "next"
	if !next {
		dir = "prev"
	}
	var nos []int
	from := ""
	for {
		r, _ := find(t, base, q+"&dir="+dir+from)
		if !r.Found {
			return nos
		}
		if r.Wrapped {
			if len(nos) == 0 || r.No != nos[0] {
				t.Fatalf("find?%s: wrapped to packet %d, want the first found, %v", q, r.No, nos[:min(len(nos), 1)])
			}
			return nos
		}
		nos = append(nos, r.No)
		from = "&from=" + strconv.Itoa(r.Position)
	}
}

// tsharkNumbers returns the frame numbers tshark displays under expr, TCP
// segments each judged on its own bytes (IP fragments reassembled, as
// pkttap does).
func tsharkNumbers(t *testing.T, tshark, path, expr string) []int {
	t.Helper()
	out, err := exec.Command(tshark, "-n", "-r", path, "-o", "tcp.desegment_tcp_streams:FALSE", "-Y", expr, "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		t.Errorf("tshark -Y %q: %v", expr, err) // not Fatal: callers run it on several goroutines
	}
	var nos []int
	for _, f := range strings.Fields(string(out)) {
		no, _ := strconv.Atoi(f)
		nos = append(nos, no)
	}
	return nos
}

// TestFindTshark: Find Next through the shared display-filter capture
// visits exactly the packets tshark displays under the equivalent filter
// (frame contains for bytes and strings, frame matches "(?i)..." for a
// case-insensitive string, the display filter itself), in order; Find
// Previous visits them backwards; a search answering in tiny steps
// (resumed by its cursor) finds the same; with a filter applied only the
// displayed packets are searched.
func TestFindTshark(t *testing.T) {
	tshark, path, ts, info := openDisplayFilterCapture(t)
	base := ts.URL + "/api/captures/" + info.ID
	for _, tc := range []struct {
		name, q, tshark string
		back            bool // walk Find Previous too
	}{
		{"string in bytes, case sensitive", "type=string&in=bytes&case=1&q=" + url.QueryEscape("HTTP/1.1 200"), `frame contains "HTTP/1.1 200"`, false},
		{"string in bytes, any case", "type=string&in=bytes&q=" + url.QueryEscape("user-agent:"), `frame matches "(?i)user-agent:"`, false},
		{"hex with colons", "type=hex&q=" + url.QueryEscape("47:45:54:20"), "frame contains 47:45:54:20", true},
		{"hex with spaces", "type=hex&q=" + url.QueryEscape("08 06 00 01 08 00 06 04"), "frame contains 08:06:00:01:08:00:06:04", false},
		{"display filter", "type=filter&q=" + url.QueryEscape("icmp.type == 8 || dns.flags.response == 1"), "icmp.type == 8 || dns.flags.response == 1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tsharkNumbers(t, tshark, path, tc.tshark)
			if len(want) == 0 {
				t.Fatalf("tshark finds no packet for %s: pick a search that finds some", tc.tshark)
			}
			got := findAll(t, base, tc.q, true)
			if !slices.Equal(got, want) {
				t.Fatalf("Find Next found %d packets %v..., tshark %d %v...", len(got), got[:min(5, len(got))], len(want), want[:min(5, len(want))])
			}
			if !tc.back {
				return
			}
			rev := slices.Clone(want)
			slices.Reverse(rev)
			if back := findAll(t, base, tc.q, false); !slices.Equal(back, rev) {
				t.Errorf("Find Previous found %d packets, want tshark's %d backwards", len(back), len(want))
			}
			t.Logf("%d packets, as tshark", len(got))
		})
	}

	t.Run("resumed in small steps", func(t *testing.T) {
		old := findBudget
		findBudget = 0
		t.Cleanup(func() { findBudget = old })
		want := tsharkNumbers(t, tshark, path, "frame contains 47:45:54:20")
		from := want[len(want)/2]
		r, steps := find(t, base, "type=hex&q=474554&from="+strconv.Itoa(from-1))
		wantNext := want[len(want)/2+1]
		if !r.Found || r.No != wantNext || r.Wrapped {
			t.Fatalf("found %+v, want packet %d", r, wantNext)
		}
		r, _ = find(t, base, "type=hex&q=474554&dir=prev&from="+strconv.Itoa(from-1))
		if wantPrev := want[len(want)/2-1]; !r.Found || r.No != wantPrev || r.Wrapped {
			t.Fatalf("Find Previous found %+v, want packet %d", r, wantPrev)
		}
		r, _ = find(t, base, "type=hex&q=474554&dir=prev&from="+strconv.Itoa(want[0]-1))
		if !r.Found || r.No != want[len(want)-1] || !r.Wrapped {
			t.Fatalf("Find Previous from the first match found %+v, want the last, %d, wrapped", r, want[len(want)-1])
		}
		none, steps2 := find(t, base, "type=hex&q=deadbeefcafe0123")
		if none.Found || !none.Done || none.Checked != int(info.Packets) || steps2 < int(info.Packets)/256 {
			t.Errorf("no match: %+v in %d requests, want done after checking all %d packets in at least %d", none, steps2, info.Packets, info.Packets/256)
		}
		t.Logf("found in %d requests; no match in %d", steps, steps2)
	})

	t.Run("only displayed packets", func(t *testing.T) {
		const applied = "ip.src == 198.18.0.0/15"
		want := tsharkNumbers(t, tshark, path, applied+` && frame contains "GET "`)
		waitFilter(t, ts, info.ID, applied)
		got := findAll(t, base, "type=string&case=1&q=GET+&filter="+url.QueryEscape(applied), true)
		if !slices.Equal(got, want) || len(want) == 0 {
			t.Fatalf("found %v under %q, tshark %v", got, applied, want)
		}
		all := tsharkNumbers(t, tshark, path, `frame contains "GET "`)
		if len(all) <= len(want) {
			t.Errorf("the filter hides no match (%d of %d): pick one that does", len(want), len(all))
		}
	})
}

// edgeCapture is a capture of raw Ethernet frames: packet 1 ends with
// "AB" and packet 2 begins with "CD", so "ABCD" spans the end of a packet.
func edgeCapture(t *testing.T) []byte {
	var buf strings.Builder
	w, err := pcapio.NewWriter(&buf, pcapio.WriterOptions{Format: pcapio.FormatPcap, LinkType: pcapio.LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range []string{
		"\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x0a\x08\x06Hello, World AB",
		"CD\x00\x00\x00\x00\x00\x0b\x02\x00\x00\x00\x00\x0a\x88\xb5hello world",
		"\x02\x00\x00\x00\x00\x0b\x02\x00\x00\x00\x00\x0a\x88\xb5nothing here",
	} {
		if err := w.WritePacket(&pcapio.Packet{Timestamp: time.Unix(int64(i), 0), Data: []byte(d), Length: len(d)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return []byte(buf.String())
}

// TestFindEdges: no match, wrapping to the selected packet itself, a
// match spanning two packets (none), case, the offset and length of a
// byte match, matches in details and in the list's columns as the packet
// and rows endpoints give them, and bad queries refused with the column
// of the fault.
func TestFindEdges(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	info := waitIndexed(t, ts, upload(t, ts, "edges.pcap", edgeCapture(t)).ID)
	base := ts.URL + "/api/captures/" + info.ID
	for _, tc := range []struct {
		q       string
		found   bool
		no      int
		wrapped bool
		offset  int
		length  int
	}{
		{q: "type=hex&q=41424344"}, // spans packets 1 and 2
		{q: "type=string&q=ABCD"},  // the same as a string
		{q: "type=hex&q=4142", found: true, no: 1, offset: 27, length: 2}, // the end of packet 1
		{q: "type=hex&q=43:44", found: true, no: 2, offset: 0, length: 2}, // the start of packet 2
		{q: "type=string&q=world&case=1", found: true, no: 2, offset: 22, length: 5},
		{q: "type=string&q=world", found: true, no: 1, offset: 21, length: 5}, // "World", any case
		{q: "type=string&q=world&from=0", found: true, no: 2, offset: 22, length: 5},
		{q: "type=string&q=World&case=1&from=0", found: true, no: 1, wrapped: true, offset: 21, length: 5}, // wraps to the selected packet
		{q: "type=string&q=hello&dir=prev&from=1", found: true, no: 1, offset: 14, length: 5},
		{q: "type=string&q=hello&dir=prev&from=0", found: true, no: 2, wrapped: true, offset: 16, length: 5},
		{q: "type=string&q=hello&dir=prev", found: true, no: 2, offset: 16, length: 5}, // no selection: from the last
		{q: "type=string&q=nowhere"},
		{q: "type=filter&q=arp", found: true, no: 1},
		{q: "type=filter&q=" + url.QueryEscape("eth.type == 0x88b5") + "&from=1", found: true, no: 3},
	} {
		r, _ := find(t, base, tc.q)
		if r.Found != tc.found || !r.Done || tc.found && (r.No != tc.no || r.Wrapped != tc.wrapped || r.Position != tc.no-1 || r.Offset != tc.offset || r.Length != tc.length) {
			t.Errorf("find?%s: %+v, want found %v packet %d wrapped %v at %d+%d", tc.q, r, tc.found, tc.no, tc.wrapped, tc.offset, tc.length)
		}
		if !tc.found && r.Checked != 3 {
			t.Errorf("find?%s: checked %d packets, want all 3", tc.q, r.Checked)
		}
	}

	// Details and list: the expectation from the packet and rows endpoints.
	var pkt PacketResponse
	do(t, "GET", base+"/packets/3", nil, &pkt)
	label := pkt.Tree[0].Label // the frame's first line
	r, _ := find(t, base, "type=string&in=details&case=1&from=1&q="+url.QueryEscape(label))
	if !r.Found || r.No != 3 || r.Label != label {
		t.Errorf("details %q: %+v, want packet 3", label, r)
	}
	var rows RowsResponse
	do(t, "GET", base+"/rows?count=3", nil, &rows)
	src := rows.Rows[1].Source
	r, _ = find(t, base, "type=string&in=list&case=1&from=0&q="+url.QueryEscape(src))
	wantNo := 2
	if rows.Rows[0].Source == src || rows.Rows[0].Dest == src {
		wantNo = 2 // packet 2 is the next after 1 either way
	}
	if !r.Found || r.No != wantNo {
		t.Errorf("list %q: %+v, want packet %d", src, r, wantNo)
	}
	r, _ = find(t, base, "type=string&in=list&q="+url.QueryEscape("no such column text"))
	if r.Found {
		t.Errorf("list: found %+v", r)
	}

	for _, tc := range []struct {
		q      string
		column int
		msg    string
	}{
		{"type=hex&q=" + url.QueryEscape("00 1g"), 5, "not a hex digit"},
		{"type=hex&q=001", 3, "odd number"},
		{"type=hex&q=" + url.QueryEscape("0 11"), 2, "two hex digits"},
		{"type=filter&q=" + url.QueryEscape("tcp.port =="), 12, ""},
		{"type=string&q=", 0, "what to find"},
		{"type=regex&q=x", 0, "type must be"},
		{"type=string&in=everywhere&q=x", 0, "in must be"},
		{"type=string&q=x&dir=up", 0, "dir must be"},
		{"type=string&q=x&cursor=zz", 0, "cursor"},
	} {
		var e apiError
		res := do(t, "GET", base+"/find?"+tc.q, nil, &e)
		if res.StatusCode != http.StatusBadRequest || e.Column != tc.column || !strings.Contains(e.Error, tc.msg) {
			t.Errorf("find?%s: status %d %+v, want 400 at column %d saying %q", tc.q, res.StatusCode, e, tc.column, tc.msg)
		}
	}
}
