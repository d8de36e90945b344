package remote

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
	"golang.org/x/crypto/ssh"
)

// CaptureOptions describe a capture on a remote interface.
type CaptureOptions struct {
	// Interface is the remote interface's name (Host.Interfaces lists
	// them); "any" captures on all of a Linux host's interfaces.
	Interface string
	// Snaplen is the most bytes kept of each packet; 0 means
	// capture.MaxSnaplen.
	Snaplen int
	// Promiscuous puts the interface in promiscuous mode (tcpdump without
	// -p).
	Promiscuous bool
	// Filter is a tcpdump filter expression (pcap-filter(7)); "" means
	// none. It is compiled here for the interface's link type before it is
	// sent: an invalid one fails Capture with a *filter.Error.
	Filter string
}

// How long a remote tcpdump may take to start writing, and to end once
// told to.
const (
	startTimeout = 15 * time.Second
	endTimeout   = 2 * time.Second
)

// Interfaces lists the remote host's interfaces, as tcpdump -D does, or
// from `ip -o link` when tcpdump cannot list them.
func (h *Host) Interfaces() ([]Interface, error) {
	out, errOut, status, err := h.run(tcpdumpCommand(h.sudo, "-D"))
	if err != nil {
		return nil, err
	}
	if ifs := parseTcpdumpD(out); status == 0 && len(ifs) > 0 {
		return ifs, nil
	}
	if out, _, st, err := h.run("exec ip -o link"); err == nil && st == 0 {
		if ifs := parseIPLink(out); len(ifs) > 0 {
			return ifs, nil
		}
	}
	return nil, classify(h, "", status, errOut)
}

// errLinkTypeUnknown marks a link type pkttap cannot compile filters
// for: a capture without a filter goes on.
var errLinkTypeUnknown = errors.New("unknown link type")

// LinkType returns the link type tcpdump opens the remote interface with
// (tcpdump -L) and the remote system as a GOOS value ("linux"): what a
// capture filter for it is compiled for (capture.LiveFilterOptionsFor).
// An interface the host does not have fails with ErrNoSuchInterface.
func (h *Host) LinkType(iface string) (pcapio.LinkType, string, error) {
	lt, goos, _, err := h.probe(iface)
	return lt, goos, err
}

// immediateMark is what probe's command prints when the remote tcpdump
// has --immediate-mode.
const immediateMark = "immediate-mode"

// probe returns what LinkType does, and whether the remote tcpdump has
// --immediate-mode (4.7 and later): without it a Linux tcpdump hands its
// packets over up to a second late, which a capture merged with others
// must wait for.
func (h *Host) probe(iface string) (lt pcapio.LinkType, goos string, immediate bool, err error) {
	if err := checkArg("interface name", iface); err != nil {
		return 0, "", false, err
	}
	out, errOut, status, err := h.run("uname -s 2>/dev/null; tcpdump --help 2>&1 | grep -q -e --immediate-mode && echo " + immediateMark + "; " + tcpdumpCommand(h.sudo, "-L", "-i", iface))
	if err != nil {
		return 0, "", false, err
	}
	if status != 0 {
		return 0, "", false, classify(h, iface, status, errOut)
	}
	uname, rest, _ := strings.Cut(string(out), "\n")
	goos = osFromUname(uname)
	if mark, after, ok := strings.Cut(rest, "\n"); ok && mark == immediateMark {
		immediate, rest = true, after
	}
	// tcpdump 4.99 prints the list on standard error when standard
	// output is not a terminal, older ones on standard output.
	lt, ltName, err := parseLinkTypes(append([]byte(rest), errOut...))
	if err != nil {
		return lt, goos, immediate, fmt.Errorf("remote: %s on %s has link type %s, for which pkttap cannot compile filters: %w (%w)", iface, h.addr, ltName, err, errLinkTypeUnknown)
	}
	return lt, goos, immediate, nil
}

// OpenSSH connects to a host as DialSSH does and starts a capture on it as
// Host.Capture does; closing the capture closes the connection.
func OpenSSH(cfg SSHConfig, o CaptureOptions) (*capture.Capture, error) {
	h, err := DialSSH(cfg)
	return openOwned(h, err, o)
}

// opener is a host on which a capture can be started that owns it.
type opener interface {
	open(o CaptureOptions, ownsHost bool) (*capture.Capture, error)
	Close() error
}

