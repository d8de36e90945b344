package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/pkttap/pkttap/internal/semaphore"
	"github.com/pkttap/pkttap/pcapio"
)

// Limits on running tcpdump for GET /api/explore/libpcap.
const (
	libpcapTimeout   = 10 * time.Second
	libpcapMaxOutput = 1 << 20 // bytes of stdout (a 4096-instruction listing is ~250 KiB)
	libpcapMaxErr    = 4 << 10 // bytes of stderr kept for the message
	libpcapMaxExpr   = 16 << 10
	libpcapRuns      = 2   // tcpdumps at once
	libpcapCacheSize = 256 // answers kept
)

// LibpcapResponse is GET /api/explore/libpcap: the program libpcap
// compiles for the expression, as `tcpdump -d -y LINKTYPE -- EXPR`
// prints it, when tcpdump is installed on the server.
type LibpcapResponse struct {
	Expr     string `json:"expr"`
	LinkType string `json:"linkType"`
	// Available is false when the server has no tcpdump; Note says so.
	Available bool   `json:"available"`
	Note      string `json:"note,omitempty"`
	// Valid: libpcap compiled it into Program, Instructions long; else
	// Error is tcpdump's message.
	Valid        bool   `json:"valid"`
	Instructions int    `json:"instructions,omitempty"`
	Program      string `json:"program,omitempty"`
	Error        string `json:"error,omitempty"`
	Version      string `json:"version,omitempty"` // tcpdump's and libpcap's
}

// libpcap runs the server's tcpdump to compile expressions, a few at a
// time, keeping recent answers.
type libpcap struct {
	find    func() (string, error) // where tcpdump is (exec.LookPath)
	timeout time.Duration          // the most one run may take
	runs    semaphore.Semaphore

	mu      sync.Mutex
	path    string
	pathErr error
	looked  bool
	version string
	cache   map[string]LibpcapResponse // by link type and expression
}

func newLibpcap() *libpcap {
	return &libpcap{
		find:    func() (string, error) { return exec.LookPath("tcpdump") },
		timeout: libpcapTimeout,
		runs:    make(semaphore.Semaphore, libpcapRuns),
		cache:   map[string]LibpcapResponse{},
	}
}

// tcpdump returns tcpdump's path and version, looked up once.
func (l *libpcap) tcpdump(ctx context.Context) (path, version string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.looked {
		l.looked = true
		l.path, l.pathErr = l.find()
		if l.pathErr == nil {
			out, _ := runBounded(ctx, l.timeout, l.path, "--version")
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "tcpdump version") || strings.HasPrefix(line, "libpcap version") {
					l.version = strings.TrimSpace(strings.Join([]string{l.version, strings.TrimSpace(line)}, "; "))
				}
			}
			l.version = strings.TrimPrefix(l.version, "; ")
		}
	}
	return l.path, l.version, l.pathErr
}

// compile answers what libpcap makes of expr for lt.
func (l *libpcap) compile(ctx context.Context, lt pcapio.LinkType, expr string) LibpcapResponse {
	resp := LibpcapResponse{Expr: expr, LinkType: lt.String()}
	path, version, err := l.tcpdump(ctx)
	if err != nil {
		resp.Note = "tcpdump is not installed on the server, so libpcap's program cannot be shown beside pkttap's (install tcpdump there: apt-get install tcpdump)"
		return resp
	}
	resp.Available, resp.Version = true, version
	key := lt.String() + "\x00" + expr
	l.mu.Lock()
	cached, ok := l.cache[key]
	l.mu.Unlock()
	if ok {
		return cached
	}
	// The expression is one argument after "--": tcpdump takes nothing in
	// it as an option, and no shell ever sees it. The link type is the
	// name pcapio knows it by, never the client's text.
	out, err := runBounded(ctx, l.timeout, path, "-d", "-y", lt.String(), "--", expr)
	if err != nil {
		resp.Error = err.Error()
		if ctx.Err() != nil {
			return resp // not cached: the client went away
		}
	} else {
		resp.Valid = true
		resp.Program = string(out)
		resp.Instructions = strings.Count(resp.Program, "\n")
	}
	l.mu.Lock()
	if len(l.cache) >= libpcapCacheSize {
		clear(l.cache)
	}
	l.cache[key] = resp
	l.mu.Unlock()
	return resp
}

// boundedBuffer keeps the first max bytes written to it. The write that
// would pass them fails and calls overflow (which kills the command), or,
// without overflow, the rest is dropped.
type boundedBuffer struct {
	buf      bytes.Buffer // not embedded: its ReadFrom would bypass Write
	max      int
	overflow func()
	over     bool
}

var errTooMuchOutput = errors.New("more output than allowed")

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > b.max {
		b.buf.Write(p[:max(0, b.max-b.buf.Len())])
		if b.overflow == nil {
			return len(p), nil
		}
		if !b.over {
			b.overflow()
		}
		b.over = true
		return 0, errTooMuchOutput
	}
	return b.buf.Write(p)
}

// runBounded runs the program at path with args (an argument vector, no
// shell), no input, a minimal environment, for at most timeout and
// libpcapMaxOutput bytes of output. It returns the standard output, or an
// error with the program's own message.
func runBounded(ctx context.Context, timeout time.Duration, path string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Dir = "/"
	cmd.WaitDelay = time.Second
	stdout := &boundedBuffer{max: libpcapMaxOutput, overflow: cancel}
	stderr := &boundedBuffer{max: libpcapMaxErr} // the message's start is enough
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	switch {
	case stdout.over:
		return nil, fmt.Errorf("tcpdump printed more than %d bytes", libpcapMaxOutput)
	case ctx.Err() == context.DeadlineExceeded:
		return nil, fmt.Errorf("tcpdump took longer than %v", timeout)
	case err != nil:
		msg := strings.TrimSpace(stderr.buf.String())
		msg = strings.TrimPrefix(msg, "tcpdump: ")
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.New(msg)
	}
	return stdout.buf.Bytes(), nil
}

// handleLibpcap answers GET /api/explore/libpcap?expr=EXPR&capture=ID or
// &linktype=NAME: libpcap's program beside pkttap's.
func (s *Server) handleLibpcap(w http.ResponseWriter, r *http.Request) {
	opts, ok := s.exploreOptions(w, r)
	if !ok {
		return
	}
	expr := r.URL.Query().Get("expr")
	if len(expr) > libpcapMaxExpr {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("expression of %d bytes: libpcap's program is shown for at most %d", len(expr), libpcapMaxExpr))
		return
	}
	if strings.ContainsRune(expr, 0) {
		writeError(w, http.StatusBadRequest, "the expression holds a NUL byte, which no command-line argument can carry")
		return
	}
	if err := s.libpcap.runs.Acquire(r.Context(), s.cfg.CompileWait); err != nil {
		if errors.Is(err, semaphore.ErrBusy) {
			writeBusy(w, fmt.Sprintf("%d tcpdumps are compiling filters", libpcapRuns))
		}
		return
	}
	resp := s.libpcap.compile(r.Context(), opts.LinkType, expr)
	s.libpcap.runs.Release()
	writeJSON(w, http.StatusOK, resp)
}
