package capture

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// PacketReader is one source of a merged capture: *Capture is one (a
// local interface, a file, or any Source through FromSource, such as a
// remote capture of package capture/remote).
type PacketReader interface {
	// Next blocks until the next packet and returns it, its Data owned by
	// the caller; io.EOF or ErrClosed end the source, any other error
	// fails it.
	Next() (pcapio.Packet, error)
	// Stats returns the source's counts so far.
	Stats() (Stats, error)
	// Close stops the source, waking a blocked Next.
	Close() error
}

var _ PacketReader = (*Capture)(nil)

// MergeInput is one source of a merged capture and the pcapng interface
// its packets are written under.
type MergeInput struct {
	// Reader is the source. Merge owns it: it is closed by StopSource,
	// Close, or when it fails.
	Reader PacketReader
	// Interface describes it: Name ("host:iface" for a remote source),
	// LinkType (that of every packet it returns), Snaplen and Filter.
	Interface pcapio.Interface
}

// MergeOptions tune Merge; the zero value is the defaults.
type MergeOptions struct {
	// Window is the longest a packet waits for the other sources before
	// it is returned; 0 means DefaultMergeWindow. See Merged.
	Window time.Duration
	// MaxPending bounds the packet bytes waiting in one source's queue;
	// 0 means DefaultMaxPending. See Merged.
	MaxPending int
	// KeepFailed keeps a source that failed (a lost connection) for
	// Reconnect: the merged capture does not end while one waits, until
	// Reconnect or StopSource. Without it a failed source has ended.
	KeepFailed bool
}

// Defaults of MergeOptions.
const (
	DefaultMergeWindow = 500 * time.Millisecond
	DefaultMaxPending  = 16 << 20
)

// Source states, as SourceStatus.State reports them.
const (
	SourceRunning = "running" // capturing
	SourceStopped = "stopped" // stopped by StopSource or Close, or its source ended
	SourceFailed  = "failed"  // its source failed (Err says why); its packets so far are kept
)

// SourceStatus is the state of one source of a merged capture.
type SourceStatus struct {
	Interface pcapio.Interface
	State     string // SourceRunning, SourceStopped or SourceFailed
	Err       error  // why it failed or ended by itself; nil when stopped on request
	// Stats are the source's own counts (summed over its reconnections),
	// with the packets the merge dropped added to Dropped.
	Stats Stats
	// Packets counts the packets Next returned from this source.
	Packets uint64
	// Overflow counts the packets dropped because the reader of the
	// merged capture fell behind (its queue held MaxPending bytes).
	Overflow uint64
	// Late counts the packets returned after a packet of a later
	// timestamp (another source's): they arrived after the window.
	Late uint64
	// Reconnects counts the times Reconnect replaced its source.
	Reconnects int
}

// ErrSourceRunning refuses to reconnect a source that has not failed.
var ErrSourceRunning = errors.New("the source is running: only a failed source can be reconnected")

// Merged is a capture of several sources at once (local interfaces,
// remote hosts), their packets returned as one stream in timestamp
// order, each with InterfaceIndex set to its source's index, so that the
// stream is written as pcapng with one interface per source (Interfaces).
//
// Each source has its own goroutine that reads it as fast as it delivers
// into a queue of at most MaxPending bytes: a reader of the merged
// capture that falls behind (a slow disk) never blocks a source (a remote
// tcpdump, whose pipe would fill): the packets that do not fit are
// dropped and counted in that source's Overflow and Dropped.
//
// Order: Next returns the packet with the earliest timestamp among the
// queues' heads once every running source has a packet queued, or once a
// queued packet has waited Window since it arrived, or once a queue holds
// half of MaxPending. So packets come out in timestamp order whenever
// every source delivers each packet within Window of the others' packets
// of the same time (clocks in sync, transport latency under Window); a
// source that lags more, or whose clock is behind, never stalls the
// others for longer than Window: its packets are returned as they come,
// out of order, and counted in its Late.
//
// A source that fails (a lost connection, a remote tcpdump that ended)
// ends alone: its packets returned so far are kept and the others go on;
// with MergeOptions.KeepFailed it can be Reconnected. Next returns
// io.EOF once every source has ended, ErrClosed after Close.
type Merged struct {
	opts MergeOptions

	mu      sync.Mutex
	srcs    []*mergeSrc
	lastTS  time.Time // of the packet Next returned last
	closed  bool
	wake    chan struct{} // cap 1: a queue or a state changed
	closing chan struct{} // closed by Close
	pumps   sync.WaitGroup
}

