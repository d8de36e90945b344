package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// tsharkCount returns the number of packets of the capture at path that
// tshark displays under the display filter expr ("" all), with TCP
// desegmentation off, so each packet is judged on its own bytes (as
// pkttap does, and as the shared verdicts were made).
func tsharkCount(t *testing.T, tshark, path, expr string) int {
	t.Helper()
	args := []string{"-n", "-r", path, "-o", "tcp.desegment_tcp_streams:FALSE", "-T", "fields", "-e", "frame.number"}
	if expr != "" {
		args = append(args, "-Y", expr)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %v: %v", args, err)
	}
	return strings.Count(string(out), "\n")
}

// TestDisplayFilterTshark: rows, position and download take a display
// filter as they take a BPF one: on the shared display-filter capture,
// the rows displayed are as many as tshark displays, the job says its
// language, a matching packet has a position and one that does not has
// none, and the download holds exactly the matching packets: tshark
// displays every packet of it under the same filter, as many as it
// displays of the original.
func TestDisplayFilterTshark(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	orig := filepath.Join(testenv.SharedDir(t), "dfilters", "capture.pcapng")
	data, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	_, ts := newTestServer(t, Config{})
	info := waitIndexed(t, ts, upload(t, ts, "capture.pcapng", data).ID)
	base := ts.URL + "/api/captures/" + info.ID
	dir := t.TempDir()
	for _, expr := range []string{
		// Expressions whose parts pkttap and tshark agree on (see
		// ../shared/dfilters): the fast path's fields, ICMP's, addresses
		// and CIDR, the frame's bytes and QUIC's fields.
		"tcp.port == 443 || icmp.type in {3, 11} || ipv6.addr == 2001:db8::/32",
		`frame contains "HTTP" || quic.version == 1`,
	} {
		t.Run(expr, func(t *testing.T) {
			want := tsharkCount(t, tshark, orig, expr)
			st := waitFilter(t, ts, info.ID, expr)
			if st.Language != store.Display || st.Error != "" || st.Matched != want || int64(st.Scanned) != info.Packets {
				t.Fatalf("job %+v, want a display filter matching %d of %d packets, as tshark", st, want, info.Packets)
			}
			var rows RowsResponse
			do(t, "GET", base+"/rows?count=2000&filter="+url.QueryEscape(expr), nil, &rows)
			if rows.Displayed != want || len(rows.Rows) != min(want, 2000) || rows.Progress == nil || rows.Progress.Language != store.Display {
				t.Fatalf("rows: displayed %d, %d rows, progress %+v; want %d", rows.Displayed, len(rows.Rows), rows.Progress, want)
			}
			first := rows.Rows[0].No
			var pos struct {
				Position  int  `json:"position"`
				Exact     bool `json:"exact"`
				Displayed int  `json:"displayed"`
			}
			do(t, "GET", base+"/position?no="+strconv.Itoa(first)+"&filter="+url.QueryEscape(expr), nil, &pos)
			if pos.Position != 0 || !pos.Exact || pos.Displayed != want {
				t.Errorf("position of packet %d, the first match: %+v", first, pos)
			}
			if first > 1 {
				do(t, "GET", base+"/position?no=1&filter="+url.QueryEscape(expr), nil, &pos)
				if pos.Exact {
					t.Errorf("packet 1 does not match, yet has position %+v", pos)
				}
			}
			res := do(t, "GET", base+"/download?format=pcapng&filter="+url.QueryEscape(expr), nil, nil)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("download: status %d: %s", res.StatusCode, body)
			}
			path := filepath.Join(dir, "download.pcapng")
			if err := os.WriteFile(path, body, 0o600); err != nil {
				t.Fatal(err)
			}
			all, shown := tsharkCount(t, tshark, path, ""), tsharkCount(t, tshark, path, expr)
			if all != want || shown != want || len(readCapture(t, body)) != want {
				t.Errorf("download: %d packets, tshark displays %d of them; want %d, all displayed", all, shown, want)
			}
			t.Logf("%d packets; tshark displays all %d of the download", want, shown)
		})
	}
}

