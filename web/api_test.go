package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

func TestRows(t *testing.T) {
	const n = 1000
	_, ts := newTestServer(t, Config{})
	id := waitIndexed(t, ts, upload(t, ts, "s.pcap", synthetic(t, pcapio.FormatPcap, n)).ID).ID
	base := ts.URL + "/api/captures/" + id
	tests := []struct {
		query     string
		start     int
		wantRows  int
		wantFirst int // packet number of the first row
	}{
		{"", 0, 100, 1},
		{"?start=0&count=10", 0, 10, 1},
		{"?start=990&count=50", 990, 10, 991},
		{"?start=999&count=1", 999, 1, 1000},
		{"?start=1000&count=10", 1000, 0, 0},
		{"?start=0&count=2000", 0, n, 1}, // maxRows (2000) > n
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var r RowsResponse
			if res := do(t, "GET", base+"/rows"+tt.query, nil, &r); res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			if r.Start != tt.start || r.Total != n || r.Displayed != n || r.Indexing || len(r.Rows) != tt.wantRows {
				t.Fatalf("got start %d total %d displayed %d indexing %v rows %d", r.Start, r.Total, r.Displayed, r.Indexing, len(r.Rows))
			}
			for k, row := range r.Rows {
				i := tt.wantFirst - 1 + k
				want := samplegen.SyntheticPacket(i, nil)
				if row.No != i+1 || row.CapLen != len(want) || row.Length != len(want) {
					t.Fatalf("row %d: %+v", k, row)
				}
				ts := samplegen.SyntheticStart.UnixNano() + int64(i)*100_000
				if row.Sec != ts/1e9 || row.Nsec != ts%1e9 {
					t.Errorf("row %d: time %d.%09d, want %d", k, row.Sec, row.Nsec, ts)
				}
				if i > 0 && row.Delta != 100_000 {
					t.Errorf("row %d: delta %d ns, want 100000", k, row.Delta)
				}
				if row.Source == "" || row.Protocol == "" {
					t.Errorf("row %d: empty summary %+v", k, row)
				}
			}
		})
	}
	bad := []struct {
		path   string
		status int
	}{
		{"/rows?start=-1", http.StatusBadRequest},
		{"/rows?count=x", http.StatusBadRequest},
		{"/rows?count=2001", http.StatusBadRequest},
		{"/rows?start=0&count=100000", http.StatusBadRequest},
		{"/rows?filter=tcp%20port", http.StatusBadRequest},
	}
	for _, b := range bad {
		var e apiError
		if res := do(t, "GET", base+b.path, nil, &e); res.StatusCode != b.status || e.Error == "" {
			t.Errorf("%s: status %d %+v, want %d", b.path, res.StatusCode, e, b.status)
		}
	}
	for _, p := range []string{"/api/captures/0123456789abcdef/rows", "/api/captures/..%2F..%2Fetc/rows", "/api/captures/xyz/rows"} {
		var e apiError
		if res := do(t, "GET", ts.URL+p, nil, &e); res.StatusCode != http.StatusNotFound || e.Error == "" {
			t.Errorf("%s: status %d %+v, want 404", p, res.StatusCode, e)
		}
	}
}

