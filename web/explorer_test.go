package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// manyHosts is an expression whose program passes macOS's 512
// instructions but fits Linux's 4096.
func manyHosts(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf("host 10.0.%d.%d", i/250, i%250+1))
	}
	return strings.Join(parts, " or ")
}

// TestExploreAPI: /api/explore lists the program filter.Compile makes
// (as tcpdump -d prints it, with each instruction's jumps and origins),
// the unoptimized size, the kernels' limits, and a control-flow graph in
// which every instruction is in one block, every jump is an edge, edges
// run downwards and boxes do not overlap.
func TestExploreAPI(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	for _, tc := range []struct {
		expr, lt       string
		linux, bsd, ok bool
	}{
		{"tcp port 443", "EN10MB", true, true, true},
		{"tcp port 443 and not host 10.0.0.1", "EN10MB", true, true, true},
		{"ip6 and (udp port 53 or tcp[tcpflags] & tcp-syn != 0)", "LINUX_SLL2", true, true, true},
		{"vlan 42 and arp", "EN10MB", true, true, true},
		{`ip protochain \tcp`, "EN10MB", true, true, true}, // a loop: ja backwards
		{"icmp[icmptype] == icmp-echo or portrange 6000-6010", "RAW", true, true, true},
		{"", "NULL", true, true, true},
		{manyHosts(200), "EN10MB", true, false, true},
		{"tcp port", "EN10MB", false, false, false},
	} {
		var r ExploreResponse
		do(t, "GET", ts.URL+"/api/explore?linktype="+tc.lt+"&expr="+url.QueryEscape(tc.expr), nil, &r)
		name := tc.expr
		if len(name) > 40 {
			name = name[:40] + "…"
		}
		lt, _ := pcapio.LinkTypeFromName(tc.lt)
		opts := filter.FileOptions(nil, 0)
		opts.LinkType = lt
		prog, err := filter.Compile(tc.expr, opts)
		if !tc.ok {
			var fe *filter.Error
			if r.Valid || err == nil || !errors.As(err, &fe) || r.Column != fe.Column || r.Error != fe.Msg {
				t.Errorf("%s: %+v, compile error %v", name, r, err)
			}
			continue
		}
		if err != nil || !r.Valid || r.LinkType != tc.lt {
			t.Fatalf("%s: %v, response %+v", name, err, r)
		}
		lines := strings.Split(strings.TrimSuffix(prog.String(), "\n"), "\n")
		if len(r.Instructions) != len(prog.Raw) {
			t.Fatalf("%s: %d instructions, want %d", name, len(r.Instructions), len(prog.Raw))
		}
		for pc, in := range r.Instructions {
			if got := fmt.Sprintf("(%03d) %s", pc, in.Text); strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(lines[pc]), " ") {
				t.Fatalf("%s: instruction %d %q, tcpdump -d form %q", name, pc, got, lines[pc])
			}
			raw := prog.Raw[pc]
			wantJt, wantJf := -1, -1
			if strings.Contains(lines[pc], " jt ") {
				wantJt, wantJf = pc+1+int(raw.Jt), pc+1+int(raw.Jf)
			} else if strings.Contains(lines[pc], " ja ") {
				wantJt = pc + 1 + int(int32(raw.K))
			}
			if in.Jt != wantJt || in.Jf != wantJf {
				t.Fatalf("%s: instruction %d %q jumps to %d/%d", name, pc, lines[pc], in.Jt, in.Jf)
			}
			origins := prog.Origins(pc)
			if len(in.Sources) != len(origins) || len(in.Sources) == 0 {
				t.Fatalf("%s: instruction %d sources %v, origins %v", name, pc, in.Sources, origins)
			}
			for k, o := range origins {
				if s := in.Sources[k]; s.Start != o.Start || s.End != o.End || s.Whole != o.Whole || s.Text != o.Text {
					t.Fatalf("%s: instruction %d source %d %+v, origin %+v", name, pc, k, s, o)
				}
			}
		}
		opts.NoOptimize = true
		if plain, err := filter.Compile(tc.expr, opts); err != nil && r.UnoptimizedError != err.Error() || err == nil && r.Unoptimized != len(plain.Raw) {
			t.Errorf("%s: unoptimized %d (%q), compile: %v", name, r.Unoptimized, r.UnoptimizedError, err)
		}
		if len(r.Limits) != 2 || r.Limits[0].Max != 4096 || r.Limits[1].Max != 512 || r.Limits[0].Fits != tc.linux || r.Limits[1].Fits != tc.bsd {
			t.Errorf("%s (%d instructions): limits %+v", name, len(prog.Raw), r.Limits)
		}
		checkFlowGraph(t, name, r.Instructions, r.Graph)
	}

	// A display filter has no program; a bad link type is refused; an
	// unknown capture is not found.
	var r ExploreResponse
	do(t, "GET", ts.URL+"/api/explore?expr="+url.QueryEscape("tcp.port == 443"), nil, &r)
	if r.Valid || !r.Display || !strings.Contains(r.Error, "display filter") {
		t.Errorf("display filter: %+v", r)
	}
	if res := do(t, "GET", ts.URL+"/api/explore?linktype=NOPE&expr=tcp", nil, nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad link type: %d", res.StatusCode)
	}
	if res := do(t, "GET", ts.URL+"/api/explore?capture=0123456789abcdef&expr=tcp", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown capture: %d", res.StatusCode)
	}
}

