package bpfopt

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
)

// The benchmarks optimize libpcap's unoptimized programs of a typical
// expression and of long or-lists (the golden store's big programs, up to 3782
// instructions) and report, next to ns/op, the anchor: libpcap's own
// optimizer on the same expression (pcap_compile with optimize=1 minus
// optimize=0, measured in the same run by a small C harness built with cc
// and libpcap when they are installed) and the ratio ours/libpcap
// (x-libpcap). The anchor takes a few seconds in all (libpcap itself needs
// about 0.15 s to compile the 60-port list), so the benchmarks fit CI's
// -benchtime=1x run; measure with -count and take medians, as the anchor
// is a difference of two timings and noisy on a busy machine.

const anchorSrc = `#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
int main(int argc, char **argv) {
	pcap_t *p = pcap_open_dead(pcap_datalink_name_to_val(argv[1]), 262144);
	long n = atol(argv[2]);
	for (int opt = 0; opt <= 1; opt++) {
		double a = now();
		for (long i = 0; i < n; i++) {
			struct bpf_program prog;
			if (pcap_compile(p, &prog, argv[3], opt, PCAP_NETMASK_UNKNOWN) < 0) {
				fprintf(stderr, "%s\n", pcap_geterr(p));
				return 1;
			}
			pcap_freecode(&prog);
		}
		printf("%.0f\n", (now() - a) / n);
	}
	return 0;
}
`

var anchor struct {
	once    sync.Once
	bin     string
	err     string
	missing string // the prerequisite missing ("cc", "libpcap"), if that is why
}

// libpcapOptimizerNs returns the nanoseconds libpcap's optimizer spends on
// expr (median of three measurements). Without cc or libpcap's headers the
// benchmark skips, or fails under PKTTAP_REQUIRE; a harness that does not
// build fails it.
func libpcapOptimizerNs(b *testing.B, linkType, expr string, iters int) float64 {
	anchor.once.Do(func() {
		cc, err := exec.LookPath("cc")
		if err != nil {
			anchor.err, anchor.missing = "cc is not installed (apt-get install -y gcc libpcap-dev)", "cc"
			return
		}
		if _, err := os.Stat("/usr/include/pcap/pcap.h"); err != nil {
			anchor.err, anchor.missing = "libpcap's headers are not installed (apt-get install -y libpcap-dev)", "libpcap"
			return
		}
		dir, err := os.MkdirTemp("", "bpfopt-anchor")
		if err != nil {
			anchor.err = err.Error()
			return
		}
		src := filepath.Join(dir, "anchor.c")
		if err := os.WriteFile(src, []byte(anchorSrc), 0o644); err != nil {
			anchor.err = err.Error()
			return
		}
		bin := filepath.Join(dir, "anchor")
		if out, err := exec.Command(cc, "-O2", "-o", bin, src, "-lpcap").CombinedOutput(); err != nil {
			anchor.err = "cc -lpcap: " + string(out)
			return
		}
		anchor.bin = bin
	})
	if anchor.bin == "" {
		if anchor.missing != "" {
			testenv.Missing(b, anchor.missing, "the libpcap anchor: "+anchor.err)
		}
		b.Fatalf("the libpcap anchor: %s", anchor.err)
	}
	var runs []float64
	for i := 0; i < 3; i++ {
		out, err := exec.Command(anchor.bin, linkType, strconv.Itoa(iters), expr).Output()
		if err != nil {
			b.Fatalf("anchor: %v", err)
		}
		f := strings.Fields(string(out))
		if len(f) != 2 {
			b.Fatalf("anchor output %q", out)
		}
		unopt, err1 := strconv.ParseFloat(f[0], 64)
		opt, err2 := strconv.ParseFloat(f[1], 64)
		if err := errors.Join(err1, err2); err != nil {
			b.Fatalf("anchor output %q: %v", out, err)
		}
		runs = append(runs, opt-unopt)
	}
	return median(runs)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}

func BenchmarkOptimize(b *testing.B) {
	typical := goldenCase{}
	for _, c := range loadGolden(b) {
		if c.linkType == "EN10MB" && c.expr == "port 22 or 179" {
			typical = c
		}
	}
	big := loadBig(b)
	cases := []struct {
		name  string
		c     goldenCase
		iters int
	}{
		{"port-22-or-179", typical, 2000},
		{"60-ports", big[0], 3},
		{"100-hosts", big[1], 3},
		{"40-port-and-net", big[2], 3},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			ref := libpcapOptimizerNs(b, bc.c.linkType, bc.c.expr, bc.iters)
			var out []Insn
			for b.Loop() {
				out = Optimize(bc.c.unopt)
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(float64(len(out)), "insns")
			b.ReportMetric(float64(len(bc.c.opt)), "libpcap-insns")
			if ref > 0 {
				b.ReportMetric(ref, "libpcap-ns/op")
				b.ReportMetric(ns/ref, "x-libpcap")
			}
		})
	}
}
