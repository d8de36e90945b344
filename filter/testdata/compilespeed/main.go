// Command compilespeed times filter.Compile against libpcap's pcap_compile
// in one process: both compilers, linked into this program (libpcap through
// cgo), compile the same expressions for the same link type, alternately,
// and the program prints each expression's median time per compile on
// both sides, their ratio (pkttap over libpcap: below 1 is faster), and
// the median and 95th percentile of the ratios. Times are CPU time of the
// process (clock_gettime(CLOCK_PROCESS_CPUTIME_ID), which includes the Go
// runtime's threads), which a loaded machine inflates far less than wall
// time; the wall-time ratios follow them.
//
// It lives under testdata so that the module's packages never need cgo or
// libpcap: `go build ./...` skips it, and BenchmarkCompileVsLibpcap builds
// it explicitly (which needs cc and libpcap's headers):
//
//	go run ./filter/testdata/compilespeed [-y EN10MB] [-rounds 7] [-reps 20] [-v] [FILE]
//
// FILE defaults to the shared public filter set (../shared/filters/public.txt
// from the module root). libpcap compiles with pcap_open_dead(DLT, 262144),
// optimize=1 and PCAP_NETMASK_UNKNOWN, as tcpdump -d -y does; pkttap with
// filter.Options{LinkType} (the same snaplen, the same live-capture
// semantics). An expression either compiler rejects for the link type is
// left out of the ratios and counted. Each round times reps compiles of an
// expression on one side and then on the other, swapping which goes first
// from one round to the next; the median over the rounds is the
// expression's time. -cpuprofile FILE then compiles every expression again
// as many times with pkttap alone, under the CPU profiler.
package main

/*
#cgo LDFLAGS: -lpcap
#include <pcap/pcap.h>
#include <stdlib.h>
#include <time.h>

static long long ns(clockid_t clock) {
	struct timespec t;
	clock_gettime(clock, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

// process_cpu_ns returns the CPU time of the whole process (every thread,
// the Go runtime's too).
static long long process_cpu_ns(void) { return ns(CLOCK_PROCESS_CPUTIME_ID); }

// compile_n compiles expr n times with pcap_compile and stores the wall
// and process CPU nanoseconds taken; it returns -1 when libpcap rejects
// the expression.
static int compile_n(pcap_t *p, const char *expr, int n, long long *wall, long long *cpu) {
	struct bpf_program prog;
	long long w = ns(CLOCK_MONOTONIC), c = process_cpu_ns();
	for (int i = 0; i < n; i++) {
		if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
			return -1;
		pcap_freecode(&prog);
	}
	*cpu = process_cpu_ns() - c;
	*wall = ns(CLOCK_MONOTONIC) - w;
	return 0;
}

// compile_len returns the length of libpcap's optimized program, or -1.
static int compile_len(pcap_t *p, const char *expr) {
	struct bpf_program prog;
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
		return -1;
	int n = (int)prog.bf_len;
	pcap_freecode(&prog);
	return n;
}
*/
import "C"

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"
	"unsafe"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/internal/golden"
	"github.com/pkttap/pkttap/pcapio"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "compilespeed:", err)
		os.Exit(1)
	}
}

type result struct {
	expr            string
	ours, libpcap   time.Duration // median CPU time per compile
	oursW, libpcapW time.Duration // median wall time per compile
	oursN, libpcapN int           // instruction counts
}

// sample is one round's time on one side.
type sample struct{ wall, cpu time.Duration }

func processCPU() time.Duration { return time.Duration(C.process_cpu_ns()) }

func run() error {
	linkName := flag.String("y", "EN10MB", "link type, as tcpdump -y names it")
	rounds := flag.Int("rounds", 7, "rounds per expression (the median is taken)")
	reps := flag.Int("reps", 20, "compiles per round and side")
	verbose := flag.Bool("v", false, "print every expression's times")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of pkttap's compiles to `file`")
	flag.Parse()
	file := "../shared/filters/public.txt"
	if flag.NArg() > 1 {
		return fmt.Errorf("at most one filter file, got %d arguments", flag.NArg())
	}
	if flag.NArg() == 1 {
		file = flag.Arg(0)
	}
	if *rounds < 1 || *reps < 1 {
		return fmt.Errorf("-rounds and -reps must be at least 1")
	}
	exprs, err := golden.ReadExprList(file)
	if err != nil {
		return err
	}
	lt, err := pcapio.LinkTypeFromName(*linkName)
	if err != nil {
		return err
	}
	cname := C.CString(*linkName)
	dlt := C.pcap_datalink_name_to_val(cname)
	C.free(unsafe.Pointer(cname))
	if dlt < 0 {
		return fmt.Errorf("libpcap does not know link type %q", *linkName)
	}
	p := C.pcap_open_dead(dlt, C.int(filter.DefaultSnaplen))
	if p == nil {
		return fmt.Errorf("pcap_open_dead(%s) failed", *linkName)
	}
	defer C.pcap_close(p)
	opts := filter.Options{LinkType: lt}

	oursRound := func(expr string) sample {
		start, cpu := time.Now(), processCPU()
		for range *reps {
			_, _ = filter.Compile(expr, opts)
		}
		c := processCPU() - cpu
		return sample{time.Since(start), c}
	}

	var results []result
	var rejected []string
	for _, expr := range exprs {
		prog, err := filter.Compile(expr, opts)
		cexpr := C.CString(expr)
		n := int(C.compile_len(p, cexpr))
		if err != nil || n < 0 {
			C.free(unsafe.Pointer(cexpr))
			rejected = append(rejected, expr)
			continue
		}
		ours := make([]sample, 0, *rounds)
		theirs := make([]sample, 0, *rounds)
		for r := range *rounds {
			libpcapRound := func() {
				var wall, cpu C.longlong
				C.compile_n(p, cexpr, C.int(*reps), &wall, &cpu)
				theirs = append(theirs, sample{time.Duration(wall), time.Duration(cpu)})
			}
			if r%2 == 0 {
				ours = append(ours, oursRound(expr))
				libpcapRound()
			} else {
				libpcapRound()
				ours = append(ours, oursRound(expr))
			}
		}
		C.free(unsafe.Pointer(cexpr))
		per := time.Duration(*reps)
		results = append(results, result{
			expr:     expr,
			ours:     median(ours, cpuOf) / per,
			libpcap:  median(theirs, cpuOf) / per,
			oursW:    median(ours, wallOf) / per,
			libpcapW: median(theirs, wallOf) / per,
			oursN:    len(prog.Raw),
			libpcapN: n,
		})
		runtime.Gosched()
	}
	report(os.Stdout, *linkName, results, rejected, *verbose)
	if *cpuprofile != "" {
		// Ours alone, once more over every expression, profiled.
		return profile(*cpuprofile, results, *rounds, oursRound)
	}
	return nil
}

