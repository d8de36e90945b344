package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/pkttap/pkttap/internal/semaphore"
)

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
	release, err := s.pool.AcquireCompile(r.Context(), s.cfg.CompileWait)
	switch {
	case err == nil:
		return release, true
	case errors.Is(err, semaphore.ErrBusy):
		slots, _ := s.pool.CompileSlots()
		writeBusy(w, strconv.Itoa(slots)+" filters are being compiled (pkttap-web compiles that many at once)")
	}
	return nil, false // the client has gone
}

// uploadSlots bounds the uploads streamed at once, server-wide and per
// client, so that one client cannot take every slot: a client over its
// share waits for one of its own uploads to end before it waits for a
// server slot.
type uploadSlots struct {
	all       semaphore.Semaphore
	perClient int

	mu      sync.Mutex
	clients map[string]*clientSlots // by client address
}

// clientSlots are one client's upload slots, and how many of its uploads
// hold or wait for one.
type clientSlots struct {
	slots semaphore.Semaphore
	users int
}

func newUploadSlots(total, perClient int) *uploadSlots {
	return &uploadSlots{all: make(semaphore.Semaphore, total), perClient: perClient, clients: map[string]*clientSlots{}}
}

// acquire takes one of client's slots and one of the server's, waiting at
// most wait in all; see semaphore.Semaphore.Acquire for the errors. The caller must
// call the returned release.
func (u *uploadSlots) acquire(ctx context.Context, client string, wait time.Duration) (release func(), err error) {
	u.mu.Lock()
	cs := u.clients[client]
	if cs == nil {
		cs = &clientSlots{slots: make(semaphore.Semaphore, u.perClient)}
		u.clients[client] = cs
	}
	cs.users++
	u.mu.Unlock()
	leave := func() {
		u.mu.Lock()
		if cs.users--; cs.users == 0 {
			delete(u.clients, client)
		}
		u.mu.Unlock()
	}
	deadline := time.Now().Add(wait)
	if err := cs.slots.Acquire(ctx, wait); err != nil {
		leave()
		return nil, err
	}
	if err := u.all.Acquire(ctx, max(time.Until(deadline), time.Nanosecond)); err != nil {
		cs.slots.Release()
		leave()
		return nil, err
	}
	return func() {
		u.all.Release()
		cs.slots.Release()
		leave()
	}, nil
}

// clientAddr names the client of r for per-client limits: its IP address.
func clientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// errStalled marks an upload that sent too little for too long.
var errStalled = errors.New("upload stalled")

// progressBody is a request body that fails with errStalled when fewer
// than min bytes arrive within window: it moves the connection's read
// deadline window ahead each time min more bytes have come. It clears the
// deadline at the end of the body (net/http then reads the connection in
// the background) and on Close.
type progressBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	window time.Duration
	min    int64
	since  int64 // bytes since the deadline last moved
}

// watchUpload gives r a progressBody; the caller must call the returned
// function when the upload ends.
func (s *Server) watchUpload(w http.ResponseWriter, r *http.Request) func() {
	pb := &progressBody{ReadCloser: r.Body, rc: http.NewResponseController(w), window: s.cfg.UploadStallTimeout, min: s.cfg.MinProgress}
	pb.setDeadline(time.Now().Add(pb.window))
	r.Body = pb
	return func() { pb.setDeadline(time.Time{}) }
}

func (pb *progressBody) setDeadline(t time.Time) {
	_ = pb.rc.SetReadDeadline(t) // not supported (a test recorder): no limit
}

func (pb *progressBody) Read(p []byte) (int, error) {
	n, err := pb.ReadCloser.Read(p)
	if pb.since += int64(n); pb.since >= pb.min {
		pb.since = 0
		pb.setDeadline(time.Now().Add(pb.window))
	}
	switch {
	case err == io.EOF:
		pb.setDeadline(time.Time{})
	case isTimeout(err):
		err = fmt.Errorf("%w: fewer than %d bytes arrived in %v", errStalled, pb.min, pb.window)
	}
	return n, err
}

// isTimeout reports whether err is a deadline that ran out.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// progressWriter writes a response in pieces of at most min bytes, each of
// which must be taken by the client within window: it moves the write
// deadline ahead before each piece.
type progressWriter struct {
	w      io.Writer
	rc     *http.ResponseController
	window time.Duration
	min    int
}

// watchDownload returns a writer for w's body that aborts a client that
// stops reading; the caller must call the returned function when the
// response is written.
func (s *Server) watchDownload(w http.ResponseWriter) (io.Writer, func()) {
	pw := &progressWriter{w: w, rc: http.NewResponseController(w), window: s.cfg.DownloadStallTimeout, min: int(s.cfg.MinProgress)}
	return pw, func() { _ = pw.rc.SetWriteDeadline(time.Time{}) }
}

func (pw *progressWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), pw.min)
		_ = pw.rc.SetWriteDeadline(time.Now().Add(pw.window)) // not supported: no limit
		m, err := pw.w.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}
