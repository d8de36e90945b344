package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// scanAll runs m over every packet of s in one turn of a job of its own,
// on par goroutines taking ranges of chunk packets, and returns the
// matching packet indices.
func scanAll(t *testing.T, s *Store, m matcher, par, chunk int) []uint32 {
	t.Helper()
	expr := m.Expr()
	j := &Job{expr: expr, s: s, m: m, ctx: context.Background()}
	var scanned atomic.Int64
	testScanner.chunk = chunk
	end, _, err := scanTurn([]*Job{j}, testScanner, par, time.Now().Add(time.Hour), &scanned)
	if err != nil || end != turnFinished || j.next != s.Count() {
		t.Fatalf("%q: turn ended %v at %d of %d, %v", expr, end, j.next, s.Count(), err)
	}
	return j.matches.Window(nil, 0, j.matches.Len())
}

// testScanner is scanAll's, its buffers made once.
var testScanner = newScanner()

// TestFilterParallelSameAsSerial checks that a filter, BPF or display,
// scanned on several goroutines, each on its own ranges, finds the same packets in the same
// order as one goroutine scanning them all, on every capture of the
// shared corpus, with ranges small enough that every capture is split,
// and with the default ranges, which shrink near the end of a capture;
// and the same again, on one goroutine and on two, once the store's maps
// are closed and scans read with pread (as on Windows). The maps' segments
// are a page long, so that packets straddle them. The display filters
// take both of dfilter's paths (header fields read without a tree; the
// whole tree) and frame.number, which each goroutine must give from its
// own range.
func TestFilterParallelSameAsSerial(t *testing.T) {
	corpus := filepath.Join(testenv.SharedDir(t), "corpus")
	entries, err := os.ReadDir(corpus)
	if err != nil {
		t.Fatal(err)
	}
	exprs := []string{"tcp", "udp port 53", "ip6", "arp or icmp", "vlan", "len > 200", "not ip"}
	displays := []string{"tcp.port == 80 || frame.number % 3 == 1", `dns.qry.name contains "a" or icmp`, "ip.ttl < 64 && !tcp"}
	p := newTestPool(t, Config{})
	files, matched, mapped := 0, 0, 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".pcap") && !strings.HasSuffix(name, ".pcapng") {
			continue
		}
		s, err := p.OpenFile(filepath.Join(corpus, name))
		if err != nil {
			t.Fatal(err)
		}
		s.maps.segLen = int64(os.Getpagesize()) // before its first scan
		<-s.Done()
		files++
		var ms []matcher // each compiled once for all the scans
		for _, expr := range exprs {
			ms = append(ms, bpfMatcher{s.newMatcher(context.Background(), expr)})
		}
		for _, expr := range displays {
			f, err := dfilter.Compile(expr)
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, displayMatcher{f: f})
		}
		serial := make([][]uint32, len(ms))
		for k := range ms {
			serial[k] = scanAll(t, s, ms[k], 1, 0)
			matched += len(serial[k])
		}
		check := func(how string, par, chunk int) {
			for k, m := range ms {
				expr := m.Expr()
				if got := scanAll(t, s, ms[k], par, chunk); !slices.Equal(got, serial[k]) {
					t.Errorf("%s: %q on %d goroutines, ranges of %d, %s: %d matches %v, one goroutine mapped %d %v",
						name, expr, par, chunk, how, len(got), got, len(serial[k]), serial[k])
				}
			}
		}
		for _, c := range []struct{ par, chunk int }{{2, 7}, {3, 5}, {runtime.GOMAXPROCS(0), 64}, {2, 0}} {
			check("mapped", c.par, c.chunk)
		}
		if len(s.maps.spool.segs) > 0 {
			mapped++
		}
		s.maps.close()
		check("pread", 1, 0)
		check("pread", 2, 7)
		if err := p.Remove(s.ID()); err != nil {
			t.Fatal(err)
		}
	}
	if files < 100 || matched == 0 {
		t.Fatalf("%d corpus captures, %d matches: the corpus is not there", files, matched)
	}
	if canMap && mapped < files/2 {
		t.Errorf("only %d of %d captures were read through mappings", mapped, files)
	}
}

// openFDs returns the number of the process's open file descriptors, or
// skips the test where /proc does not tell.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		testenv.Missing(t, "proc", fmt.Sprintf("no /proc/self/fd: open files not countable here: %v", err))
	}
	return len(ents)
}