// profile writes a CPU profile of rounds of ours over the expressions.
func profile(file string, results []result, rounds int, ours func(string) sample) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	for range rounds {
		for _, r := range results {
			ours(r.expr)
		}
	}
	pprof.StopCPUProfile()
	return f.Close()
}

// report prints the table and the summary: ratios of CPU time (the
// process's, so the Go runtime's work counts) and, after them, of wall time.
func report(w *os.File, link string, results []result, rejected []string, verbose bool) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	ratio := func(by func(result) (time.Duration, time.Duration)) ([]float64, []float64, time.Duration, time.Duration) {
		rs := make([]float64, len(results))
		var ours, theirs time.Duration
		for i, r := range results {
			o, t := by(r)
			rs[i] = float64(o) / float64(max(t, 1))
			ours += o
			theirs += t
		}
		sorted := slices.Clone(rs)
		slices.Sort(sorted)
		return rs, sorted, ours, theirs
	}
	cpu, cpuSorted, ours, theirs := ratio(func(r result) (time.Duration, time.Duration) { return r.ours, r.libpcap })
	_, wallSorted, oursW, theirsW := ratio(func(r result) (time.Duration, time.Duration) { return r.oursW, r.libpcapW })
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	if verbose {
		fmt.Fprintf(bw, "%-10s %10s %10s %7s %10s %10s %7s %6s %6s  %s\n", "link", "pkttap", "libpcap", "ratio", "wall", "wall", "ratio", "insns", "pcap", "expression")
		for i, r := range results {
			fmt.Fprintf(bw, "%-10s %10.1f %10.1f %7.3f %10.1f %10.1f %7.3f %6d %6d  %s\n", link,
				us(r.ours), us(r.libpcap), cpu[i], us(r.oursW), us(r.libpcapW), float64(r.oursW)/float64(max(r.libpcapW, 1)), r.oursN, r.libpcapN, r.expr)
		}
	}
	fmt.Fprintf(bw, "link type %s: %d expressions compiled by both (%d rejected by either)\n", link, len(results), len(rejected))
	if len(results) == 0 {
		return
	}
	n := time.Duration(len(results))
	fmt.Fprintf(bw, "CPU time, pkttap/libpcap per expression: median %.3f, p95 %.3f, max %.3f (%s); mean per expression %.1f us against %.1f us\n",
		quantile(cpuSorted, 0.5), quantile(cpuSorted, 0.95), cpuSorted[len(cpuSorted)-1], results[slices.Index(cpu, cpuSorted[len(cpuSorted)-1])].expr, us(ours/n), us(theirs/n))
	fmt.Fprintf(bw, "wall time, pkttap/libpcap per expression: median %.3f, p95 %.3f; mean per expression %.1f us against %.1f us\n",
		quantile(wallSorted, 0.5), quantile(wallSorted, 0.95), us(oursW/n), us(theirsW/n))
	// A line benchmarks and scripts can parse.
	fmt.Fprintf(bw, "RESULT median-ratio=%.4f p95-ratio=%.4f wall-median-ratio=%.4f wall-p95-ratio=%.4f pkttap-ns=%d libpcap-ns=%d n=%d\n",
		quantile(cpuSorted, 0.5), quantile(cpuSorted, 0.95), quantile(wallSorted, 0.5), quantile(wallSorted, 0.95),
		(ours / n).Nanoseconds(), (theirs / n).Nanoseconds(), len(results))
}

// quantile returns the q-quantile of sorted by the nearest-rank method.
func quantile(sorted []float64, q float64) float64 {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func cpuOf(s sample) time.Duration  { return s.cpu }
func wallOf(s sample) time.Duration { return s.wall }

// median returns the median of the samples' times by.
func median(samples []sample, by func(sample) time.Duration) time.Duration {
	d := make([]time.Duration, len(samples))
	for i, s := range samples {
		d[i] = by(s)
	}
	slices.Sort(d)
	return d[len(d)/2]
}
