package filter

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/filter/internal/golden"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// Benchmarks of compile time per expression, with two anchors measured in
// the same run: tcpdump -d (a process per expression, as a user runs it)
// and libpcap's pcap_compile in one process (the shared pcapmatch harness
// in compile-only mode). Each iteration is one expression of the shared
// public.txt, in turn, so -benchtime=1x stays fast.

func publicExprs(b *testing.B) []string {
	b.Helper()
	exprs, err := golden.ReadExprList(filepath.Join(testenv.SharedDir(b), "filters", "public.txt"))
	if err != nil {
		b.Fatalf("read public.txt: %v", err)
	}
	return exprs
}

// BenchmarkCompile is pkttap's Compile (optimized), per expression.
func BenchmarkCompile(b *testing.B) {
	exprs := publicExprs(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(exprs[i%len(exprs)], Options{LinkType: pcapio.LinkTypeEthernet}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileNoOptimize is the parser and code generator alone.
func BenchmarkCompileNoOptimize(b *testing.B) {
	exprs := publicExprs(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(exprs[i%len(exprs)], Options{LinkType: pcapio.LinkTypeEthernet, NoOptimize: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTcpdumpD runs tcpdump -d -y EN10MB once per expression.
func BenchmarkTcpdumpD(b *testing.B) {
	tcpdump := testenv.LookPath(b, "tcpdump", "tcpdump")
	exprs := publicExprs(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command(tcpdump, "-d", "-y", "EN10MB", "--", exprs[i%len(exprs)]).CombinedOutput(); err != nil {
			b.Fatalf("tcpdump -d %q: %v\n%s", exprs[i%len(exprs)], err, out)
		}
	}
}

// BenchmarkLibpcapCompile measures pcap_compile in one process: pcapmatch
// compiles all public expressions per run; the reported ns/expr is its time
// per expression (the process start is amortized over all of them).
func BenchmarkLibpcapCompile(b *testing.B) {
	shared := testenv.SharedDir(b)
	bin := buildPcapmatch(b, shared)
	exprs := publicExprs(b)
	file := filepath.Join(shared, "filters", "public.txt")
	b.ResetTimer()
	var total time.Duration
	n := 0
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if out, err := exec.Command(bin, "-y", "EN10MB", file).CombinedOutput(); err != nil {
			b.Fatalf("pcapmatch: %v\n%s", err, out)
		}
		total += time.Since(start)
		n += len(exprs)
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(n), "ns/expr")
}

// BenchmarkCompileVsLibpcap times Compile against libpcap's pcap_compile
// in one process, expression by expression: testdata/compilespeed links
// both (libpcap through cgo, which is why it lives under testdata, out of
// the module's packages) and compiles every public expression for
// Ethernet with each, alternately (see its doc). Each iteration is one run
// of it over the whole set; the metrics are the median and 95th
// percentile over the expressions of pkttap's time over libpcap's (below 1:
// pkttap is faster), and the mean time per expression on each side.
//
//	go run ./filter/testdata/compilespeed -v    # the table, expression by expression
func BenchmarkCompileVsLibpcap(b *testing.B) {
	shared := testenv.SharedDir(b)
	bin := buildCompilespeed(b)
	file := filepath.Join(shared, "filters", "public.txt")
	b.ResetTimer()
	var med, p95, ours, theirs []float64
	for i := 0; i < b.N; i++ {
		out, err := exec.Command(bin, "-y", "EN10MB", "-rounds", "5", "-reps", "4", file).CombinedOutput()
		if err != nil {
			b.Fatalf("compilespeed: %v\n%s", err, out)
		}
		r, err := parseCompilespeed(string(out))
		if err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		med, p95 = append(med, r["median-ratio"]), append(p95, r["p95-ratio"])
		ours, theirs = append(ours, r["pkttap-ns"]), append(theirs, r["libpcap-ns"])
	}
	b.ReportMetric(medianOf(med), "x-libpcap-median")
	b.ReportMetric(medianOf(p95), "x-libpcap-p95")
	b.ReportMetric(medianOf(ours), "pkttap-ns/expr")
	b.ReportMetric(medianOf(theirs), "libpcap-ns/expr")
}

// buildCompilespeed builds testdata/compilespeed (cgo against libpcap) into
// the test's temporary directory.
func buildCompilespeed(t testing.TB) string {
	t.Helper()
	testenv.LookPath(t, "cc", "cc")
	if _, err := os.Stat("/usr/include/pcap/pcap.h"); err != nil {
		testenv.Missing(t, "libpcap", "libpcap's headers are not installed (apt-get install -y libpcap-dev)")
	}
	gotool := testenv.LookPath(t, "go", "go")
	bin := filepath.Join(t.TempDir(), "compilespeed")
	cmd := exec.Command(gotool, "build", "-o", bin, "./testdata/compilespeed")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building testdata/compilespeed: %v\n%s", err, out)
	}
	return bin
}

// parseCompilespeed reads the RESULT line of compilespeed's output.
func parseCompilespeed(out string) (map[string]float64, error) {
	for line := range strings.Lines(out) {
		rest, ok := strings.CutPrefix(line, "RESULT ")
		if !ok {
			continue
		}
		r := map[string]float64{}
		for _, f := range strings.Fields(rest) {
			k, v, _ := strings.Cut(f, "=")
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("compilespeed result %q: %w", f, err)
			}
			r[k] = x
		}
		return r, nil
	}
	return nil, fmt.Errorf("compilespeed printed no RESULT line")
}

// BenchmarkCompileLong compiles long lists: the longest port list that
// fits on Ethernet, one that cannot fit, and 64 KiB of hosts (refused),
// with their allocations: the compile budget's hot path (see
// TestCompileBudget).
func BenchmarkCompileLong(b *testing.B) {
	port := func(i int) string { return fmt.Sprintf("port %d", i+1) }
	host := func(i int) string { return fmt.Sprintf("host 10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	for _, bc := range []struct {
		name string
		expr string
	}{
		{"1351-ports", list(maxExprLen, 1351, " or ", port)},
		{"3000-ports", list(maxExprLen, 3000, " or ", port)},
		{"64KiB-hosts", list(maxExprLen, 0, " or ", host)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Compile(bc.expr, Options{LinkType: pcapio.LinkTypeEthernet})
			}
		})
	}
}

// medianOf returns the median of xs (0 for none).
func medianOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