// TestCancelledJobFrees checks that a filter job cancelled while it scans
// on every worker ends promptly and leaves neither goroutines nor open
// files behind.
func TestCancelledJobFrees(t *testing.T) {
	p := newTestPool(t, Config{})
	p.SetFilterWorkers(max(runtime.GOMAXPROCS(0), 2))
	s := openCapture(t, p, 100_000)
	runtime.GC()
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)
	for round := range 3 {
		expr := fmt.Sprintf("src port %d", 1000+round)
		j := startJob(t, s, expr, "A")
		for deadline := time.Now().Add(10 * time.Second); j.status().Scanned == 0 && !j.status().Done; {
			if time.Now().After(deadline) {
				t.Fatalf("job did not start: %+v", j.status())
			}
			time.Sleep(time.Millisecond)
		}
		if !s.CancelFilter(expr) {
			t.Fatal("no job to cancel")
		}
		waitDone(t, j)
		if st := j.status(); st.Done && st.Error == "" && st.Scanned == s.Count() {
			t.Logf("round %d: the job finished before it was cancelled", round)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines || openFDs(t) > fds {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("after cancelling: %d goroutines (%d before), %d open files (%d before)\n%s",
				runtime.NumGoroutine(), goroutines, openFDs(t), fds, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFilterJobCompileSlots checks that a filter job compiles, for each
// link type its scan meets, in one of the pool's compile slots, waiting
// for one; and that the compile of its check, made in the slot its caller
// holds, is not made again.
func TestFilterJobCompileSlots(t *testing.T) {
	eth, raw := synthetic(t, pcapio.FormatPcap, 50), synthetic(t, pcapio.FormatPcap, 50)
	pkts := append(readPackets(t, eth), readPackets(t, raw)...)
	for i := 50; i < len(pkts); i++ { // the second half as raw IP: the Ethernet header cut off
		pkts[i].Data, pkts[i].Length, pkts[i].LinkType, pkts[i].InterfaceIndex = pkts[i].Data[14:], pkts[i].Length-14, pcapio.LinkTypeRaw, 1
	}
	p := newTestPool(t, Config{MaxCompiles: 1})
	s := addCapture(t, p, "mixed.pcapng", pcapngOf(t, pkts, pcapio.LinkTypeEthernet, pcapio.LinkTypeRaw))
	release, err := p.AcquireCompile(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	// "ip" alone would be a display filter, which needs no compile slot.
	j := startJob(t, s, "ip and len >= 0", "A") // checked for EN10MB in the slot the test holds
	time.Sleep(200 * time.Millisecond)
	if st := j.status(); st.Done || st.Scanned != 0 {
		t.Errorf("the job scanned the raw packets without a compile slot: %+v", st)
	}
	release()
	waitDone(t, j)
	want := 0
	for _, pk := range pkts {
		if pk.LinkType == pcapio.LinkTypeRaw && pk.Data[0]>>4 == 4 || pk.LinkType == pcapio.LinkTypeEthernet && pk.Data[12] == 8 && pk.Data[13] == 0 {
			want++
		}
	}
	if st := j.status(); st.Error != "" || st.Scanned != 100 || st.Matched != want || want == 0 {
		t.Errorf("after the wait: %+v, want %d matches of 100", st, want)
	}
	if n := j.m.Bytes(); n == 0 {
		t.Error("no program compiled")
	}
	if slots, taken := p.CompileSlots(); slots != 1 || taken != 0 {
		t.Errorf("compile slots %d, %d taken after the job", slots, taken)
	}
}

// gatedMatcher is a matcher that, on packet index at, waits until release
// is closed before it matches, so that a test holds one range of a turn
// while the others go on. calls counts the packets it was asked about.
type gatedMatcher struct {
	matcher
	at      int
	reached chan struct{} // closed when packet at is asked about
	release chan struct{}
	calls   *atomic.Int64
}

func (g gatedMatcher) Match(i int, lt pcapio.LinkType, data []byte, wireLen int) bool {
	g.calls.Add(1)
	if i == g.at {
		close(g.reached)
		<-g.release
	}
	return g.matcher.Match(i, lt, data, wireLen)
}

// TestScanTurnNoBarrier checks that the goroutines of a parallel turn wait
// for one another only when one is a whole ring of ranges ahead of the
// other: while one goroutine is held in the second range, the other scans
// every later range the ring has room for (and no more), and the first
// range's matches are published meanwhile, so its rows are served before
// the held range is done. Once released, the turn finds what one
// goroutine finds.
func TestScanTurnNoBarrier(t *testing.T) {
	const chunk, ranges, par = 64, 40, 2
	p := newTestPool(t, Config{})
	s := openCapture(t, p, chunk*ranges)
	m := bpfMatcher{s.newMatcher(context.Background(), "tcp")}
	serial := scanAll(t, s, m, 1, 0)
	g := gatedMatcher{matcher: m, at: chunk + 10, reached: make(chan struct{}), release: make(chan struct{}), calls: new(atomic.Int64)}
	j := &Job{expr: m.Expr(), s: s, m: g, ctx: context.Background()}
	sc := newScanner()
	sc.chunk = chunk
	type result struct {
		end turnEnd
		err error
	}
	done := make(chan result, 1)
	var scanned atomic.Int64
	go func() {
		end, _, err := scanTurn([]*Job{j}, sc, par, time.Now().Add(time.Hour), &scanned)
		done <- result{end, err}
	}()
	released := false
	release := func() {
		if !released {
			released = true
			close(g.release)
		}
	}
	defer release()
	select {
	case <-g.reached:
	case <-time.After(10 * time.Second):
		t.Fatal("the turn never reached the held packet")
	}
	// Range 0 done, range 1 held up to its 11th packet, and ranges 2 to
	// ring size (their slots free once range 0 is merged) scanned.
	want := int64(chunk + 11 + (ringSize(par)-1)*chunk)
	for deadline := time.Now().Add(5 * time.Second); g.calls.Load() < want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("while range 1 is held, %d packets scanned, want %d: the other goroutine waits for it", g.calls.Load(), want)
		}
	}
	time.Sleep(20 * time.Millisecond)
	if got := g.calls.Load(); got != want {
		t.Errorf("while range 1 is held, %d packets scanned, want %d: a goroutine ran further ahead than the ring", got, want)
	}
	first, _ := slices.BinarySearch(serial, chunk)
	if st := j.status(); st.Scanned != chunk || st.Matched != first {
		t.Errorf("while range 1 is held: %+v published, want range 0's %d packets and %d matches", st, chunk, first)
	}
	release()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the turn did not end once released")
	}
	if got := j.matches.Window(nil, 0, j.matches.Len()); r.err != nil || r.end != turnFinished || !slices.Equal(got, serial) {
		t.Errorf("turn ended %v, %v, with %d matches, want %d", r.end, r.err, len(got), len(serial))
	}
	if n := scanned.Load(); n != chunk*ranges {
		t.Errorf("%d packets counted as scanned, want %d", n, chunk*ranges)
	}
}

// TestScanTurnStartsGoroutinesOnce checks that a parallel turn starts its
// goroutines once, however many ranges it scans, rather than once for
// every round of ranges: each start wakes an idle core, and waiting for it
// is time a two-core scan spends on one core.
func TestScanTurnStartsGoroutinesOnce(t *testing.T) {
	const chunk, ranges = 64, 200
	p := newTestPool(t, Config{})
	s := openCapture(t, p, chunk*ranges)
	m := bpfMatcher{s.newMatcher(context.Background(), "udp")}
	j := &Job{expr: m.Expr(), s: s, m: m, ctx: context.Background()}
	sc := newScanner()
	sc.chunk = chunk
	var scanned atomic.Int64
	sample := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		t.Skip("this Go counts no goroutines created (runtime/metrics)")
	}
	before := sample[0].Value.Uint64()
	end, _, err := scanTurn([]*Job{j}, sc, 2, time.Now().Add(time.Hour), &scanned)
	metrics.Read(sample)
	created := sample[0].Value.Uint64() - before
	if err != nil || end != turnFinished || j.next != chunk*ranges {
		t.Fatalf("turn ended %v at %d, %v", end, j.next, err)
	}
	// One for the turn's second goroutine; a few more the process may start
	// meanwhile.
	if created > 4 {
		t.Errorf("a turn of %d ranges on 2 goroutines started %d goroutines, want 1", ranges, created)
	}
}