// mergeSrc is one source of a Merged; its fields are guarded by the
// Merged's mu, but for r, used by its pump only.
type mergeSrc struct {
	ifc        pcapio.Interface
	r          PacketReader
	gen        int // bumps at each Reconnect: a pump of an old reader exits
	queue      []queued
	head       int // queue[head:] waits
	bytes      int // Data bytes in queue[head:]
	state      string
	err        error
	stopping   bool  // StopSource or Close asked it to stop
	base       Stats // the counts of the readers before this one
	last       Stats // this reader's counts when it ended
	packets    uint64
	overflow   uint64
	late       uint64
	reconnects int
}

type queued struct {
	p       pcapio.Packet
	arrived time.Time
}

// Merge starts reading every input and returns the merged capture. It
// needs at least one input; each input's Interface.LinkType must be that
// of its packets.
func Merge(o MergeOptions, inputs ...MergeInput) (*Merged, error) {
	if len(inputs) == 0 {
		return nil, errors.New("capture: merge of no source: give at least one")
	}
	if o.Window <= 0 {
		o.Window = DefaultMergeWindow
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	m := &Merged{opts: o, wake: make(chan struct{}, 1), closing: make(chan struct{})}
	for _, in := range inputs {
		if in.Reader == nil {
			for _, in := range inputs {
				if in.Reader != nil {
					in.Reader.Close()
				}
			}
			return nil, fmt.Errorf("capture: merge input %q has no reader", in.Interface.Name)
		}
		m.srcs = append(m.srcs, &mergeSrc{ifc: in.Interface, r: in.Reader, state: SourceRunning})
	}
	for i, s := range m.srcs {
		m.pumps.Add(1)
		go m.pump(i, s.r, 0)
	}
	return m, nil
}

// poke wakes a waiting Next.
func (m *Merged) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// pump reads source i's reader r (of generation gen) into its queue until
// it ends.
func (m *Merged) pump(i int, r PacketReader, gen int) {
	defer m.pumps.Done()
	s := m.srcs[i]
	for {
		p, err := r.Next()
		now := time.Now()
		m.mu.Lock()
		if s.gen != gen { // replaced (cannot happen while it runs, but be safe)
			m.mu.Unlock()
			r.Close()
			return
		}
		if err != nil {
			m.mu.Unlock()
			r.Close()
			st, _ := r.Stats()
			m.mu.Lock()
			s.last = st
			switch {
			case s.stopping || m.closed:
				s.state, s.err = SourceStopped, nil
			case errors.Is(err, io.EOF) || errors.Is(err, ErrClosed):
				s.state, s.err = SourceStopped, fmt.Errorf("%s: the source ended", s.ifc.Name)
			default:
				s.state, s.err = SourceFailed, err
			}
			m.mu.Unlock()
			m.poke()
			return
		}
		if s.bytes+len(p.Data) > m.opts.MaxPending {
			s.overflow++
		} else {
			p.InterfaceIndex = i
			p.LinkType = s.ifc.LinkType
			s.queue = append(s.queue, queued{p: p, arrived: now})
			s.bytes += len(p.Data)
		}
		m.mu.Unlock()
		m.poke()
	}
}

// ended reports whether source s will deliver no more packets: stopped,
// or failed and not kept for reconnection.
func (m *Merged) ended(s *mergeSrc) bool {
	return s.state == SourceStopped || s.state == SourceFailed && !m.opts.KeepFailed
}

// Next returns the next packet of the merged stream, owned by the caller,
// its InterfaceIndex its source's index in Interfaces. It returns io.EOF
// once every source has ended and its packets have been returned, and
// ErrClosed after Close.
func (m *Merged) Next() (pcapio.Packet, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return pcapio.Packet{}, ErrClosed
		}
		p, wait, ok, done := m.pickLocked(time.Now())
		m.mu.Unlock()
		if ok {
			return p, nil
		}
		if done {
			return pcapio.Packet{}, io.EOF
		}
		var tc <-chan time.Time
		if wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			tc = timer.C
		}
		select {
		case <-m.wake:
		case <-tc:
		case <-m.closing:
		}
	}
}