func TestFilterRowsAndPosition(t *testing.T) {
	const n = 2000
	_, ts := newTestServer(t, Config{})
	id := waitIndexed(t, ts, upload(t, ts, "s.pcapng", synthetic(t, pcapio.FormatPcapNg, n)).ID).ID
	base := ts.URL + "/api/captures/" + id
	kinds := map[string]samplegen.SyntheticKind{
		"tcp port 443":       samplegen.KindTLS,
		"tcp dst port 80":    samplegen.KindHTTP,
		"udp port 53":        samplegen.KindDNS,
		"icmp[icmptype] = 8": samplegen.KindPing,
		"arp":                samplegen.KindARP,
	}
	for expr, kind := range kinds {
		t.Run(expr, func(t *testing.T) {
			var want []int
			for i := range n {
				if samplegen.Kind(i) == kind {
					want = append(want, i+1)
				}
			}
			st := waitFilter(t, ts, id, expr)
			if st.Matched != len(want) || st.Scanned != n || st.Error != "" {
				t.Fatalf("status %+v, want %d matches of %d", st, len(want), n)
			}
			var r RowsResponse
			do(t, "GET", base+"/rows?count=2000&filter="+urlQuery(expr), nil, &r)
			if r.Displayed != len(want) || r.Total != n || r.Filter != expr || len(r.Rows) != len(want) {
				t.Fatalf("rows: displayed %d total %d rows %d", r.Displayed, r.Total, len(r.Rows))
			}
			for k, row := range r.Rows {
				if row.No != want[k] {
					t.Fatalf("row %d is packet %d, want %d", k, row.No, want[k])
				}
			}
			// The second row's delta is to the first displayed row.
			var r2 RowsResponse
			do(t, "GET", base+"/rows?start=1&count=1&filter="+urlQuery(expr), nil, &r2)
			if len(r2.Rows) != 1 || r2.Rows[0].Delta != int64(want[1]-want[0])*100_000 {
				t.Errorf("delta of row 1: %+v", r2.Rows)
			}
			var pos struct {
				Position int  `json:"position"`
				Exact    bool `json:"exact"`
			}
			do(t, "GET", fmt.Sprintf("%s/position?no=%d&filter=%s", base, want[3], urlQuery(expr)), nil, &pos)
			if pos.Position != 3 || !pos.Exact {
				t.Errorf("position of packet %d: %+v, want 3", want[3], pos)
			}
		})
	}
	// Cancel (forget) a job; cancelling again is a 404.
	if res := do(t, "DELETE", base+"/filter?filter=arp", nil, nil); res.StatusCode != http.StatusNoContent {
		t.Errorf("cancel: status %d", res.StatusCode)
	}
	if res := do(t, "DELETE", base+"/filter?filter=arp", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("cancel again: status %d", res.StatusCode)
	}
	for _, body := range []string{`{"filter": "tcp port"}`, `{"filter": ""}`, `not json`} {
		var e apiError
		res := do(t, "POST", base+"/filter", strings.NewReader(body), &e, "Content-Type", "application/json")
		if res.StatusCode != http.StatusBadRequest || e.Error == "" {
			t.Errorf("start filter %s: status %d %+v", body, res.StatusCode, e)
		}
	}
}

func urlQuery(s string) string {
	return strings.NewReplacer(" ", "%20", "[", "%5B", "]", "%5D", "=", "%3D", "&", "%26").Replace(s)
}

