package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/store"
)

// openSample uploads pkttap's sample capture (25 packets; the file gives
// packets 9, 24 and 25 comments) and returns its id and bytes.
func openSample(t testing.TB, ts *httptest.Server) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	if err := samplegen.WriteSample(&b); err != nil {
		t.Fatal(err)
	}
	return waitIndexed(t, ts, upload(t, ts, "sample.pcapng", b.Bytes()).ID).ID, b.Bytes()
}

// changeNotes posts a marks change and returns the answer.
func changeNotes(t testing.TB, ts *httptest.Server, id, body string) NotesResponse {
	t.Helper()
	var resp NotesResponse
	if res := do(t, "POST", ts.URL+"/api/captures/"+id+"/marks", strings.NewReader(body), &resp, "Content-Type", "application/json"); res.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(res.Body)
		t.Fatalf("POST marks %s: status %d: %s", body, res.StatusCode, raw)
	}
	return resp
}

// putComment sets a packet's comment and fails the test unless it is taken.
func putComment(t testing.TB, ts *httptest.Server, id string, no int, comment string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"comment": comment})
	if res := do(t, "PUT", fmt.Sprintf("%s/api/captures/%s/packets/%d/comment", ts.URL, id, no), bytes.NewReader(body), nil, "Content-Type", "application/json"); res.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(res.Body)
		t.Fatalf("PUT comment of %d: status %d: %s", no, res.StatusCode, raw)
	}
}

// allRows returns every row of a capture.
func allRows(t testing.TB, ts *httptest.Server, id string) []Row {
	t.Helper()
	var resp RowsResponse
	do(t, "GET", ts.URL+"/api/captures/"+id+"/rows?count=2000", nil, &resp)
	return resp.Rows
}

// TestNotesAPIErrors: every bad request about marks, comments and exports
// gets 400 (404 for a packet that does not exist) with a message naming
// the problem.
func TestNotesAPIErrors(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	id, _ := openSample(t, ts)
	base := ts.URL + "/api/captures/" + id
	long, _ := json.Marshal(map[string]string{"comment": strings.Repeat("é", store.MaxCommentLen/2+1)})
	huge, _ := json.Marshal(map[string]string{"comment": strings.Repeat("\u0001", 70000)})
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/export?packets=range&range=1,,2", "", 400, "range: bad packet range: part 2 is empty"},
		{"GET", "/export?packets=range&range=0-4", "", 400, "start at 1, not 0"},
		{"GET", "/export?packets=range&range=3-x", "", 400, `"x" is not a packet number`},
		{"GET", "/export?packets=range", "", 400, "range: bad packet range: empty"},
		{"GET", "/export?packets=selected&selected=-", "", 400, "selected: bad packet range"},
		{"GET", "/export?packets=some", "", 400, `unknown packet set "some"`},
		{"GET", "/export?ignored=drop", "", 400, "ignored must be keep"},
		{"GET", "/export?format=txt", "", 400, "format must be pcap or pcapng"},
		{"GET", "/export?filter=tcp%20port", "", 400, ""},
		{"POST", "/marks", `{"op": "paint", "packets": "1"}`, 400, `unknown operation "paint"`},
		{"POST", "/marks", `{"op": "mark", "packets": "1-2,,"}`, 400, "packets: bad packet range: part 2 is empty"},
		{"POST", "/marks", `{"op": "mark"`, 400, "body must be JSON"},
		{"POST", "/marks", `{"op": "mark", "filter": "tcp port"}`, 400, ""},
		{"PUT", "/packets/1/comment", `{"note": "x"}`, 400, `{"comment": "text"}`},
		{"PUT", "/packets/1/comment", string(long), 400, "65536 bytes, and a pcapng comment holds at most 65535"},
		{"PUT", "/packets/1/comment", string(huge), 400, "comment too long: a pcapng comment holds at most 65535 bytes"},
		{"PUT", "/packets/0/comment", `{"comment": "x"}`, 404, "between 1 and 25"},
		{"PUT", "/packets/26/comment", `{"comment": "x"}`, 404, "between 1 and 25"},
		{"DELETE", "/packets/x/comment", "", 404, "between 1 and 25"},
	} {
		var e apiError
		res := do(t, tc.method, base+tc.path, strings.NewReader(tc.body), &e, "Content-Type", "application/json")
		if res.StatusCode != tc.status || e.Error == "" || !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s %s %.60s: %d %q, want %d saying %q", tc.method, tc.path, tc.body, res.StatusCode, e.Error, tc.status, tc.want)
		}
	}
	if n := (Notes{}); func() Notes { var got Notes; do(t, "GET", base+"/marks", nil, &got); return got }() != n {
		t.Error("refused requests changed the notes")
	}
}

