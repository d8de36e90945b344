package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/filter/explain"
	"github.com/pkttap/pkttap/internal/testenv"
)

// TestExplainAPI explains "tcp port 443" on every packet of a corpus
// capture: each verdict is the filter job's (the packets it displays),
// the matching packet's deciding term read the destination port at bytes
// 36-37, and a bad expression is a 400 with its column.
func TestExplainAPI(t *testing.T) {
	ts, info := openCorpus(t, "kday2.pcap")
	const expr = "tcp port 443"
	shown := displayedBy(t, ts, info.ID, expr)
	if len(shown) != 1 || info.Packets != 5 {
		t.Fatalf("filter shows %v of %d packets, want 1 of 5", shown, info.Packets)
	}
	for no := 1; no <= int(info.Packets); no++ {
		var x ExplainResponse
		res := do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/packets/"+strconv.Itoa(no)+"/explain?filter="+url.QueryEscape(expr), nil, &x)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("packet %d: status %d", no, res.StatusCode)
		}
		if x.Match != shown[no] || x.No != no || len(x.Terms) != 1 || x.Decided != 0 {
			t.Fatalf("packet %d: explanation %+v, filter job shows it: %v", no, x, shown[no])
		}
		term := x.Terms[0]
		if term.Text != expr || term.Start != 0 || term.End != len(expr) {
			t.Fatalf("packet %d: term %+v", no, term)
		}
		if want := explain.False; x.Match {
			last := term.Checks[len(term.Checks)-1]
			if term.Outcome != explain.True || last.Field != "destination port" || last.Value != 443 ||
				len(last.Bytes) != 1 || last.Bytes[0] != (explain.Range{First: 36, Last: 37}) {
				t.Fatalf("packet %d: matching term %+v", no, term)
			}
		} else if term.Outcome != want {
			t.Fatalf("packet %d: outcome %s, want %s", no, term.Outcome, want)
		}
	}
	var e apiError
	res := do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/packets/1/explain?filter="+url.QueryEscape("tcp port"), nil, &e)
	if res.StatusCode != http.StatusBadRequest || e.Column != 9 || e.Language != "bpf" {
		t.Fatalf("bad expression: status %d, %+v", res.StatusCode, e)
	}
	res = do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/packets/9/explain?filter=tcp", nil, &e)
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("packet 9 of 5: status %d", res.StatusCode)
	}
}

// TestFilterAnnotate: /api/filter?annotate=1 returns the annotated listing
// (whose instruction lines are the program's) and each instruction's
// origins.
func TestFilterAnnotate(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	var resp CompileResponse
	do(t, "GET", ts.URL+"/api/filter?lang=bpf&annotate=1&expr="+url.QueryEscape("tcp port 443 and not host 10.0.0.1"), nil, &resp)
	if !resp.Valid || len(resp.SourceMap) != resp.Instructions || resp.Instructions == 0 {
		t.Fatalf("response %+v", resp)
	}
	var insns []string
	for _, l := range strings.SplitAfter(resp.Annotated, "\n") {
		if l != "" && !strings.HasPrefix(l, "      ; ") {
			insns = append(insns, l)
		}
	}
	if strings.Join(insns, "") != resp.Program {
		t.Fatalf("annotated listing's instructions:\n%s\nprogram:\n%s", strings.Join(insns, ""), resp.Program)
	}
	texts := map[string]bool{}
	for i, os := range resp.SourceMap {
		if len(os) == 0 {
			t.Fatalf("instruction %d has no origin", i)
		}
		for _, o := range os {
			texts[o.Text] = true
		}
	}
	if !texts["tcp port 443"] || !texts["host 10.0.0.1"] {
		t.Fatalf("origins %v", texts)
	}
	var plain CompileResponse
	do(t, "GET", ts.URL+"/api/filter?lang=bpf&expr=tcp", nil, &plain)
	if !plain.Valid || plain.Annotated != "" || plain.SourceMap != nil {
		t.Fatalf("without annotate=1: %+v", plain)
	}
}

