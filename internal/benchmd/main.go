// Command benchmd writes BENCHMARKS.md from the output of several rounds of
// go test -bench: for each package, the median over the rounds of every
// metric each benchmark reports, and the ratios against the anchor (the
// other implementation the benchmark compares with: libpcap, tcpdump,
// gopacket, golang.org/x/net/bpf), each computed within a round, where the
// anchor was measured moments apart from pkttap, and then taken as the
// median over the rounds. scripts/bench runs the rounds and then this
// command; the figures in the repository's documentation live only in the
// file it writes, so that they are regenerated rather than left stale.
//
// Usage:
//
//	go run ./internal/benchmd [-o BENCHMARKS.md] [-note TEXT] ROUND.txt...
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"strings"
	"time"
)

func main() {
	out := flag.String("o", "BENCHMARKS.md", "the file to write")
	note := flag.String("note", "", "a line about the machine's state during the run (shared, quiet)")
	cmdline := flag.String("cmd", "scripts/bench", "the command that produced the rounds, for the file's header")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("benchmd: ")
	if flag.NArg() == 0 {
		log.Fatal("name the output files of the rounds (go test -bench output, one file a round)")
	}
	var rounds []*round
	for _, path := range flag.Args() {
		f, err := os.Open(path)
		if err != nil {
			log.Fatal(err)
		}
		r, err := parseRound(f)
		f.Close()
		if err != nil {
			log.Fatalf("%s: %v", path, err)
		}
		rounds = append(rounds, r)
	}
	cpu := cpuModel()
	for _, r := range rounds {
		if r.cpu != "" {
			cpu = r.cpu // as go test names it
		}
	}
	m := machine{
		date:    time.Now().UTC().Format("2006-01-02 15:04 MST"),
		cpu:     cpu,
		cores:   runtime.NumCPU(),
		goVer:   runtime.Version(),
		goos:    runtime.GOOS + "/" + runtime.GOARCH,
		load:    loadAverage(),
		note:    *note,
		command: *cmdline,
	}
	if err := os.WriteFile(*out, []byte(render(m, rounds, sections)), 0o644); err != nil {
		log.Fatal(err)
	}
}

// machine describes where and when the rounds ran.
type machine struct {
	date, cpu  string
	cores      int
	goVer      string
	goos       string
	load, note string
	command    string
}

// cpuModel returns the CPU's model name from /proc/cpuinfo, or "unknown".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAverage returns /proc/loadavg's three load averages, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return fmt.Sprintf("%s, %s, %s", f[0], f[1], f[2])
}
