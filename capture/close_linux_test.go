package capture_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/pcapio"
)

// readModes are the four ways to read a capture. Each reads until the
// capture is closed, touching every byte of each packet as a caller would
// (the zero-copy reader after NextZeroCopy has returned, when a concurrent
// Close must not have taken the memory away) and counting it in n, and
// returns the error that ended it (ErrClosed when the Packets loop ended).
var readModes = []struct {
	name string
	read func(c *capture.Capture, n *atomic.Int64) error
}{
	{"NextZeroCopy", func(c *capture.Capture, n *atomic.Int64) error {
		for {
			p, err := c.NextZeroCopy()
			if err != nil {
				return err
			}
			touch(p)
			n.Add(1)
		}
	}},
	{"NextInto", func(c *capture.Capture, n *atomic.Int64) error {
		var buf []byte
		for {
			p, err := c.NextInto(buf)
			if err != nil {
				return err
			}
			touch(p)
			n.Add(1)
			buf = p.Data
		}
	}},
	{"Next", func(c *capture.Capture, n *atomic.Int64) error {
		for {
			p, err := c.Next()
			if err != nil {
				return err
			}
			touch(p)
			n.Add(1)
		}
	}},
	{"Packets", func(c *capture.Capture, n *atomic.Int64) error {
		for p, err := range c.Packets() {
			if err != nil {
				return err
			}
			touch(p)
			n.Add(1)
		}
		return capture.ErrClosed
	}},
}

// touchSink keeps touch's reads from being optimized away.
var touchSink atomic.Uint32

// touch reads every byte of p's Data a few times, long enough for a Close
// in another goroutine to land while it does.
func touch(p pcapio.Packet) {
	var x byte
	for range 4 {
		for _, b := range p.Data {
			x ^= b
		}
	}
	touchSink.Add(uint32(x))
}

// TestLiveCloseWhileReading opens captures on a veth flooded with UDP,
// reads them in the four read modes at once, one capture each, and closes
// each from another goroutine at a random moment, round after round: the
// process must not crash (a Close that unmapped the ring under a reader
// made it die with SIGSEGV), every reader must end with ErrClosed soon
// after Close, and Close must report no error.
//
// 50 rounds (200 captures, most of the time going to opening their rings)
// take a few seconds; PKTTAP_STRESS_ROUNDS sets another number, for a
// longer run by hand.
func TestLiveCloseWhileReading(t *testing.T) {
	v := newVethPair(t)
	rounds := 50
	if n, err := strconv.Atoi(os.Getenv("PKTTAP_STRESS_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	rng := rand.New(rand.NewPCG(1, 2))
	busy := make([]int, len(readModes))
	var stop func()
	for round := range rounds {
		if round%100 == 0 { // a flood stops by itself after netnstest.FloodLimit
			if stop != nil {
				stop()
			}
			stop = v.Flood(t)
		}
		var wg sync.WaitGroup
		for i, m := range readModes {
			c := openIn(t, v.NSB, capture.Live(v.IfB))
			// In three rounds out of four, up to 2 ms after the reader's
			// first packet; in the fourth up to 4 ms after Open, before or
			// after the reader's first call, maybe while it waits for the
			// first block.
			afterFirst := (round+i)%4 != 0
			delay := time.Duration(rng.IntN(2000)) * time.Microsecond
			if !afterFirst {
				delay *= 2
			}
			wg.Go(func() {
				n, err := closeWhileReading(c, m.read, afterFirst, delay)
				if err != nil {
					t.Errorf("round %d, %s: %v", round, m.name, err)
				}
				if n > 0 {
					busy[i]++
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
	}
	stop()
	for i, m := range readModes {
		t.Logf("%s: %d of %d rounds read packets before Close", m.name, busy[i], rounds)
		if busy[i] < rounds/2 {
			t.Errorf("%s: only %d of %d rounds read a packet before Close: the flood did not reach the capture", m.name, busy[i], rounds)
		}
	}
}

// closeWhileReading reads c with read in a new goroutine and closes it
// after delay (counted from the reader's first packet if afterFirst). It
// returns the number of packets read and what went wrong, if anything.
func closeWhileReading(c *capture.Capture, read func(*capture.Capture, *atomic.Int64) error, afterFirst bool, delay time.Duration) (int64, error) {
	var n atomic.Int64
	done := make(chan error, 1)
	go func() { done <- read(c, &n) }()
	if afterFirst {
		for wait := time.Now().Add(2 * time.Second); n.Load() == 0 && time.Now().Before(wait); {
			time.Sleep(100 * time.Microsecond)
		}
	}
	time.Sleep(delay)
	cerr := c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, capture.ErrClosed) {
			return n.Load(), fmt.Errorf("the reader ended with %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		return n.Load(), fmt.Errorf("the reader did not return within 2s of Close")
	}
	if cerr != nil {
		return n.Load(), fmt.Errorf("Close: %w", cerr)
	}
	return n.Load(), nil
}

// TestLiveZeroCopyOutlivesClose reads a packet with NextZeroCopy, closes
// the capture from another goroutine, and then reads the packet's bytes:
// they must still be there, unchanged, until the reader's next call, which
// returns ErrClosed.
func TestLiveZeroCopyOutlivesClose(t *testing.T) {
	v := newVethPair(t)
	c := openIn(t, v.NSB, capture.Live(v.IfB).Filter("udp dst port 9999"))
	payload := bytes.Repeat([]byte("outlives Close "), 90) // one frame of 1392 bytes
	v.SendUDP(t, 9999, payload)
	timer := time.AfterFunc(5*time.Second, func() { c.Close() })
	defer timer.Stop()
	p, err := c.NextZeroCopy()
	if err != nil {
		t.Fatalf("NextZeroCopy: %v (no packet within 5s?)", err)
	}
	want := bytes.Clone(p.Data)
	closed := make(chan error)
	go func() { closed <- c.Close() }()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !bytes.Equal(p.Data, want) {
		t.Errorf("the zero-copy packet changed when another goroutine closed the capture")
	}
	if _, got, ok := udpPayload(p.Data); !ok || !bytes.Equal(got, payload) {
		t.Errorf("the zero-copy packet after Close does not hold the datagram sent")
	}
	if _, err := c.NextZeroCopy(); !errors.Is(err, capture.ErrClosed) {
		t.Errorf("NextZeroCopy after Close: %v, want ErrClosed", err)
	}
}