// TestNotesAPIRoundTrip: marks, ignores and comments set through the API
// show in the rows, the packet and its tree, and undo.
func TestNotesAPIRoundTrip(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	id, _ := openSample(t, ts)
	base := ts.URL + "/api/captures/" + id
	for _, tc := range []struct {
		body        string
		changed     int
		marked, ign string
		markN, ignN int
	}{
		{`{"op": "toggle-mark", "packets": "3"}`, 1, "3", "", 1, 0},
		{`{"op": "mark", "packets": "5-7, 3"}`, 4, "3,5-7", "", 4, 0},
		{`{"op": "toggle-mark", "packets": "7-8"}`, 2, "3,5-6,8", "", 4, 0},
		{`{"op": "ignore", "packets": "10,12-"}`, 15, "3,5-6,8", "10,12-25", 4, 15},
		{`{"op": "unignore", "packets": "13-25"}`, 13, "3,5-6,8", "10,12", 4, 2},
		{`{"op": "toggle-ignore", "packets": "12"}`, 1, "3,5-6,8", "10", 4, 1},
	} {
		got := changeNotes(t, ts, id, tc.body)
		if got.Changed != tc.changed || got.Marked != tc.marked || got.MarkedCount != tc.markN || got.Ignored != tc.ign || got.IgnoredCount != tc.ignN {
			t.Errorf("%s: %+v, want changed %d, marked %q (%d), ignored %q (%d)", tc.body, got, tc.changed, tc.marked, tc.markN, tc.ign, tc.ignN)
		}
	}
	// Unmark All Displayed: under a filter, only the displayed packets.
	waitFilter(t, ts, id, "udp")
	var udp RowsResponse
	do(t, "GET", base+"/rows?count=100&filter=udp", nil, &udp)
	var wantMarked []int
	for _, no := range []int{3, 5, 6, 8} {
		if !slices.ContainsFunc(udp.Rows, func(r Row) bool { return r.No == no }) {
			wantMarked = append(wantMarked, no)
		}
	}
	if len(wantMarked) == 4 || len(udp.Rows) == 0 {
		t.Fatalf("udp displays %d packets, none of 3, 5, 6, 8: the test needs one", len(udp.Rows))
	}
	got := changeNotes(t, ts, id, `{"op": "unmark", "filter": "udp"}`)
	if got.Changed != len(udp.Rows) || got.MarkedCount != len(wantMarked) {
		t.Errorf("unmark the udp packets: %+v, want %d changed, %v left marked", got, len(udp.Rows), wantMarked)
	}
	rows := allRows(t, ts, id)
	if r := rows[9]; !r.Ignored || r.Info != "<Ignored>" || r.Protocol != "" {
		t.Errorf("ignored row 10: %+v", r)
	}
	// Comments: a new one, a file's one changed, a file's one removed.
	putComment(t, ts, id, 2, "first\nsecond")
	putComment(t, ts, id, 9, "the HTTP response, edited")
	if res := do(t, "DELETE", base+"/packets/24/comment", nil, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE comment: %d", res.StatusCode)
	}
	rows = allRows(t, ts, id)
	for no, want := range map[int]string{2: "first\nsecond", 9: "the HTTP response, edited", 24: "", 25: "captured with a 96-byte snap length", 1: ""} {
		if rows[no-1].Comment != want {
			t.Errorf("row %d: comment %q, want %q", no, rows[no-1].Comment, want)
		}
	}
	var pkt PacketResponse
	do(t, "GET", base+"/packets/2", nil, &pkt)
	if len(pkt.Tree) < 2 || pkt.Tree[0].Label != "Packet comments" || len(pkt.Tree[0].Children) != 2 ||
		pkt.Tree[0].Children[1].Label != "second" || pkt.Tree[0].Children[0].Field != "frame.comment" {
		t.Errorf("packet 2's tree starts %+v, want Packet comments: first, second", pkt.Tree[:min(1, len(pkt.Tree))])
	}
	do(t, "GET", base+"/packets/10", nil, &pkt)
	if len(pkt.Tree) != 1 || !pkt.Ignored || !slices.ContainsFunc(pkt.Tree[0].Children, func(n TreeNode) bool { return n.Field == "frame.ignored" }) {
		t.Errorf("ignored packet 10's tree: %+v, want the frame layer alone, saying it is ignored", pkt.Tree)
	}
	changeNotes(t, ts, id, `{"op": "mark", "packets": "4"}`)
	do(t, "GET", base+"/packets/4", nil, &pkt)
	if len(pkt.Tree) < 2 || !pkt.Marked || !slices.ContainsFunc(pkt.Tree[0].Children, func(n TreeNode) bool { return n.Label == "[Frame is marked: True]" }) {
		t.Errorf("marked packet 4's tree: %+v", pkt.Tree[:min(1, len(pkt.Tree))])
	}
}

