package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/pcapio"
)

// LiveOptions describe a live capture.
type LiveOptions struct {
	// Interface is the interface name.
	Interface string
	// Filter is a tcpdump expression compiled for the interface's link
	// type; "" captures everything.
	Filter string
	// Snaplen is the most bytes kept of each packet (1 to
	// capture.MaxSnaplen).
	Snaplen int
	// Promiscuous puts the interface in promiscuous mode while capturing.
	Promiscuous bool
}

// LiveSource is an open live capture as a store reads it: one goroutine
// calls NextZeroCopy until it fails; Close, called from another, makes it
// return capture.ErrClosed. *capture.Capture is one.
type LiveSource interface {
	NextZeroCopy() (pcapio.Packet, error)
	LinkType() pcapio.LinkType
	Stats() (capture.Stats, error)
	Close() error
}

var _ LiveSource = (*capture.Capture)(nil)

// MultiSource is a LiveSource of several sources merged into one stream
// (*capture.Merged is one): each packet's InterfaceIndex is its source's
// index in Interfaces, which the spool writes as its pcapng interfaces.
// The store reports each source's state (LiveInfo.Sources) and stops or
// reconnects one source alone (Store.StopSource, Store.ReconnectSource).
type MultiSource interface {
	LiveSource
	Interfaces() []pcapio.Interface
	Sources() []capture.SourceStatus
	StopSource(i int) error
	Reconnect(i int, r capture.PacketReader) error
}

var _ MultiSource = (*capture.Merged)(nil)

// SourceInfo is the state of one source of a live capture of several
// (LiveInfo.Sources): its pcapng interface, whether it runs, and its
// counts.
type SourceInfo struct {
	Name     string `json:"name"` // the interface's name, "host:iface" for a remote one
	LinkType string `json:"linkType"`
	Snaplen  int    `json:"snaplen"`
	Filter   string `json:"filter,omitempty"`
	// State is capture.SourceRunning, SourceStopped or SourceFailed.
	State string `json:"state"`
	// Error says why it failed or ended by itself, and what to do.
	Error      string `json:"error,omitempty"`
	Received   uint64 `json:"received"` // as the source counts them (a remote tcpdump: packets it wrote)
	Dropped    uint64 `json:"dropped"`  // by the source's OS, and by pkttap when the spool fell behind
	IfDropped  uint64 `json:"ifDropped"`
	Packets    uint64 `json:"packets"`              // spooled
	Late       uint64 `json:"late,omitempty"`       // spooled out of timestamp order (see capture.Merged)
	Reconnects int    `json:"reconnects,omitempty"` // times it was reconnected
}

// LiveInfo is the live part of a store's info.
type LiveInfo struct {
	Interface   string `json:"interface"`
	Filter      string `json:"filter,omitempty"`
	Snaplen     int    `json:"snaplen"`
	Promiscuous bool   `json:"promiscuous"`
	Running     bool   `json:"running"`
	Received    uint64 `json:"received"`  // the OS count (capture.Stats.Received: on Linux after the capture filter, on macOS before it)
	Dropped     uint64 `json:"dropped"`   // packets the OS dropped: the store read too slowly
	IfDropped   uint64 `json:"ifDropped"` // packets the interface dropped, where known
	// SpoolBytes counts captured packet bytes, which MaxBytes limits (the
	// spool file, Info.Size, also holds the pcapng block headers).
	SpoolBytes int64  `json:"spoolBytes"`
	MaxBytes   int64  `json:"maxBytes"`
	Started    string `json:"started"`
	Stopped    string `json:"stopped,omitempty"` // why it stopped
	// Sources are the capture's sources when it has several (a
	// MultiSource), in interface order; Received and the drop counts
	// above are their sums.
	Sources []SourceInfo `json:"sources,omitempty"`
}

