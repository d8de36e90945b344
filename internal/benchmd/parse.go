package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// round is the output of one go test -bench run over the packages.
type round struct {
	results []result
	cpu     string // go test's "cpu:" line
	// skipped and failed name benchmarks (package and name) with the
	// reason go test printed, where it printed one.
	skipped, failed map[string]string
}

// result is one benchmark's line: its package, its name without the
// GOMAXPROCS suffix, and its metrics in the order printed.
type result struct {
	pkg, name string
	units     []string
	values    map[string]float64
}

var (
	procsSuffix = regexp.MustCompile(`-\d+$`)
	// A results part: iterations, then value-unit pairs.
	resultsRE = regexp.MustCompile(`^\s*(\d+)((?:\s+[-+0-9.eE]+\s+\S+)+)\s*$`)
	statusRE  = regexp.MustCompile(`--- (SKIP|FAIL): (Benchmark\S*)`)
)

// parseRound reads go test -bench output. A benchmark's name and results
// are usually on one line; when the benchmark wrote to the output while it
// ran, the results follow on a later line of their own.
func parseRound(r io.Reader) (*round, error) {
	rd := &round{skipped: map[string]string{}, failed: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	var pkg, pending, status, statusKey string
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg, pending = strings.TrimSpace(p), ""
			continue
		}
		if c, ok := strings.CutPrefix(line, "cpu: "); ok {
			rd.cpu = strings.TrimSpace(c)
			continue
		}
		if m := statusRE.FindStringSubmatch(line); m != nil {
			status, statusKey = m[1], pkg+" "+procsSuffix.ReplaceAllString(m[2], "")
			if status == "SKIP" {
				rd.skipped[statusKey] = ""
			} else {
				rd.failed[statusKey] = ""
			}
			continue
		}
		if status != "" && strings.HasPrefix(line, "    ") {
			// The first message under a --- SKIP or --- FAIL line says why.
			msg := strings.TrimSpace(line)
			if status == "SKIP" && rd.skipped[statusKey] == "" {
				rd.skipped[statusKey] = msg
			} else if status == "FAIL" && rd.failed[statusKey] == "" {
				rd.failed[statusKey] = msg
			}
			continue
		}
		status = ""
		if strings.HasPrefix(line, "Benchmark") {
			name, rest, _ := strings.Cut(line, "\t")
			name = procsSuffix.ReplaceAllString(strings.TrimSpace(name), "")
			if m := resultsRE.FindStringSubmatch(rest); m != nil {
				res, err := parseMetrics(pkg, name, m[2])
				if err != nil {
					return nil, fmt.Errorf("line %d: %w", n, err)
				}
				rd.results = append(rd.results, res)
				pending = ""
			} else {
				pending = name
			}
			continue
		}
		if m := resultsRE.FindStringSubmatch(line); m != nil && pending != "" {
			res, err := parseMetrics(pkg, pending, m[2])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			rd.results = append(rd.results, res)
			pending = ""
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return rd, nil
}

// parseMetrics parses "value unit value unit ...".
func parseMetrics(pkg, name, s string) (result, error) {
	f := strings.Fields(s)
	res := result{pkg: pkg, name: name, values: make(map[string]float64, len(f)/2)}
	for i := 0; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return result{}, fmt.Errorf("%s: metric %q: %w", name, f[i+1], err)
		}
		if _, dup := res.values[f[i+1]]; !dup {
			res.units = append(res.units, f[i+1])
		}
		res.values[f[i+1]] = v
	}
	return res, nil
}

// find returns the result of the named benchmark of pkg in r.
func (r *round) find(pkg, name string) (result, bool) {
	for _, res := range r.results {
		if res.pkg == pkg && res.name == name {
			return res, true
		}
	}
	return result{}, false
}
