//go:build linux

package netnstest

import (
	"errors"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// FloodLimit bounds every flood: it stops by itself after this long, even
// if the test forgets to stop it.
const FloodLimit = 30 * time.Second

// FloodPort is the UDP port on B that Flood sends to (discard: nothing
// listens there).
const FloodPort = 9

// floodSizes are the payload sizes a flood cycles through: frames of 60 to
// 1514 bytes.
var floodSizes = []int{18, 100, 500, 1000, 1472}

// Flood sends UDP datagrams from A (from a port of its own, so SendUDP
// still works meanwhile) to B's FloodPort through A's IP stack, payloads
// of 18 to 1472 bytes in turn, as fast as the socket takes them, until the
// returned stop is called (at the latest after FloodLimit). stop waits for
// the sender and fails the test if sending failed; it is also called when
// the test ends.
func (p *Pair) Flood(t testing.TB) (stop func()) {
	t.Helper()
	conn := p.udpSocketA(t, 0)
	dst := &net.UDPAddr{IP: p.IPB, Port: FloodPort}
	payload := make([]byte, floodSizes[len(floodSizes)-1])
	quit := make(chan struct{})
	done := make(chan error, 1)
	send := func() error {
		for deadline := time.Now().Add(FloodLimit); time.Now().Before(deadline); {
			select {
			case <-quit:
				return nil
			default:
			}
			for _, n := range floodSizes {
				if _, err := conn.WriteToUDP(payload[:n], dst); err != nil && !errors.Is(err, unix.ENOBUFS) && !errors.Is(err, unix.EAGAIN) {
					return err
				}
			}
		}
		return nil
	}
	go func() {
		err := send()
		conn.Close()
		done <- err
	}()
	stopped := false
	stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		close(quit)
		if err := <-done; err != nil {
			t.Errorf("UDP flood from %s to %s: %v", p.IPA, dst, err)
		}
	}
	t.Cleanup(stop)
	return stop
}