// openOwned starts a capture that owns h, just dialed (with err), and
// closes h when that fails.
func openOwned[H opener](h H, err error, o CaptureOptions) (*capture.Capture, error) {
	if err != nil {
		return nil, err
	}
	c, err := h.open(o, true)
	if err != nil {
		h.Close()
		return nil, err
	}
	return c, nil
}

// checkOptions checks what every remote capture needs of o and returns
// the snap length to ask for; lister names the method listing the
// interfaces.
func checkOptions(o CaptureOptions, lister string) (int, error) {
	if o.Interface == "" {
		return 0, fmt.Errorf("remote: name the remote interface to capture on (%s lists them)", lister)
	}
	if err := checkArg("interface name", o.Interface); err != nil {
		return 0, err
	}
	if err := checkArg("filter", o.Filter); err != nil {
		return 0, err
	}
	if o.Snaplen < 0 {
		return 0, fmt.Errorf("remote: snaplen %d is negative: use a positive length, or 0 for the maximum (%d)", o.Snaplen, capture.MaxSnaplen)
	}
	if o.Snaplen == 0 || o.Snaplen > capture.MaxSnaplen {
		return capture.MaxSnaplen, nil
	}
	return o.Snaplen, nil
}

// Capture starts tcpdump on the remote interface and returns a capture of
// its packets. The interface's link type is asked first (tcpdump -L), the
// filter compiled for it, then tcpdump -U -w - runs with every argument
// quoted for the remote shell. Close stops the remote tcpdump. The
// capture's Stats count the packets received; Dropped is what tcpdump
// reported on standard error, which it does as it ends: after Close, Stats
// has its final count.
func (h *Host) Capture(o CaptureOptions) (*capture.Capture, error) { return h.open(o, false) }

func (h *Host) open(o CaptureOptions, ownsHost bool) (*capture.Capture, error) {
	snaplen, err := checkOptions(o, "Host.Interfaces")
	if err != nil {
		return nil, err
	}
	// The system and the interface's link type, to compile the filter for.
	hasFilter := strings.TrimSpace(o.Filter) != ""
	lt, goos, immediate, err := h.probe(o.Interface)
	if err != nil && (hasFilter || !errors.Is(err, errLinkTypeUnknown)) {
		return nil, err
	}
	opts := capture.LiveFilterOptionsFor(goos, lt, snaplen)
	if err := compileFilter(o, opts, h); err != nil {
		return nil, err
	}
	args := []string{"-U", "-w", "-", "-i", o.Interface, "-s", strconv.Itoa(snaplen)}
	if immediate {
		args = append(args, "--immediate-mode")
	}
	if !o.Promiscuous {
		args = append(args, "-p")
	}
	if hasFilter {
		args = append(args, "--", o.Filter)
	}
	s, err := h.start(captureCommand(h.sudo, args...), o.Interface)
	if err != nil {
		return nil, err
	}
	s.ownsHost = ownsHost
	if got := s.r.LinkType(); got != lt {
		opts = capture.LiveFilterOptionsFor(goos, got, snaplen)
		if err := compileFilter(o, opts, h); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.lt = s.r.LinkType()
	return capture.FromSource(s, opts), nil
}

// FilterOptions returns the options a capture filter for the remote
// interface iface compiles with, as Capture compiles it: for the link type
// tcpdump -L reports there, as a live capture on the remote system
// (uname -s). snaplen is as CaptureOptions.Snaplen. A program checks a
// filter with them (filter.Compile) before it starts the capture.
func (h *Host) FilterOptions(iface string, snaplen int) (filter.Options, error) {
	snaplen, err := checkOptions(CaptureOptions{Interface: iface, Snaplen: snaplen}, "Host.Interfaces")
	if err != nil {
		return filter.Options{}, err
	}
	lt, goos, _, err := h.probe(iface)
	if err != nil {
		return filter.Options{}, err
	}
	return capture.LiveFilterOptionsFor(goos, lt, snaplen), nil
}

// compileFilter checks o's filter with pkttap's compiler.
func compileFilter(o CaptureOptions, opts filter.Options, h *Host) error {
	if strings.TrimSpace(o.Filter) == "" {
		return nil
	}
	if _, err := filter.Compile(o.Filter, opts); err != nil {
		return fmt.Errorf("remote: filter %q for %s on %s (link type %s): %w (see pcap-filter(7) for the syntax; nothing was sent)", o.Filter, o.Interface, h.addr, opts.LinkType, err)
	}
	return nil
}

// sshSource is a remote tcpdump's pcap stream, read as it comes.
type sshSource struct {
	h        *Host
	ownsHost bool
	iface    string
	sess     *ssh.Session
	stdin    io.Closer // closing it stops the remote tcpdump (captureCommand)
	stdout   io.Reader
	r        *pcapio.Reader
	lt       pcapio.LinkType
	stderr   *stderrLog

	done    chan struct{} // closed when the session has ended
	waitErr error         // the session's end, once done is closed

	received atomic.Uint64
	closed   atomic.Bool
	failed   error // the reader's last error, returned again
}

// start runs cmd in a new session and reads the pcap header it writes.
func (h *Host) start(cmd, iface string) (*sshSource, error) {
	sess, err := h.client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("%w: open an SSH session on %s: %v", ErrConnectionLost, h.addr, err)
	}
	stdin, err0 := sess.StdinPipe()
	stdout, err1 := sess.StdoutPipe()
	stderr, err2 := sess.StderrPipe()
	if err := errors.Join(err0, err1, err2); err != nil {
		sess.Close()
		return nil, fmt.Errorf("remote: session pipes: %w", err)
	}
	if err := sess.Start(cmd); err != nil {
		sess.Close()
		return nil, fmt.Errorf("remote: start tcpdump on %s: %w", h.addr, err)
	}
	s := &sshSource{h: h, iface: iface, sess: sess, stdin: stdin, stdout: stdout, done: make(chan struct{}), stderr: newStderrLog(stderr)}
	go func() {
		s.waitErr = sess.Wait()
		close(s.done)
	}()
	head := &headRecorder{r: stdout}
	timer := time.AfterFunc(startTimeout, func() { sess.Close() })
	s.r, err = pcapio.NewReader(head)
	timer.Stop()
	if err != nil {
		s.waitEnd()
		s.sess.Close()
		return nil, s.startError(err, head.head)
	}
	return s, nil
}