// liveState is what a live capture has beyond a file. Its fields after
// stopOnce are guarded by the store's mu.
type liveState struct {
	opts     LiveOptions
	src      LiveSource // nil for a capture recovered after a restart
	spool    *liveSpool // written by the store's ingest only
	maxSpool int64
	stopOnce sync.Once

	running    bool
	stats      capture.Stats
	spoolBytes int64
	stopReason string
	sources    []SourceInfo // of a MultiSource
}

// liveSource reads a live capture's packets, which the indexer spools.
type liveSource struct {
	src   LiveSource
	multi bool // src is a MultiSource: a packet's InterfaceIndex is its source's
}

func (l liveSource) next() (pcapio.Packet, int64, int, error) {
	p, err := l.src.NextZeroCopy()
	if errors.Is(err, capture.ErrClosed) {
		err = io.EOF
	}
	ifIndex := 0 // a single live capture's InterfaceIndex is the OS's
	if l.multi {
		ifIndex = p.InterfaceIndex
	}
	return p, spoolIt, ifIndex, err
}

func (liveSource) consumed() int64 { return 0 }

// liveSpooler spools a live capture's packets, as far as the disk budget
// and the size limit allow; at either it stops the capture.
type liveSpooler struct {
	s    *Store
	q    *queue
	full bool // the limit was reached: later packets are dropped
}

func (sp *liveSpooler) add(b *batch) (int, error) {
	if sp.full {
		return 0, nil
	}
	s, l := sp.s, sp.s.live
	// The disk budget first: the batch's blocks, with room for their index
	// records and summaries.
	charged := blockBytes(b)
	if err := s.disk.charge(charged, int64(len(b.pkts))*indexBytesPerPacket); err != nil {
		sp.stop(err.Error()) // stops it as --max-live does
		return 0, nil
	}
	end := l.spool.end
	n, limited, err := l.spool.add(b, l.maxSpool)
	s.disk.refund(charged - (l.spool.end - end)) // the packets the limit or an error left out
	if err != nil {
		s.stopLive("write error")
		return n, err
	}
	if limited {
		sp.stop(fmt.Sprintf("stopped at the size limit of %s of packet data (pkttap-web --max-live)", formatBytes(l.maxSpool)))
	}
	return n, nil
}

// stop stops the capture at a limit: later packets are dropped.
func (sp *liveSpooler) stop(reason string) {
	sp.full = true
	sp.q.halt()
	sp.s.stopLive(reason)
}

func (sp *liveSpooler) flush() error {
	if err := sp.s.live.spool.flush(); err != nil {
		sp.s.stopLive("write error")
		return err
	}
	return nil
}

// AddLive registers the open live capture src, described by o, as a new
// store whose packets are spooled (as pcapng) and indexed as they arrive,
// until it is stopped: by Stop, at the pool's size limit (Config.MaxLive)
// or the disk budget, when removed, when the pool closes, or by a read
// error. The store owns src from now on, also when AddLive fails.
//
// A MultiSource (several sources merged) is spooled with one pcapng
// interface per source, its own name, link type and snap length; o then
// describes the capture as a whole (Interface the names joined, for
// display). It ends once every source has ended, or when stopped.
func (p *Pool) AddLive(src LiveSource, o LiveOptions) (*Store, error) {
	id, dir, err := p.newDir()
	if err != nil {
		src.Close()
		return nil, err
	}
	s, err := p.addLive(id, dir, src, o)
	if err != nil {
		src.Close()
		removeDir(dir)
		return nil, err
	}
	return s, nil
}