// NextZeroCopy is Next: the packets of a merged capture are always the
// caller's (it makes Merged a store.LiveSource).
func (m *Merged) NextZeroCopy() (pcapio.Packet, error) { return m.Next() }

// pickLocked takes the next packet to return, if one is due; otherwise
// it returns how long to wait at most (0: until woken), and whether the
// stream has ended.
func (m *Merged) pickLocked(now time.Time) (p pcapio.Packet, wait time.Duration, ok, done bool) {
	var best *mergeSrc
	var oldest time.Time
	allQueued, pressed, allEnded := true, false, true
	for _, s := range m.srcs {
		if s.head == len(s.queue) {
			if !m.ended(s) {
				allEnded = false
				if s.state == SourceRunning {
					allQueued = false
				}
			}
			continue
		}
		allEnded = false
		h := &s.queue[s.head]
		if best == nil || h.p.Timestamp.Before(best.queue[best.head].p.Timestamp) {
			best = s
		}
		if oldest.IsZero() || h.arrived.Before(oldest) {
			oldest = h.arrived
		}
		if s.bytes >= m.opts.MaxPending/2 {
			pressed = true
		}
	}
	if best == nil {
		return p, 0, false, allEnded
	}
	waited := now.Sub(oldest)
	if !allQueued && !pressed && waited < m.opts.Window {
		return p, m.opts.Window - waited, false, false
	}
	h := &best.queue[best.head]
	p = h.p
	*h = queued{}
	best.head++
	best.bytes -= len(p.Data)
	if best.head == len(best.queue) {
		best.queue, best.head = best.queue[:0], 0
	} else if best.head > 1024 && best.head*2 > len(best.queue) {
		n := copy(best.queue, best.queue[best.head:])
		clear(best.queue[n:])
		best.queue, best.head = best.queue[:n], 0
	}
	best.packets++
	if p.Timestamp.Before(m.lastTS) {
		best.late++
	} else {
		m.lastTS = p.Timestamp
	}
	return p, 0, true, false
}

// LinkType returns the first source's link type; each packet carries its
// own source's.
func (m *Merged) LinkType() pcapio.LinkType { return m.srcs[0].ifc.LinkType }

// Interfaces returns the sources' interfaces, in order: a packet's
// InterfaceIndex indexes it. Write the merged stream with them
// (DumpBuilder.Interfaces, pcapio.WriterOptions.Interfaces).
func (m *Merged) Interfaces() []pcapio.Interface {
	out := make([]pcapio.Interface, len(m.srcs))
	for i, s := range m.srcs {
		out[i] = s.ifc
	}
	return out
}

// statsLocked returns source s's counts so far.
func (m *Merged) statsLocked(s *mergeSrc) Stats {
	cur := s.last
	if s.state == SourceRunning {
		// Stats may be called from any goroutine (PacketReader, as
		// Capture.Stats).
		if st, err := s.r.Stats(); err == nil {
			cur = st
		}
	}
	return Stats{
		Received:  s.base.Received + cur.Received,
		Dropped:   s.base.Dropped + cur.Dropped + s.overflow,
		IfDropped: s.base.IfDropped + cur.IfDropped,
	}
}