// startError explains why no pcap header came.
func (s *sshSource) startError(err error, head []byte) error {
	var ee *ssh.ExitError
	if s.ended() && errors.As(s.waitErr, &ee) && ee.ExitStatus() != 0 {
		return classify(s.h, s.iface, ee.ExitStatus(), s.stderr.tail())
	}
	if len(head) > 0 {
		return fmt.Errorf("%w: the remote command on %s wrote %q instead of a pcap header (%v): is tcpdump there really tcpdump, and does no login script (.bashrc, .profile) print text for non-interactive shells?", ErrNotPcap, s.h.addr, head, err)
	}
	if s.ended() && s.waitErr == nil {
		return classify(s.h, s.iface, 0, s.stderr.tail())
	}
	return fmt.Errorf("%w: tcpdump on %s wrote no pcap header within %v: %v (%s)", ErrConnectionLost, s.h.addr, startTimeout, err, firstLine(s.stderr.tail()))
}

// waitEnd waits a little for the session to end, and reports whether it
// did.
func (s *sshSource) waitEnd() bool {
	select {
	case <-s.done:
		return true
	case <-time.After(endTimeout):
		return false
	}
}

// ended reports whether the session has ended.
func (s *sshSource) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Next returns the next packet of the stream.
func (s *sshSource) Next() (pcapio.Packet, error) {
	if s.failed != nil {
		return pcapio.Packet{}, s.failed
	}
	p, err := s.r.Next()
	if err == nil {
		s.received.Add(1)
		return p, nil
	}
	if s.closed.Load() {
		return pcapio.Packet{}, capture.ErrClosed
	}
	s.failed = s.endError(err)
	return pcapio.Packet{}, s.failed
}