func (p *Pool) addLive(id, dir string, src LiveSource, o LiveOptions) (*Store, error) {
	files, err := createFiles(dir, "spool", "index", "summaries")
	if err != nil {
		return nil, err
	}
	now := time.Now()
	lt := src.LinkType()
	ifcs := []pcapio.Interface{{
		LinkType: lt, Name: o.Interface, Filter: o.Filter,
		Snaplen: uint32(o.Snaplen), TSResolution: pcapio.TSResolutionNano,
	}}
	multi, isMulti := src.(MultiSource)
	if isMulti {
		ifcs = multi.Interfaces()
		for i := range ifcs {
			ifcs[i].TSResolution = pcapio.TSResolutionNano
		}
	}
	sp, err := newLiveSpool(files[0], ifcs)
	var m *captureMeta
	if err == nil {
		// The spool is a capture file from now on: keep it.
		m = &captureMeta{
			Version: metaVersion, Created: now, Source: "spool",
			Name: CleanName(o.Interface + " " + now.UTC().Format("2006-01-02 15:04:05")),
			Live: &liveMeta{Options: o, MaxSpool: p.cfg.MaxLive, HeaderBytes: sp.size},
		}
		err = writeMeta(dir, m)
	}
	if err != nil {
		closeFiles(files...)
		return nil, err
	}
	s := &Store{
		id:        id,
		name:      m.Name,
		created:   now,
		dir:       dir,
		spool:     files[0],
		index:     files[1],
		sums:      files[2],
		state:     StateCapturing,
		format:    "live",
		linkTypes: []pcapio.LinkType{lt},
		ifaces:    ifcs,
		size:      sp.size,
		live:      &liveState{opts: o, src: src, spool: sp, maxSpool: p.cfg.MaxLive, running: true, sources: sourceInfos(src)},
		saved:     m,
		disk:      p.disk.newCharge(),
	}
	s.disk.take(sp.size) // the spool's headers, a few hundred bytes
	if err := p.register(s); err != nil {
		s.disk.refundAll()
		closeFiles(files...)
		return nil, err
	}
	stopOnCancel := context.AfterFunc(s.ctx, func() { s.stopLive("capture deleted") })
	go func() {
		defer stopOnCancel()
		s.runLive()
	}()
	p.log.Info("live capture started", "id", id, "interface", o.Interface, "filter", o.Filter, "snaplen", o.Snaplen, "promiscuous", o.Promiscuous)
	p.notify()
	return s, nil
}

// ErrNotLive refuses to stop a store that is a file.
var ErrNotLive = errors.New("a file, not a live capture: there is nothing to stop")

// Stop stops a live capture (once) for the given reason; its ingest ends
// (Done) once the packets read so far are indexed. Stopping a stopped
// capture is harmless; a file fails with ErrNotLive.
func (s *Store) Stop(reason string) error {
	if s.live == nil {
		return fmt.Errorf("capture %s is %w", s.id, ErrNotLive)
	}
	s.stopLive(reason)
	return nil
}

// stopLive stops a live capture (once) for the given reason.
func (s *Store) stopLive(reason string) {
	l := s.live
	if l.src == nil { // recovered after a restart: not running
		return
	}
	l.stopOnce.Do(func() {
		s.mu.Lock()
		l.stopReason = reason
		s.mu.Unlock()
		l.src.Close() // the reader's NextZeroCopy returns capture.ErrClosed
	})
}

// runLive ingests the live source until it is stopped.
func (s *Store) runLive() {
	defer close(s.done)
	q := newQueue()
	_, multi := s.live.src.(MultiSource)
	s.ingest(liveSource{src: s.live.src, multi: multi}, &liveSpooler{s: s, q: q}, q, livePublishEvery, s.liveProgress)
}

// liveProgress takes the capture's counts after a round of batches, and
// after the last (ended) its final state: the reader's error rerr or the
// indexer's werr. The source is closed before the capture is shown
// stopped, so that a client that sees it stopped finds the interface let
// go (Stats then gives the final counts).
func (s *Store) liveProgress(ended bool, rerr, werr error) {
	l := s.live
	if ended {
		l.src.Close()
	}
	st, serr := l.src.Stats()
	srcs := sourceInfos(l.src)
	s.mu.Lock()
	changed := serr == nil && st != l.stats || l.spoolBytes != l.spool.data || !slices.Equal(srcs, l.sources)
	if serr == nil {
		l.stats = st
	}
	if srcs != nil {
		l.sources = srcs
	}
	l.spoolBytes, s.size, s.readBytes = l.spool.data, l.spool.size, l.spool.size
	if ended {
		l.running = false
		switch {
		case werr != nil:
			s.state, s.errMsg = StateError, werr.Error()
		case rerr != nil:
			s.state, s.errMsg = StateError, "capture stopped: "+rerr.Error()
			l.stopReason = "read error"
		default:
			s.state = StateReady
		}
		if l.stopReason == "" {
			l.stopReason = "stopped"
		}
		s.saveMetaLocked()
		s.signalLocked()
	}
	s.mu.Unlock()
	if changed || ended {
		s.notify()
	}
}