// TestCompile: /api/filter answers 200 for every well-formed request,
// with "valid" saying whether the expression compiles (a rejected one is
// an answer, not an error: the page checks as the user types, and a 400
// would be logged in the browser's console each time), in which language
// (a display filter when it is one, else BPF; ?lang= insists on one,
// ?linktype= asks for a program), with a BPF program or a display
// filter's fields and parsed form, or the fault's column in the language
// the expression looks like; a request it cannot take (an unknown link
// type, capture or language) is still an error. The endpoints that run a
// filter (rows, download) keep refusing a bad one with 400.
func TestCompile(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	info := waitIndexed(t, ts, upload(t, ts, "s.pcap", synthetic(t, pcapio.FormatPcap, 5)).ID)
	const display, bpf = store.Display, store.BPF
	tests := []struct {
		query     string
		status    int
		valid     bool
		column    int
		lt        string
		lang      store.Language
		fields    string // display: the fields, joined by spaces
		canonical string
	}{
		{"expr=tcp%20port%20443", 200, true, 0, "EN10MB", bpf, "", ""},
		{"expr=", 200, true, 0, "EN10MB", bpf, "", ""},
		{"expr=ip&linktype=RAW", 200, true, 0, "RAW", bpf, "", ""},
		{"expr=ip&linktype=LINUX_SLL2", 200, true, 0, "LINUX_SLL2", bpf, "", ""},
		{"expr=ip&capture=" + info.ID + "&lang=bpf", 200, true, 0, "EN10MB", bpf, "", ""},
		{"expr=ip&capture=" + info.ID, 200, true, 0, "EN10MB", display, "ip", "ip"},
		{"expr=tcp%20port%20http", 200, true, 0, "EN10MB", bpf, "", ""},
		{"expr=tcp%5B13%5D%20%26%202%20!%3D%200", 200, true, 0, "EN10MB", bpf, "", ""},
		{"expr=" + url.QueryEscape("tcp.port eq 443 and not dns or ip.src == 10.0.0.0/8"), 200, true, 0, "EN10MB", display,
			"tcp.port dns ip.src", "(tcp.port == 443 && !dns) || ip.src == 10.0.0.0/8"},
		{"expr=" + url.QueryEscape(`http.host contains "x"`) + "&capture=" + info.ID, 200, true, 0, "EN10MB", display, "http.host", `http.host contains "x"`},
		{"expr=tcp&lang=display&linktype=RAW", 200, true, 0, "RAW", display, "tcp", "tcp"},
		{"expr=tcp%20port", 200, false, 9, "EN10MB", bpf, "", ""},
		{"expr=host%20", 200, false, 6, "EN10MB", bpf, "", ""},
		{"expr=ip6%20and%20arp&linktype=RAW", 200, false, 1, "RAW", bpf, "", ""},
		{"expr=" + url.QueryEscape("tcp.prot == 80"), 200, false, 1, "EN10MB", display, "", ""},
		{"expr=" + url.QueryEscape("ip.src == 1.2.3"), 200, false, 11, "EN10MB", display, "", ""},
		{"expr=" + url.QueryEscape("tcp.port == 80 &&"), 200, false, 18, "EN10MB", display, "", ""},
		{"expr=" + url.QueryEscape("tcp port 80") + "&lang=display", 200, false, 5, "EN10MB", display, "", ""},
		{"expr=" + url.QueryEscape("tcp.port == 80") + "&lang=bpf", 200, false, 1, "EN10MB", bpf, "", ""},
		{"expr=ip&linktype=NOPE", 400, false, 0, "", "", "", ""},
		{"expr=ip&capture=0123456789abcdef", 404, false, 0, "", "", "", ""},
		{"expr=ip&lang=wireshark", 400, false, 0, "", "", "", ""},
		{"expr=ip&lang=display&interface=lo", 400, false, 0, "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var c CompileResponse
			res := do(t, "GET", ts.URL+"/api/filter?"+tt.query, nil, &c)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			switch {
			case tt.status != 200:
				var e apiError
				jsonDecode(t, res, &e)
				if e.Error == "" {
					t.Errorf("error %+v, want a message", e)
				}
			case c.Language != tt.lang:
				t.Errorf("answer %+v, want language %q", c, tt.lang)
			case tt.valid && tt.lang == display:
				if !c.Valid || c.Error != "" || strings.Join(c.Fields, " ") != tt.fields || c.Canonical != tt.canonical || c.Program != "" {
					t.Errorf("answer %+v, want a display filter reading %q, parsed as %q", c, tt.fields, tt.canonical)
				}
			case tt.valid:
				if !c.Valid || c.Error != "" || c.LinkType != tt.lt || c.Instructions == 0 || !strings.Contains(c.Program, "ret") || c.Fields != nil {
					t.Errorf("answer %+v, want a valid program for %s", c, tt.lt)
				}
			default:
				if c.Valid || c.Error == "" || c.Column != tt.column || c.LinkType != tt.lt || c.Instructions != 0 || c.Program != "" {
					t.Errorf("answer %+v, want valid false with a message at column %d for %s", c, tt.column, tt.lt)
				}
				if (c.Length > 0) != (tt.lang == display) {
					t.Errorf("answer %+v: a fault's length is given for display filters only", c)
				}
			}
		})
	}
	for _, path := range []string{"/rows?filter=tcp%20port", "/download?filter=tcp%20port", "/position?no=1&filter=tcp%20port"} {
		var e apiError
		if res := do(t, "GET", ts.URL+"/api/captures/"+info.ID+path, nil, &e); res.StatusCode != http.StatusBadRequest || e.Column != 9 {
			t.Errorf("%s: status %d, %+v; want 400 at column 9", path, res.StatusCode, e)
		}
	}
}