// TestExplainDisplayAPI explains the display filter "tcp.port == 443 &&
// tcp.stream == 0" on every packet of a corpus capture: each verdict is
// the filter job's, the matching packet's term shows both ports with
// their bytes (the destination's, 36-37, true), the tree holds the
// terms, an expression valid in both languages is a display filter
// unless lang=bpf, and a bad display filter is a 400 with its column
// and language.
func TestExplainDisplayAPI(t *testing.T) {
	ts, info := openCorpus(t, "kday2.pcap")
	const expr = "tcp.port == 443 && tcp.stream == 2"
	shown := displayedBy(t, ts, info.ID, expr)
	if len(shown) != 1 {
		t.Fatalf("filter shows %v, want one packet", shown)
	}
	explainURL := func(no int, expr string) string {
		return ts.URL + "/api/captures/" + info.ID + "/packets/" + strconv.Itoa(no) + "/explain?filter=" + url.QueryEscape(expr)
	}
	for no := 1; no <= int(info.Packets); no++ {
		var x ExplainResponse
		res := do(t, "GET", explainURL(no, expr), nil, &x)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("packet %d: status %d", no, res.StatusCode)
		}
		if x.Match != shown[no] || x.Language != "display" || len(x.Terms) != 2 || x.Tree == nil || x.Tree.Kind != "and" {
			t.Fatalf("packet %d: explanation %+v, filter job shows it: %v", no, x, shown[no])
		}
		if v, err := x.Verdict(); err != nil || v != x.Match {
			t.Fatalf("packet %d: terms give %v (%v), verdict %v", no, v, err, x.Match)
		}
		if !x.Match {
			continue
		}
		ports := x.Terms[0]
		if ports.Text != "tcp.port == 443" || ports.Quantifier != "any" || len(ports.Checks) != 2 || x.Terms[1].Outcome != explain.True {
			t.Fatalf("packet %d: terms %+v", no, x.Terms)
		}
		dst := ports.Checks[1]
		if dst.ValueField != "tcp.dstport" || dst.Value != 443 || dst.Occurrence != 2 || !dst.Result ||
			len(dst.Bytes) != 1 || dst.Bytes[0] != (explain.Range{First: 36, Last: 37}) {
			t.Fatalf("packet %d: destination port check %+v", no, dst)
		}
	}
	var x ExplainResponse
	do(t, "GET", explainURL(1, "tcp"), nil, &x)
	if x.Language != "display" || x.Tree == nil {
		t.Fatalf("tcp: %+v", x)
	}
	x = ExplainResponse{}
	do(t, "GET", explainURL(1, "tcp")+"&lang=bpf", nil, &x)
	if x.Language != "bpf" || x.Tree != nil || len(x.Terms) != 1 {
		t.Fatalf("tcp with lang=bpf: %+v", x)
	}
	var e apiError
	res := do(t, "GET", explainURL(1, "tcp.port == "), nil, &e)
	if res.StatusCode != http.StatusBadRequest || e.Language != "display" || e.Column == 0 {
		t.Fatalf("bad display filter: status %d, %+v", res.StatusCode, e)
	}
	res = do(t, "GET", explainURL(1, "tcp")+"&lang=perl", nil, &e)
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("lang=perl: status %d", res.StatusCode)
	}
}

// openCorpus starts a test server with a corpus capture uploaded and
// indexed.
func openCorpus(t *testing.T, file string) (*httptest.Server, CaptureInfo) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), "corpus", file))
	if err != nil {
		t.Fatal(err)
	}
	_, ts := newTestServer(t, Config{})
	info := upload(t, ts, file, data)
	return ts, waitIndexed(t, ts, info.ID)
}

// displayedBy returns the numbers of the packets of capture id (of up to
// 100) the filter job of expr displays.
func displayedBy(t *testing.T, ts *httptest.Server, id, expr string) map[int]bool {
	t.Helper()
	waitFilter(t, ts, id, expr)
	var rows RowsResponse
	do(t, "GET", ts.URL+"/api/captures/"+id+"/rows?start=0&count=100&filter="+url.QueryEscape(expr), nil, &rows)
	shown := map[int]bool{}
	for _, r := range rows.Rows {
		shown[r.No] = true
	}
	return shown
}