// TestDisplayFilterRefused: rows, position, download and filter jobs
// refuse a display filter that does not compile with 400, its column, the
// length of the fault and the language, as they refuse a bad BPF one.
func TestDisplayFilterRefused(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	info := waitIndexed(t, ts, upload(t, ts, "s.pcap", synthetic(t, pcapio.FormatPcap, 5)).ID)
	base := ts.URL + "/api/captures/" + info.ID
	for _, tt := range []struct {
		expr           string
		column, length int
		lang           store.Language
	}{
		{"tcp.prot == 80", 1, 8, store.Display},
		{"ip.src == 1.2.3", 11, 5, store.Display},
		{"tcp port", 9, 0, store.BPF},
	} {
		q := url.QueryEscape(tt.expr)
		body, _ := json.Marshal(map[string]string{"filter": tt.expr})
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/rows?filter=" + q, ""},
			{"GET", "/position?no=1&filter=" + q, ""},
			{"GET", "/download?filter=" + q, ""},
			{"POST", "/filter", string(body)},
		} {
			var e apiError
			res := do(t, r.method, base+r.path, strings.NewReader(r.body), &e, "Content-Type", "application/json")
			if res.StatusCode != http.StatusBadRequest || e.Error == "" || e.Column != tt.column || e.Length != tt.length || e.Language != tt.lang {
				t.Errorf("%s %s: status %d, %+v; want 400 at column %d, %d long, %s", r.method, r.path, res.StatusCode, e, tt.column, tt.length, tt.lang)
			}
		}
	}
}

// TestFields: GET /api/fields lists the registry (every field and
// protocol with its type and description), and answers a request with
// its ETag 304.
func TestFields(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	var fields []FieldInfo
	res := do(t, "GET", ts.URL+"/api/fields", nil, &fields)
	tag := res.Header.Get("ETag")
	if res.StatusCode != http.StatusOK || tag == "" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("status %d, ETag %q, Cache-Control %q", res.StatusCode, tag, res.Header.Get("Cache-Control"))
	}
	if len(fields) != len(dissect.Fields()) {
		t.Errorf("%d fields, the registry has %d", len(fields), len(dissect.Fields()))
	}
	byName := map[string]FieldInfo{}
	for _, f := range fields {
		byName[f.Name] = f
	}
	for name, want := range map[string]FieldInfo{
		"tcp.srcport": {Name: "tcp.srcport", Type: "FT_UINT16", TypeText: "Unsigned integer (2 bytes)", Description: "Source Port"},
		"tcp":         {Name: "tcp", Type: "FT_PROTOCOL"},
		"ip.src":      {Name: "ip.src", Type: "FT_IPv4", TypeText: "IPv4 address", Description: "Source Address"},
	} {
		got := byName[name]
		if got.Name != want.Name || got.Type != want.Type || (want.TypeText != "" && got.TypeText != want.TypeText) ||
			(want.Description != "" && got.Description != want.Description) || got.Description == "" {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	res = do(t, "GET", ts.URL+"/api/fields", nil, nil, "If-None-Match", tag)
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("with If-None-Match %s: status %d, want 304", tag, res.StatusCode)
	}
}

// TestFieldFilter: the filter the tree gives each field ("Apply as
// Filter") compiles and matches the packet it came from, for every field
// of every 4th packet of the shared display-filter capture, payloads
// longer than maxFilterBytes included.
func TestFieldFilter(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), "dfilters", "capture.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	pkts := readCapture(t, data)
	compiled := map[string]*dfilter.Filter{}
	checked, bad, long := 0, 0, 0
	for i := 0; i < len(pkts); i += 4 {
		p := pkts[i]
		tree := dissect.Dissect(p.LinkType, p.Data, p.Length)
		if tree == nil {
			continue
		}
		tree.Walk(func(n *dissect.Node, _ int) bool {
			expr := fieldFilter(n)
			if expr == "" || bad > 20 {
				return true
			}
			f, ok := compiled[expr]
			if !ok {
				if f, err = dfilter.Compile(expr); err != nil {
					t.Errorf("packet %d, %s (%s): %q: %v", i+1, n.Field, n.Value.Type, expr, err)
					bad++
					return true
				}
				compiled[expr] = f
			}
			if strings.Contains(expr, "[0:128] == ") || strings.Contains(expr, " contains ") {
				long++
			}
			if !f.MatchTree(tree, i+1) {
				t.Errorf("packet %d, %s (%s): %q does not match it", i+1, n.Field, n.Value.Type, expr)
				bad++
			}
			checked++
			return true
		})
	}
	if checked < 10000 || long == 0 {
		t.Errorf("only %d fields checked, %d of them long byte strings", checked, long)
	}
	t.Logf("%d fields, %d filters", checked, len(compiled))
}
