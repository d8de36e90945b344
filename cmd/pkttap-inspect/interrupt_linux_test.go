package main

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/syncbuf"
)

// countLinesRE is the end of a live capture's output: the count line and
// the kernel's counts.
var countLinesRE = regexp.MustCompile(`\n\d+ packets captured\n\d+ packets received by filter\n\d+ packets dropped by kernel\n(\d+ packets dropped by interface\n)?$`)

// TestLiveInterruptUnderFlood interrupts pkttap-inspect, printing hex dumps
// of a UDP flood, with SIGINT at a random moment, round after round: each
// run must exit with status 0 and its count lines. (Its Ctrl-C path closes
// the capture while the main loop prints the packet NextZeroCopy
// returned, which crashed it with SIGSEGV when Close unmapped the ring.)
// Five runs go at a time, to keep the 50 rounds within a few seconds.
func TestLiveInterruptUnderFlood(t *testing.T) {
	v := newVethPair(t)
	bin := inspectBinary(t)
	const workers, rounds = 5, 10 // rounds per worker
	stop := v.Flood(t)
	defer stop()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(3, uint64(w)))
			for round := range rounds {
				if err := interruptOnce(v, bin, rng); err != nil {
					t.Errorf("worker %d, round %d: %v", w, round, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// interruptOnce starts pkttap-inspect on v's B side, waits until it prints
// and then up to 20 ms more, sends it SIGINT, and checks how it ends.
func interruptOnce(v *netnstest.Pair, bin string, rng *rand.Rand) error {
	// ip netns exec execs pkttap-inspect in place, so the signal reaches
	// it.
	cmd := exec.Command("ip", "netns", "exec", v.NSB, bin, v.IfB, "udp")
	var out, errb syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	for wait := time.Now().Add(5 * time.Second); len(out.String()) == 0 && time.Now().Before(wait); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(time.Duration(rng.IntN(20000)) * time.Microsecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("pkttap-inspect interrupted under a flood: %w\n%s", err, head(errb.String(), 1500))
		}
	case <-time.After(5 * time.Second):
		return fmt.Errorf("pkttap-inspect did not exit within 5s of SIGINT")
	}
	if s := out.String(); !countLinesRE.MatchString(s) {
		return fmt.Errorf("the output does not end with the count lines:\n%s", tail(s, 500))
	}
	return nil
}

// head returns the first n bytes of s (where a Go crash says what it was).
func head(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