// TestNotesRestart: marks, ignores and comments outlive the server: one
// started again on the same data dir shows them.
func TestNotesRestart(t *testing.T) {
	dir := t.TempDir()
	s1, ts1 := newTestServer(t, Config{DataDir: dir})
	id, _ := openSample(t, ts1)
	changeNotes(t, ts1, id, `{"op": "mark", "packets": "1-3"}`)
	changeNotes(t, ts1, id, `{"op": "ignore", "packets": "20"}`)
	putComment(t, ts1, id, 4, "survives a restart")
	before := allRows(t, ts1, id)
	ts1.Close()
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	_, ts2 := newTestServer(t, Config{DataDir: dir})
	after := allRows(t, ts2, id)
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("rows after a restart:\n%v\nbefore:\n%v", after, before)
	}
	if !after[0].Marked || !after[19].Ignored || after[3].Comment != "survives a restart" {
		t.Errorf("rows 1, 20, 4 after a restart: %+v %+v %+v", after[0], after[19], after[3])
	}
}

// TestExportTshark: Export Specified Packets, each set as pcap and pcapng,
// read back by tshark and tcpdump: the packets named (count, numbers of
// the original, bytes and timestamps), and in pcapng the comments as
// edited.
func TestExportTshark(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	_, ts := newTestServer(t, Config{})
	id, orig := openSample(t, ts)
	origPkts := readCapture(t, orig)
	base := ts.URL + "/api/captures/" + id
	changeNotes(t, ts, id, `{"op": "mark", "packets": "4,9,15"}`)
	changeNotes(t, ts, id, `{"op": "ignore", "packets": "5,9,22"}`)
	putComment(t, ts, id, 4, "marked, with a comment")
	putComment(t, ts, id, 25, "the file's comment, edited")
	if res := do(t, "DELETE", base+"/packets/24/comment", nil, nil); res.StatusCode != http.StatusNoContent {
		t.Fatal(res.Status)
	}
	comments := map[int]string{4: "marked, with a comment", 9: "the HTTP response", 25: "the file's comment, edited"}
	// The packets tcp displays, to check the displayed scope against.
	var disp RowsResponse
	waitFilter(t, ts, id, "tcp")
	do(t, "GET", base+"/rows?count=100&filter=tcp", nil, &disp)
	var tcp []int
	for _, r := range disp.Rows {
		tcp = append(tcp, r.No)
	}
	seq := func(lo, hi int, skip ...int) []int {
		var out []int
		for no := lo; no <= hi; no++ {
			if !slices.Contains(skip, no) {
				out = append(out, no)
			}
		}
		return out
	}
	keep := func(set []int, f func(int) bool) []int {
		var out []int
		for _, no := range set {
			if f(no) {
				out = append(out, no)
			}
		}
		return out
	}
	dir := t.TempDir()
	// tshark takes seconds to start: it reads the pcapng file of a few
	// cases (those marked tshark) and the pcap one of the first; tcpdump
	// and pcapio read them all.
	for i, tc := range []struct {
		query  string
		want   []int
		tshark bool
	}{
		{"packets=all", seq(1, 25), true},
		{"packets=all&ignored=remove", seq(1, 25, 5, 9, 22), false},
		{"packets=selected&selected=7", []int{7}, false},
		{"packets=marked", []int{4, 9, 15}, true},
		{"packets=marked&ignored=remove", []int{4, 15}, false},
		{"packets=first-last-marked", seq(4, 15), false},
		{"packets=first-last-marked&ignored=remove", seq(4, 15, 5, 9), false},
		{"packets=range&range=" + urlQuery("1-3,9,20-"), []int{1, 2, 3, 9, 20, 21, 22, 23, 24, 25}, false},
		{"packets=range&range=" + urlQuery("1-3,9,20-") + "&ignored=remove", []int{1, 2, 3, 20, 21, 23, 24, 25}, true},
		{"packets=all&filter=tcp", tcp, false},
		{"packets=range&range=10-&filter=tcp&ignored=remove", keep(tcp, func(no int) bool { return no >= 10 && no != 22 }), false},
	} {
		var check ExportCheck
		if res := do(t, "GET", base+"/export?check=1&format=pcapng&"+tc.query, nil, &check); res.StatusCode != http.StatusOK || check.Packets != len(tc.want) {
			t.Errorf("%s check: %d %+v, want %d packets", tc.query, res.StatusCode, check, len(tc.want))
		}
		for _, format := range []string{"pcap", "pcapng"} {
			res := do(t, "GET", base+"/export?format="+format+"&"+tc.query, nil, nil)
			data, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d %s", format, tc.query, res.StatusCode, data)
			}
			path := filepath.Join(dir, "out."+format)
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			// tcpdump: the count, and each packet's time and bytes.
			out, err := exec.Command(tcpdump, "-r", path, "-nn", "-tt", "-x").CombinedOutput()
			if err != nil {
				t.Fatalf("tcpdump %s %s: %v\n%s", format, tc.query, err, out)
			}
			var wantDump bytes.Buffer
			for _, no := range tc.want {
				wantDump.Write(origPkts[no-1].Data)
			}
			if n := strings.Count(string(out), "\n\t0x0000:"); n != len(tc.want) {
				t.Errorf("%s %s: tcpdump reads %d packets, want %d", format, tc.query, n, len(tc.want))
			}
			got := readCapture(t, data)
			if len(got) != len(tc.want) {
				t.Fatalf("%s %s: %d packets, want %d", format, tc.query, len(got), len(tc.want))
			}
			for k, p := range got {
				o := origPkts[tc.want[k]-1]
				if !bytes.Equal(p.Data, o.Data) || !p.Timestamp.Equal(o.Timestamp) || p.Length != o.Length {
					t.Errorf("%s %s: packet %d is not the original's %d", format, tc.query, k+1, tc.want[k])
				}
			}
			if !tc.tshark || format == "pcap" && i > 0 {
				continue
			}
			// tshark: times, lengths and (pcapng) comments.
			out, err = exec.Command(tshark, "-r", path, "-T", "fields", "-E", "separator=|", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.comment").Output()
			if err != nil {
				t.Fatalf("tshark %s %s: %v\n%s", format, tc.query, err, out)
			}
			lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("%s %s: tshark reads %d packets, want %d:\n%s", format, tc.query, len(lines), len(tc.want), out)
			}
			for k, line := range lines {
				no := tc.want[k]
				o := origPkts[no-1]
				wantComment := ""
				if format == "pcapng" {
					wantComment = comments[no]
				}
				want := fmt.Sprintf("%d.%09d|%d|%s", o.Timestamp.Unix(), o.Timestamp.Nanosecond(), o.Length, wantComment)
				if line != want {
					t.Errorf("%s %s: tshark reads packet %d (original %d) as %q, want %q", format, tc.query, k+1, no, line, want)
				}
			}
		}
	}
}

// TestNotesAPIConcurrent: marks and comments sent at once by many clients,
// while others read rows, are all kept.
func TestNotesAPIConcurrent(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	id, _ := openSample(t, ts)
	var wg sync.WaitGroup
	for no := 1; no <= 16; no++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			changeNotes(t, ts, id, fmt.Sprintf(`{"op": "mark", "packets": "%d"}`, no))
			putComment(t, ts, id, no, fmt.Sprint("note ", no))
			changeNotes(t, ts, id, fmt.Sprintf(`{"op": "toggle-ignore", "packets": "%d"}`, no))
		}()
		go func() {
			defer wg.Done()
			allRows(t, ts, id)
		}()
	}
	wg.Wait()
	rows := allRows(t, ts, id)
	for no := 1; no <= 16; no++ {
		if r := rows[no-1]; !r.Marked || !r.Ignored || r.Comment != fmt.Sprint("note ", no) {
			t.Errorf("row %d after concurrent changes: %+v", no, r)
		}
	}
	var notes Notes
	do(t, "GET", ts.URL+"/api/captures/"+id+"/marks", nil, &notes)
	if notes.Marked != "1-16" || notes.Ignored != "1-16" {
		t.Errorf("notes after concurrent changes: %+v", notes)
	}
}
