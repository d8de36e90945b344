package web

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/pcapio"
)

// semaphore bounds how many of one kind of work run at once: a slot is
// taken by sending, given back by receiving.
type semaphore chan struct{}

// errBusy reports that no slot freed up within the wait.
var errBusy = errors.New("server busy")

// acquire takes a slot, waiting at most wait for one (without limit when
// wait is 0). It fails with errBusy when the wait runs out, or with ctx's
// error.
func (s semaphore) acquire(ctx context.Context, wait time.Duration) error {
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
		return errBusy
	}
}

// release gives a slot back.
func (s semaphore) release() { <-s }

// retryAfter is what a 503 asks the client to wait before trying again.
const retryAfter = 1 * time.Second

// writeBusy answers 503 with Retry-After and a JSON error saying what is
// busy.
func writeBusy(w http.ResponseWriter, what string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
	writeError(w, http.StatusServiceUnavailable, "server busy: "+what+"; try again in a moment")
}

// enterCompile takes one of the server's compile slots for a request that
// is about to compile a filter, waiting up to Config.CompileWait. When
// none frees up it answers 503 and returns false; otherwise the caller
// must call the returned release.
func (s *Server) enterCompile(w http.ResponseWriter, r *http.Request) (release func(), ok bool) {
	switch err := s.compiles.acquire(r.Context(), s.cfg.CompileWait); {
	case err == nil:
		return s.compiles.release, true
	case errors.Is(err, errBusy):
		writeBusy(w, strconv.Itoa(cap(s.compiles))+" filters are being compiled (pkttap-web compiles that many at once)")
	}
	return nil, false // the client has gone
}

// compileWaiting is compileFor in one of the server's compile slots, for a
// filter job: it waits for a slot as long as ctx lasts.
func (c *Capture) compileWaiting(ctx context.Context, expr string, lt pcapio.LinkType, order binary.ByteOrder) (*vm.VM, *filter.Program, error) {
	if err := c.compiles.acquire(ctx, 0); err != nil {
		return nil, nil, err
	}
	defer c.compiles.release()
	return compileFor(expr, lt, order)
}
