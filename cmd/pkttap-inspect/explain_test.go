package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// TestAnnotate: -d --annotate prints -d's instructions, each followed by
// the source it implements; --annotate without -d is a usage error.
func TestAnnotate(t *testing.T) {
	const expr = "tcp port 443 and not host 10.0.0.1"
	out, errOut, code := runCLI(t, "-d", "--annotate", "-y", "EN10MB", expr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	plain, _, _ := runCLI(t, "-d", "-y", "EN10MB", expr)
	var insns []string
	annotated := 0
	for _, l := range strings.SplitAfter(out, "\n") {
		switch {
		case strings.HasPrefix(l, "      ; "):
			annotated++
		case l != "":
			insns = append(insns, l)
		}
	}
	if strings.Join(insns, "") != plain {
		t.Fatalf("instructions of --annotate:\n%s\nof -d:\n%s", strings.Join(insns, ""), plain)
	}
	prog, err := filter.Compile(expr, filter.Options{LinkType: pcapio.LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	if annotated < len(prog.Raw) || !strings.Contains(out, "; 1-12 tcp port 443\n") || !strings.Contains(out, "; 22-34 host 10.0.0.1\n") {
		t.Fatalf("annotations:\n%s", out)
	}
	if _, errOut, code := runCLI(t, "--annotate", "x.pcap", "tcp"); code != 2 || !strings.Contains(errOut, "--annotate") {
		t.Fatalf("--annotate without -d: exit %d, %q", code, errOut)
	}
}

// TestExplain: --explain shows every packet of a corpus capture with why
// "tcp port 443" matches it or not; only the one the filter passes says
// match, and its deciding comparison read the destination port.
func TestExplain(t *testing.T) {
	file := filepath.Join(testenv.SharedDir(t), "corpus", "kday2.pcap")
	out, errOut, code := runCLI(t, "-S", "--explain", file, "tcp port 443")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(out, "why tcp port 443:\n"); n != 5 {
		t.Fatalf("%d explanations for 5 packets:\n%s", n, out)
	}
	if n := strings.Count(out, "  → match"); n != 1 || strings.Count(out, "  → no match") != 4 {
		t.Fatalf("%d matches, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "destination port 443 (bytes 36–37) = 443 ✓ → true (decides)") || !strings.HasSuffix(out, "5 packets captured\n") {
		t.Fatalf("output:\n%s", out)
	}
	if _, errOut, code := runCLI(t, "--explain", file); code != 2 || !strings.Contains(errOut, "filter") {
		t.Fatalf("--explain without a filter: exit %d, %q", code, errOut)
	}
}

// TestExplainDisplay: --explain with -Y shows every packet of a corpus
// capture with why the display filter matches it or not (applying it to
// nothing): only packet 4 matches, its deciding check read the
// destination port among tcp.port's two values, and tcp.stream, which
// needs the stream tracker, is there; with a tcpdump expression as well,
// both are explained.
func TestExplainDisplay(t *testing.T) {
	file := filepath.Join(testenv.SharedDir(t), "corpus", "kday2.pcap")
	const expr = "tcp.port == 443 && tcp.stream == 2"
	out, errOut, code := runCLI(t, "-S", "--explain", "-Y", expr, file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(out, "why "+expr+":\n"); n != 5 {
		t.Fatalf("%d explanations for 5 packets:\n%s", n, out)
	}
	if n := strings.Count(out, "  → match\n"); n != 1 || strings.Count(out, "  → no match\n") != 4 {
		t.Fatalf("%d matches, want 1:\n%s", n, out)
	}
	for _, want := range []string{
		"tcp.port == 443 (col 1-15): any of tcp.port #1 (tcp.srcport) 55936 (bytes 34–35) == 443 ✗, tcp.port #2 (tcp.dstport) 443 (bytes 36–37) == 443 ✓ → true\n",
		"tcp.stream == 2 (col 20-34): any of tcp.stream 2 == 2 ✓ → true (decides)\n",
		"tcp.port == 443 (col 1-15): no tcp.port in the packet → false (decides)\n",
		"tcp.stream == 2 (col 20-34): not evaluated\n",
		"displayed 5 of 5 packets\n",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in:\n%s", want, out)
		}
	}
	out, errOut, code = runCLI(t, "-S", "--explain", "-Y", "udp", file, "tcp port 443")
	if code != 0 || strings.Count(out, "why udp:\n") != 5 || strings.Count(out, "why tcp port 443:\n") != 5 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
}