// checkFlowGraph checks the graph's invariants.
func checkFlowGraph(t *testing.T, name string, insns []ExploreInsn, g *FlowGraph) {
	t.Helper()
	if g == nil || len(g.Blocks) == 0 {
		t.Fatalf("%s: no graph", name)
	}
	next := 0
	blockOf := map[int]int{}
	for i, b := range g.Blocks {
		if b.First != next || b.Last < b.First {
			t.Fatalf("%s: block %d covers %d-%d, want it to start at %d", name, i, b.First, b.Last, next)
		}
		for pc := b.First; pc <= b.Last; pc++ {
			blockOf[pc] = i
			if pc < b.Last && (insns[pc].Jt >= 0 || insns[pc].Return) {
				t.Fatalf("%s: block %d goes on past the jump or return at %d", name, i, pc)
			}
		}
		next = b.Last + 1
		if b.X < 0 || b.Y < 0 || b.X+b.W > g.Width || b.Y+b.H > g.Height {
			t.Fatalf("%s: block %d at %d,%d %dx%d outside %dx%d", name, i, b.X, b.Y, b.W, b.H, g.Width, g.Height)
		}
		for j, c := range g.Blocks[:i] {
			if b.X < c.X+c.W && c.X < b.X+b.W && b.Y < c.Y+c.H && c.Y < b.Y+b.H {
				t.Fatalf("%s: blocks %d and %d overlap", name, j, i)
			}
		}
	}
	if next != len(insns) {
		t.Fatalf("%s: blocks end at %d of %d instructions", name, next, len(insns))
	}
	want := map[string]bool{}
	for i, b := range g.Blocks {
		last := insns[b.Last]
		switch {
		case last.Return:
		case last.Jt >= 0 && last.Jf >= 0:
			want[fmt.Sprint(i, blockOf[last.Jt], "true")] = true
			want[fmt.Sprint(i, blockOf[last.Jf], "false")] = true
		case last.Jt >= 0:
			want[fmt.Sprint(i, blockOf[last.Jt], "next")] = true
		default:
			want[fmt.Sprint(i, i+1, "next")] = true
		}
	}
	for _, e := range g.Edges {
		k := fmt.Sprint(e.From, e.To, e.Kind)
		if !want[k] {
			t.Fatalf("%s: edge %+v is no jump of the program", name, e)
		}
		delete(want, k)
		if e.Back != (e.To <= e.From) || !e.Back && e.Y2 <= e.Y1 {
			t.Fatalf("%s: edge %+v runs upwards", name, e)
		}
	}
	if len(want) != 0 {
		t.Fatalf("%s: jumps without edges: %v", name, want)
	}
}