// endError explains the end of the stream, after the packets received.
func (s *sshSource) endError(err error) error {
	n := s.received.Load()
	cut := ""
	if errors.Is(err, io.ErrUnexpectedEOF) {
		cut = " inside a packet (its partial bytes are dropped)"
	}
	who := s.h.user + "@" + s.h.addr
	if !s.waitEnd() {
		var fe *pcapio.FormatError
		if errors.As(err, &fe) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: the stream from tcpdump on %s is damaged after %d packets (%v); those packets are good", ErrNotPcap, who, n, err)
		}
		return fmt.Errorf("%w: the stream from %s ended%s after %d packets and the session did not end (%v); those packets are good: reconnect to go on", ErrConnectionLost, who, cut, n, err)
	}
	var missing *ssh.ExitMissingError
	var ee *ssh.ExitError
	switch {
	case errors.As(s.waitErr, &missing) || s.waitErr != nil && !errors.As(s.waitErr, &ee):
		why := "was cut"
		if s.h.lost.Load() {
			why = "went silent (no answer to SSH keepalives)"
		}
		return fmt.Errorf("%w: the connection to %s %s%s after %d packets; those packets are good: reconnect to go on", ErrConnectionLost, who, why, cut, n)
	case ee != nil && ee.ExitStatus() != 0:
		return fmt.Errorf("after %d packets: %w", n, classify(s.h, s.iface, ee.ExitStatus(), s.stderr.tail()))
	}
	var fe *pcapio.FormatError
	if errors.As(err, &fe) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the stream from tcpdump on %s is damaged after %d packets (%v); those packets are good", ErrNotPcap, who, n, err)
	}
	return fmt.Errorf("%w: tcpdump on %s exited%s after %d packets: %s", ErrRemoteExited, who, cut, n, firstLine(s.stderr.tail()))
}

func (s *sshSource) LinkType() pcapio.LinkType { return s.lt }

func (s *sshSource) Stats() (capture.Stats, error) {
	return capture.Stats{Received: s.received.Load(), Dropped: s.stderr.dropped.Load()}, nil
}

// Close stops the remote tcpdump: it ends the session's standard input,
// on which the remote command stops tcpdump (see captureCommand), waits a
// little for it to end, and closes the session.
func (s *sshSource) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.stdin.Close()
	// Drain what tcpdump still writes, so that its last words on standard
	// error, which share the channel's window, get through.
	go io.Copy(io.Discard, s.stdout)
	if s.waitEnd() {
		s.stderr.wait() // tcpdump's last words: its counts
	}
	s.sess.Close()
	if s.ownsHost {
		s.h.Close()
	}
	return nil
}

// headRecorder keeps the first bytes read through it, for the message
// about a stream that is not pcap.
type headRecorder struct {
	r    io.Reader
	head []byte
}

func (h *headRecorder) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if room := 64 - len(h.head); room > 0 && n > 0 {
		h.head = append(h.head, p[:min(n, room)]...)
	}
	return n, err
}

// stderrLog reads the remote tcpdump's standard error: it keeps the last
// lines for error messages and the drop count tcpdump reports.
type stderrLog struct {
	mu      sync.Mutex
	lines   []string
	dropped atomic.Uint64
	eof     chan struct{}
}

func newStderrLog(r io.Reader) *stderrLog {
	l := &stderrLog{eof: make(chan struct{})}
	go func() {
		defer close(l.eof)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 4096), 64<<10)
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutSuffix(line, " packets dropped by kernel"); ok {
				if v, err := strconv.ParseUint(strings.TrimSpace(n), 10, 64); err == nil {
					l.dropped.Store(v)
				}
			}
			l.mu.Lock()
			l.lines = append(l.lines, line)
			if len(l.lines) > 20 {
				l.lines = l.lines[1:]
			}
			l.mu.Unlock()
		}
		io.Copy(io.Discard, r)
	}()
	return l
}

// wait waits briefly for the end of the stream.
func (l *stderrLog) wait() {
	select {
	case <-l.eof:
	case <-time.After(endTimeout):
	}
}

// tail returns the last lines read, after waiting briefly for the end of
// the stream.
func (l *stderrLog) tail() []byte {
	l.wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return []byte(strings.Join(l.lines, "\n"))
}

// Capturer is a connection to a remote host on which captures run, by
// either protocol: *Host (SSH and tcpdump) or *RPCAPHost (rpcapd).
type Capturer interface {
	// Interfaces lists the remote host's interfaces.
	Interfaces() ([]Interface, error)
	// Capture starts a capture on one of them.
	Capture(o CaptureOptions) (*capture.Capture, error)
	// FilterOptions returns the options a capture filter for one of them
	// compiles with: what a program checks a filter with as it is typed.
	FilterOptions(iface string, snaplen int) (filter.Options, error)
	// Close ends the connection.
	Close() error
}

var (
	_ Capturer = (*Host)(nil)
	_ Capturer = (*RPCAPHost)(nil)
)