// sourceInfos returns the state of each source of src, nil unless it is
// a MultiSource.
func sourceInfos(src LiveSource) []SourceInfo {
	m, ok := src.(MultiSource)
	if !ok {
		return nil
	}
	sts := m.Sources()
	out := make([]SourceInfo, len(sts))
	for i, st := range sts {
		out[i] = SourceInfo{
			Name: st.Interface.Name, LinkType: st.Interface.LinkType.String(), Snaplen: int(st.Interface.Snaplen),
			Filter: st.Interface.Filter, State: st.State, Received: st.Stats.Received, Dropped: st.Stats.Dropped,
			IfDropped: st.Stats.IfDropped, Packets: st.Packets, Late: st.Late, Reconnects: st.Reconnects,
		}
		if st.Err != nil {
			out[i].Error = st.Err.Error()
		}
	}
	return out
}

// ErrNotMulti refuses a per-source request on a live capture of one
// source (stop the capture itself).
var ErrNotMulti = errors.New("a live capture of one source: stop the capture itself")

// multi returns the store's MultiSource, or an error saying why there is
// none.
func (s *Store) multi() (MultiSource, error) {
	if s.live == nil {
		return nil, fmt.Errorf("capture %s is %w", s.id, ErrNotLive)
	}
	m, ok := s.live.src.(MultiSource)
	if !ok {
		return nil, fmt.Errorf("capture %s is %w", s.id, ErrNotMulti)
	}
	return m, nil
}

// StopSource stops source i of a live capture of several sources; the
// others go on, and the capture ends with its last source. Stopping a
// stopped source is harmless.
func (s *Store) StopSource(i int) error {
	m, err := s.multi()
	if err != nil {
		return err
	}
	return m.StopSource(i)
}

// ReconnectSource replaces failed source i of a running live capture of
// several sources with r, the same interface opened again; its packets go
// on under the same pcapng interface. It takes r in every case (closing
// it on failure).
func (s *Store) ReconnectSource(i int, r capture.PacketReader) error {
	m, err := s.multi()
	if err != nil {
		r.Close()
		return err
	}
	if !s.Running() {
		r.Close()
		return fmt.Errorf("capture %s has stopped: start a new capture", s.id)
	}
	return m.Reconnect(i, r)
}

// formatBytes writes a size the way --max-live takes it: "1 GiB",
// "500 MiB", "2000 B".
func formatBytes(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d B", n)
}

// liveInfoLocked returns the live part of the store's info (nil for a
// file). s.mu must be held.
func (s *Store) liveInfoLocked() *LiveInfo {
	l := s.live
	if l == nil {
		return nil
	}
	return &LiveInfo{
		Interface: l.opts.Interface, Filter: l.opts.Filter, Snaplen: l.opts.Snaplen, Promiscuous: l.opts.Promiscuous,
		Running: l.running, Received: l.stats.Received, Dropped: l.stats.Dropped, IfDropped: l.stats.IfDropped,
		SpoolBytes: l.spoolBytes, MaxBytes: l.maxSpool, Started: s.created.UTC().Format(time.RFC3339Nano),
		Stopped: l.stopReason, Sources: slices.Clone(l.sources),
	}
}

// Running reports whether the store is a live capture still capturing.
func (s *Store) Running() bool {
	if s.live == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live.running
}