// TestExploreLibpcap: /api/explore/libpcap answers what the server's
// tcpdump -d prints, for the link type asked, and nothing in an
// expression reaches tcpdump as an option or a shell: option-looking
// expressions (-w, -F, -r, -V, --version), shell syntax and newlines are
// only libpcap syntax errors, no file is written or read, a NUL byte and
// an over-long expression are refused, and a link type must be one
// pcapio knows.
func TestExploreLibpcap(t *testing.T) {
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	_, ts := newTestServer(t, Config{})
	for _, tc := range []struct{ expr, lt string }{
		{"tcp port 443", "EN10MB"},
		{"tcp port 443 and not host 10.0.0.1", "LINUX_SLL"},
		{"ip6 and udp port 53", "NULL"},
		{"", "RAW"},
	} {
		want, err := exec.Command(tcpdump, "-d", "-y", tc.lt, "--", tc.expr).Output()
		if err != nil {
			t.Fatalf("tcpdump -d -y %s %q: %v", tc.lt, tc.expr, err)
		}
		var r LibpcapResponse
		do(t, "GET", ts.URL+"/api/explore/libpcap?linktype="+tc.lt+"&expr="+url.QueryEscape(tc.expr), nil, &r)
		if !r.Available || !r.Valid || r.Program != string(want) || r.Instructions != strings.Count(string(want), "\n") || r.LinkType != tc.lt {
			t.Errorf("%s %q: %+v\ntcpdump -d prints:\n%s", tc.lt, tc.expr, r, want)
		}
		if !strings.Contains(r.Version, "libpcap version") {
			t.Errorf("version %q", r.Version)
		}
	}

	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	// Were "-F secret" taken as tcpdump's option, the program would test
	// port 9999 (0x270f).
	if err := os.WriteFile(secret, []byte("tcp port 9999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "written")
	for _, expr := range []string{
		"-w " + out, "-w" + out, "-F " + secret, "-F" + secret, "-r " + secret, "-V " + secret, "--version", "-d",
		"tcp; touch " + out, "tcp && touch " + out, "$(touch " + out + ")", "`touch " + out + "`",
		"tcp\n-w " + out, "tcp port 80 -w " + out, "tcp | tee " + out, "-y EN10MB -w " + out + " tcp",
	} {
		var r LibpcapResponse
		res := do(t, "GET", ts.URL+"/api/explore/libpcap?expr="+url.QueryEscape(expr), nil, &r)
		if res.StatusCode != http.StatusOK || !r.Available || r.Valid || r.Program != "" || !strings.Contains(r.Error, "syntax error") {
			t.Errorf("%q: status %d, %+v", expr, res.StatusCode, r)
		}
		if strings.Contains(r.Error, "270f") || strings.Contains(r.Error, "9999") {
			t.Errorf("%q: the answer holds the file's content: %+v", expr, r)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files in the folder after the hostile expressions: %v", entries)
	}
	for _, q := range []string{
		"expr=" + url.QueryEscape("tcp\x00-w "+out),
		"expr=" + strings.Repeat("a", libpcapMaxExpr+1),
		"expr=tcp&linktype=" + url.QueryEscape("EN10MB -w "+out),
		"expr=tcp&linktype=" + url.QueryEscape("-w"),
	} {
		if res := do(t, "GET", ts.URL+"/api/explore/libpcap?"+q, nil, nil); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%.60s: status %d, want 400", q, res.StatusCode)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a hostile expression wrote a file")
	}
}

// TestExploreLibpcapAbsent: without tcpdump the answer says so, and
// pkttap's own program is still there.
func TestExploreLibpcapAbsent(t *testing.T) {
	s, ts := newTestServer(t, Config{})
	s.libpcap.find = func() (string, error) { return "", exec.ErrNotFound }
	var r LibpcapResponse
	do(t, "GET", ts.URL+"/api/explore/libpcap?expr=tcp", nil, &r)
	if r.Available || r.Valid || !strings.Contains(r.Note, "tcpdump is not installed") {
		t.Errorf("%+v", r)
	}
	var x ExploreResponse
	do(t, "GET", ts.URL+"/api/explore?expr=tcp", nil, &x)
	if !x.Valid || len(x.Instructions) == 0 {
		t.Errorf("%+v", x)
	}
}

// TestRunBounded: a command that prints without end is stopped at the
// output limit, one that hangs at the timeout, each with an error that
// says which.
func TestRunBounded(t *testing.T) {
	yes := testenv.LookPath(t, "coreutils", "yes")
	sleep := testenv.LookPath(t, "coreutils", "sleep")
	start := time.Now()
	if _, err := runBounded(context.Background(), 10*time.Second, yes, "tcp"); err == nil || !strings.Contains(err.Error(), "printed more than") {
		t.Errorf("yes: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("endless output stopped after %v", d)
	}
	start = time.Now()
	if _, err := runBounded(context.Background(), 200*time.Millisecond, sleep, "30"); err == nil || !strings.Contains(err.Error(), "took longer than") {
		t.Errorf("sleep: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("hung command stopped after %v", d)
	}
}

// TestFlowGraphPublicSet lays out the control-flow graph of every
// expression of the shared public filter set, for Ethernet and Linux
// cooked v2, and checks its invariants (checkFlowGraph).
func TestFlowGraphPublicSet(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), "filters", "public.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, lt := range []pcapio.LinkType{pcapio.LinkTypeEthernet, pcapio.LinkTypeLinuxSLL2} {
		opts := filter.FileOptions(nil, 0)
		opts.LinkType = lt
		n := 0
		for _, expr := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			r := explore(expr, opts)
			if !r.Valid {
				continue
			}
			n++
			checkFlowGraph(t, lt.String()+" "+expr, r.Instructions, r.Graph)
		}
		if n < 280 {
			t.Errorf("%s: only %d expressions compiled", lt, n)
		}
	}
}