// Sources returns the state of every source, in order.
func (m *Merged) Sources() []SourceStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]SourceStatus, len(m.srcs))
	for i, s := range m.srcs {
		out[i] = SourceStatus{
			Interface: s.ifc, State: s.state, Err: s.err, Stats: m.statsLocked(s),
			Packets: s.packets, Overflow: s.overflow, Late: s.late, Reconnects: s.reconnects,
		}
	}
	return out
}

// Stats returns the counts of every source added up.
func (m *Merged) Stats() (Stats, error) {
	var t Stats
	for _, s := range m.Sources() {
		t.Received += s.Stats.Received
		t.Dropped += s.Stats.Dropped
		t.IfDropped += s.Stats.IfDropped
	}
	return t, nil
}

// source returns source i, or an error naming the range.
func (m *Merged) source(i int) (*mergeSrc, error) {
	if i < 0 || i >= len(m.srcs) {
		return nil, fmt.Errorf("capture: no source %d: the capture has sources 0 to %d", i, len(m.srcs)-1)
	}
	return m.srcs[i], nil
}

// StopSource stops source i: its packets so far are still returned, the
// others go on. Stopping a stopped source is harmless.
func (m *Merged) StopSource(i int) error {
	m.mu.Lock()
	s, err := m.source(i)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	s.stopping = true
	r, running := s.r, s.state == SourceRunning
	if s.state == SourceFailed {
		s.state = SourceStopped // given up: no reconnection
	}
	m.mu.Unlock()
	m.poke()
	if running {
		return r.Close() // its pump sees the end and marks it stopped
	}
	return nil
}

// Reconnect replaces failed source i with r (the same interface opened
// again), whose packets must have the source's link type. It fails with
// ErrSourceRunning unless the source failed (see MergeOptions.KeepFailed)
// and with ErrClosed after Close, closing r.
func (m *Merged) Reconnect(i int, r PacketReader) error {
	m.mu.Lock()
	s, err := m.source(i)
	switch {
	case err != nil:
	case m.closed:
		err = ErrClosed
	case s.state != SourceFailed:
		err = fmt.Errorf("capture: reconnect %s (%s): %w", s.ifc.Name, s.state, ErrSourceRunning)
	}
	if err != nil {
		m.mu.Unlock()
		r.Close()
		return err
	}
	s.base = Stats{Received: s.base.Received + s.last.Received, Dropped: s.base.Dropped + s.last.Dropped, IfDropped: s.base.IfDropped + s.last.IfDropped}
	s.last = Stats{}
	s.r, s.state, s.err, s.stopping = r, SourceRunning, nil, false
	s.gen++
	s.reconnects++
	gen := s.gen
	m.pumps.Add(1)
	m.mu.Unlock()
	go m.pump(i, r, gen)
	m.poke()
	return nil
}

// closeWait bounds how long Close waits for the sources to end.
const closeWait = 5 * time.Second

// Close stops every source, at once, and waits (a few seconds at most)
// until each has ended, so that Sources and Stats then report their
// final state and counts (a remote tcpdump reports its drops as it
// ends); a Next blocked in another goroutine returns ErrClosed. A second
// Close waits as the first does.
func (m *Merged) Close() error {
	m.mu.Lock()
	var rs []PacketReader
	if !m.closed {
		m.closed = true
		close(m.closing)
		for _, s := range m.srcs {
			s.stopping = true
			if s.state == SourceRunning {
				rs = append(rs, s.r)
			}
		}
	}
	m.mu.Unlock()
	errs := make([]error, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Go(func() { errs[i] = r.Close() })
	}
	wg.Wait()
	ended := make(chan struct{})
	go func() {
		m.pumps.Wait()
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(closeWait):
	}
	return errors.Join(errs...)
}
