// Package semaphore bounds how many of one kind of work run at once.
package semaphore

import (
	"context"
	"errors"
	"time"
)

// Semaphore is a number of slots: a slot is taken by Acquire, given back
// by Release. Make one with make(Semaphore, n).
type Semaphore chan struct{}

// ErrBusy reports that no slot freed up within the wait.
var ErrBusy = errors.New("server busy")

// Acquire takes a slot, waiting at most wait for one (without limit when
// wait is 0). It fails with ErrBusy when the wait runs out, or with ctx's
// error.
func (s Semaphore) Acquire(ctx context.Context, wait time.Duration) error {
	select {
	case s <- struct{}{}:
		return nil
	default:
	}
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timeout:
		return ErrBusy
	}
}

// Release gives a slot back.
func (s Semaphore) Release() { <-s }

// Taken returns the number of slots taken.
func (s Semaphore) Taken() int { return len(s) }