func TestPacket(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	var b bytes.Buffer
	if err := samplegen.WriteSample(&b); err != nil {
		t.Fatal(err)
	}
	id := waitIndexed(t, ts, upload(t, ts, "sample.pcapng", b.Bytes()).ID).ID
	want := readCapture(t, b.Bytes())
	for i, p := range want {
		var got PacketResponse
		if res := do(t, "GET", fmt.Sprintf("%s/api/captures/%s/packets/%d", ts.URL, id, i+1), nil, &got); res.StatusCode != 200 {
			t.Fatalf("packet %d: status %d", i+1, res.StatusCode)
		}
		if !bytes.Equal(got.Data, p.Data) || got.Length != p.Length || got.Truncated != p.IsTruncated() || got.LinkType != "EN10MB" {
			t.Errorf("packet %d: %d bytes (wire %d, truncated %v), want %d (wire %d)", i+1, len(got.Data), got.Length, got.Truncated, len(p.Data), p.Length)
		}
		if len(got.Tree) == 0 {
			t.Errorf("packet %d: empty tree", i+1)
		}
		checkTree(t, got.Tree, p.Length)
	}
	for _, no := range []string{"0", "-1", fmt.Sprint(len(want) + 1), "x"} {
		var e apiError
		if res := do(t, "GET", ts.URL+"/api/captures/"+id+"/packets/"+no, nil, &e); res.StatusCode != http.StatusNotFound || e.Error == "" {
			t.Errorf("packet %s: status %d %+v", no, res.StatusCode, e)
		}
	}
}

// checkTree checks every node's byte range lies within the packet.
func checkTree(t *testing.T, nodes []TreeNode, length int) {
	t.Helper()
	for _, n := range nodes {
		if n.Offset < 0 || n.Length < 0 || n.Offset+n.Length > length {
			t.Errorf("node %q: bytes %d+%d outside a %d-byte packet", n.Label, n.Offset, n.Length, length)
		}
		checkTree(t, n.Children, length)
	}
}

func TestSampleAndDelete(t *testing.T) {
	dir := t.TempDir()
	_, ts := newTestServer(t, Config{DataDir: dir})
	var info CaptureInfo
	if res := do(t, "POST", ts.URL+"/api/captures/sample", nil, &info); res.StatusCode != http.StatusCreated {
		t.Fatalf("sample: status %d", res.StatusCode)
	}
	if info = waitIndexed(t, ts, info.ID); info.Packets != int64(samplegen.SamplePackets()) || info.State != store.StateReady {
		t.Fatalf("sample: %+v", info)
	}
	waitFilter(t, ts, info.ID, "tcp") // a running or finished job must not block delete
	if res := do(t, "DELETE", ts.URL+"/api/captures/"+info.ID, nil, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: status %d", res.StatusCode)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if res := do(t, m, ts.URL+"/api/captures/"+info.ID, nil, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s after delete: status %d", m, res.StatusCode)
		}
	}
	if left := dirEntries(t, dir); len(left) != 0 {
		t.Errorf("files left after delete: %v", left)
	}
	var e apiError
	if res := do(t, "GET", ts.URL+"/api/nope", nil, &e); res.StatusCode != http.StatusNotFound || e.Error == "" {
		t.Errorf("unknown endpoint: %d %+v", res.StatusCode, e)
	}
	if res := do(t, "PUT", ts.URL+"/api/captures", nil, &e); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d", res.StatusCode)
	}
}

func TestSampleUpToDate(t *testing.T) {
	var b bytes.Buffer
	if err := samplegen.WriteSample(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), sampleCapture) {
		t.Fatal("sample.pcapng differs from what samplegen writes: run go generate ./web")
	}
}

// TestCompileNonASCII: /api/filter names a character it cannot take as it
// was typed, not as one byte of its UTF-8 encoding.
func TestCompileNonASCII(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	var c CompileResponse
	res := do(t, "GET", ts.URL+"/api/filter?expr="+url.QueryEscape("tcp port ünïcode"), nil, &c)
	if res.StatusCode != http.StatusOK || c.Valid {
		t.Fatalf("status %d, valid %v; want 200, false", res.StatusCode, c.Valid)
	}
	if !strings.Contains(c.Error, "unexpected character 'ü'") || c.Column != 10 {
		t.Errorf("answer %+v, want unexpected character 'ü' at column 10", c)
	}
}
