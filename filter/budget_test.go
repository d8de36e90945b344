package filter

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// The compile budget the tests hold Compile to, with margin over the goal
// (any expression up to maxExprLen compiles or is refused in under 0.5 s
// and 64 MB) so that a loaded CI machine does not flake: the process's CPU
// time where it is measured (before the budget, 3000 ports took 4.4 s of
// CPU and a gigabyte), and a wall time that only a hang exceeds.
const (
	budgetCPU   = 2 * time.Second
	budgetWall  = 30 * time.Second
	budgetAlloc = 192 << 20 // bytes allocated in all (an upper bound of the peak)
	budgetPeak  = 96 << 20  // heap in use above the start, sampled
)

// list joins terms made by term with sep, as many as fit in limit bytes
// (all of them when n > 0 terms are asked for and fit).
func list(limit, n int, sep string, term func(i int) string) string {
	var b strings.Builder
	for i := 0; n <= 0 || i < n; i++ {
		t := term(i)
		if i > 0 {
			t = sep + t
		}
		if b.Len()+len(t) > limit {
			break
		}
		b.WriteString(t)
	}
	return b.String()
}

// hostileCases are expressions an attacker (or an eager script) sends: up
// to the 64 KiB length limit, each either compiles (want "") or is refused
// with an *Error whose message contains want.
func hostileCases() []struct {
	name string
	lt   pcapio.LinkType
	expr string
	want string
} {
	const L = maxExprLen
	port := func(i int) string { return fmt.Sprintf("port %d", i+1) }
	host := func(i int) string { return fmt.Sprintf("host 10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	protos := []string{"tcp", "udp", "icmp", "arp", "ip6", "sctp", "rarp", "igmp", "icmp6"}
	en := pcapio.LinkTypeEthernet
	return []struct {
		name string
		lt   pcapio.LinkType
		expr string
		want string
	}{
		{"1351 ports, the longest list that fits", en, list(L, 1351, " or ", port), ""},
		{"3000 ports", en, list(L, 3000, " or ", port), "too complex"},
		{"64 KiB of ports", en, list(L, 0, " or ", port), "too complex"},
		{"2000 tcp ports", en, list(L, 2000, " or ", func(i int) string { return fmt.Sprintf("tcp port %d", i+1) }), "too complex"},
		{"64 KiB of hosts", en, list(L, 0, " or ", host), "too complex"},
		{"64 KiB of hosts on LINUX_SLL2", pcapio.LinkTypeLinuxSLL2, list(L, 0, " or ", host), "too complex"},
		{"64 KiB of ports on 802.11 (not optimized)", pcapio.LinkTypeIEEE802_11, list(L, 0, " or ", port), "too complex"},
		{"64 KiB of nets", en, list(L, 0, " or ", func(i int) string { return fmt.Sprintf("net 10.%d.0.0/16", i%256) }), "too complex"},
		{"64 KiB of the same port", en, list(L, 0, " or ", func(int) string { return "port 80" }), "too complex"},
		{"300 times the same port", en, list(L, 300, " or ", func(int) string { return "port 80" }), ""},
		{"parentheses 200 deep", en, strings.Repeat("(", 200) + "tcp" + strings.Repeat(")", 200), ""},
		{"200 nots", en, strings.Repeat("not ", 200) + "tcp", ""},
		{"64 KiB of ports in parentheses 50 deep", en, list(L, 0, " or ", func(i int) string {
			return strings.Repeat("(", 50) + port(i) + strings.Repeat(")", 50)
		}), ""},
		{"64 KiB and-chain of lengths", en, list(L, 0, " and ", func(i int) string { return fmt.Sprintf("len > %d", i) }), "too complex"},
		{"64 KiB and-chain of not port", en, list(L, 0, " and ", func(i int) string { return "not " + port(i) }), "too complex"},
		{"64 KiB of protocols", en, list(L, 0, " or ", func(i int) string { return protos[i%len(protos)] }), ""},
		{"64 KiB of vlan and vlan", en, list(L, 0, " and ", func(int) string { return "vlan" }), "too complex"},
		{"64 KiB of vlan ids", en, list(L, 0, " or ", func(i int) string { return fmt.Sprintf("vlan %d", i%4095) }), "too complex"},
		{"64 KiB of mpls and mpls", en, list(L, 0, " and ", func(int) string { return "mpls" }), "too complex"},
		{"64 KiB sum of constants", en, list(L-4, 0, " + ", func(int) string { return "1" }) + " > 0", ""},
		{"64 KiB sum of loads", en, list(L-4, 0, " + ", func(i int) string { return fmt.Sprintf("ip[%d]", i%60) }) + " > 0", "too complex"},
		{"64 KiB of protochain", en, list(L, 0, " or ", func(i int) string { return fmt.Sprintf("ip6 protochain %d", i%256) }), "too complex"},
		{"64 KiB of tcp flag tests", en, list(L, 0, " or ", func(i int) string { return fmt.Sprintf("tcp[%d] & %d != 0", i%20, 1<<(i%8)) }), ""},
		{"64 KiB and-chain of port pairs", en, list(L, 0, " and ", func(i int) string { return fmt.Sprintf("(tcp port %d or udp port %d)", i, i+1) }), "rejects all packets"},
	}
}

// TestCompileBudget compiles each hostile expression and checks the
// outcome, the time and the memory it took (see budgetCPU, budgetWall,
// budgetAlloc and budgetPeak).
func TestCompileBudget(t *testing.T) {
	for _, c := range hostileCases() {
		if len(c.expr) > maxExprLen {
			t.Fatalf("%s: %d bytes, more than the %d the parser takes", c.name, len(c.expr), maxExprLen)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		stop := samplePeakHeap()
		cpu0, cpuOK := processCPU()
		start := time.Now()
		p, err := Compile(c.expr, Options{LinkType: c.lt})
		took := time.Since(start)
		cpu1, _ := processCPU()
		cpu := cpu1 - cpu0
		maxHeap := stop()
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		grew := uint64(0)
		if maxHeap > before.HeapInuse {
			grew = maxHeap - before.HeapInuse
		}
		outcome := "compiles"
		if p != nil {
			outcome = fmt.Sprintf("compiles to %d instructions", len(p.Raw))
		}
		if err != nil {
			outcome = err.Error()
		}
		t.Logf("%s (%d bytes): %v (CPU %v), %d MB allocated, heap up to +%d MB: %s", c.name, len(c.expr), took.Round(time.Millisecond), cpu.Round(time.Millisecond), alloc>>20, grew>>20, outcome)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want a program", c.name, err)
		case c.want != "":
			var fe *Error
			if !errors.As(err, &fe) || !strings.Contains(fe.Msg, c.want) {
				t.Errorf("%s: error %v, want a *filter.Error saying %q", c.name, err, c.want)
			}
		}
		if cpuOK && cpu > budgetCPU {
			t.Errorf("%s: took %v of CPU, more than %v", c.name, cpu, budgetCPU)
		}
		if took > budgetWall {
			t.Errorf("%s: took %v, more than %v", c.name, took, budgetWall)
		}
		if alloc > budgetAlloc {
			t.Errorf("%s: allocated %d MB, more than %d MB", c.name, alloc>>20, budgetAlloc>>20)
		}
		if grew > budgetPeak {
			t.Errorf("%s: heap in use grew by %d MB, more than %d MB", c.name, grew>>20, budgetPeak>>20)
		}
	}
}

// samplePeakHeap samples HeapInuse every few milliseconds until stop is
// called; stop returns the largest value seen (including one last sample).
func samplePeakHeap() (stop func() uint64) {
	var max uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > max {
			max = ms.HeapInuse
		}
	}
	go func() {
		defer close(finished)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		sample()
		return max
	}
}
