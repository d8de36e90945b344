package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// DefaultMaxLive is the default size at which a live capture stops by
// itself: 1 GiB of captured packet bytes (its spool's block headers aside).
const DefaultMaxLive = 1 << 30

// Live capture batching: the reader hands the packets it has read to the
// indexer at least every liveFlushEvery, and at once when a batch holds
// livePackets packets or liveBytes bytes; with liveBatches batches filled
// and waiting, the reader waits for the indexer (the kernel then buffers,
// and counts what it has to drop).
const (
	liveFlushEvery = 100 * time.Millisecond
	livePackets    = 1024
	liveBytes      = 1 << 20
	liveBatches    = 8
)

// LiveOptions describe a live capture to open.
type LiveOptions struct {
	// Interface is the interface name, as LiveBackend.Interfaces lists it.
	Interface string
	// Filter is a tcpdump expression compiled for the interface's link
	// type; "" captures everything.
	Filter string
	// Snaplen is the most bytes kept of each packet (1 to
	// capture.MaxSnaplen); StartLive takes 0 for capture.MaxSnaplen, as
	// everywhere in pkttap.
	Snaplen int
	// Promiscuous puts the interface in promiscuous mode while capturing.
	Promiscuous bool
}

// LiveSource is an open live capture as the server reads it: one goroutine
// calls NextZeroCopy until it fails; Close, called from another, makes it
// return capture.ErrClosed. *capture.Capture is one.
type LiveSource interface {
	NextZeroCopy() (pcapio.Packet, error)
	LinkType() pcapio.LinkType
	Stats() (capture.Stats, error)
	Close() error
}

var _ LiveSource = (*capture.Capture)(nil)

// LiveBackend lists interfaces and opens live captures for the server. The
// default, CaptureBackend, is package capture; tests substitute one that
// opens its sockets in a network namespace.
type LiveBackend interface {
	Interfaces() ([]capture.Interface, error)
	Open(o LiveOptions) (LiveSource, error)
}

// CaptureBackend is the LiveBackend of package capture: the machine's own
// interfaces.
type CaptureBackend struct{}

// Interfaces lists the interfaces with capture.Interfaces.
func (CaptureBackend) Interfaces() ([]capture.Interface, error) { return capture.Interfaces() }

// Open opens a live capture with capture.Live.
func (CaptureBackend) Open(o LiveOptions) (LiveSource, error) {
	return capture.Live(o.Interface).Promiscuous(o.Promiscuous).Snaplen(o.Snaplen).Filter(o.Filter).Open()
}

// InterfaceInfo is a network interface as GET /api/interfaces lists it.
type InterfaceInfo struct {
	Name         string   `json:"name"`
	FriendlyName string   `json:"friendlyName,omitempty"` // Windows' "Ethernet", "Wi-Fi"; accepted where name is
	Description  string   `json:"description,omitempty"`
	Index        int      `json:"index"`
	Up           bool     `json:"up"`
	Loopback     bool     `json:"loopback"`
	Addresses    []string `json:"addresses"` // CIDR notation
	HardwareAddr string   `json:"hardwareAddr,omitempty"`
	LinkType     string   `json:"linkType"` // a capture's link type (DLT name), as capture.Interface has it
}

// LiveInfo is the live part of a capture's info.
type LiveInfo struct {
	Interface   string `json:"interface"`
	Filter      string `json:"filter,omitempty"`
	Snaplen     int    `json:"snaplen"`
	Promiscuous bool   `json:"promiscuous"`
	Running     bool   `json:"running"`
	Received    uint64 `json:"received"`  // the OS count (capture.Stats.Received: on Linux after the capture filter, on macOS before it)
	Dropped     uint64 `json:"dropped"`   // packets the OS dropped: pkttap-web read too slowly
	IfDropped   uint64 `json:"ifDropped"` // packets the interface dropped, where known
	// SpoolBytes counts captured packet bytes, which MaxBytes limits (the
	// spool file, CaptureInfo.Size, also holds the pcapng block headers).
	SpoolBytes int64  `json:"spoolBytes"`
	MaxBytes   int64  `json:"maxBytes"`
	Started    string `json:"started"`
	Stopped    string `json:"stopped,omitempty"` // why it stopped
}

// liveState is what a live capture has beyond a file capture. Its fields
// after src are guarded by the capture's mu.
type liveState struct {
	opts     LiveOptions
	src      LiveSource // nil for a capture recovered after a restart
	spool    *liveSpool // written by the capture's run only
	maxSpool int64
	stopOnce sync.Once

	running    bool
	stats      capture.Stats
	spoolBytes int64
	stopReason string
}

// sortInterfaces orders interfaces as the UI offers them: up before down,
// with addresses before without, loopback after the others, then by index.
func sortInterfaces(ifs []InterfaceInfo) {
	rank := func(ifc InterfaceInfo) int {
		r := 0
		if !ifc.Up {
			r += 4
		}
		if ifc.Loopback {
			r += 2
		}
		if len(ifc.Addresses) == 0 {
			r++
		}
		return r
	}
	slices.SortStableFunc(ifs, func(a, b InterfaceInfo) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.Index, b.Index), cmp.Compare(a.Name, b.Name))
	})
}

// interfaces lists the backend's interfaces for the API.
func (s *Server) interfaces() ([]InterfaceInfo, error) {
	ifs, err := s.live.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]InterfaceInfo, 0, len(ifs))
	for _, ifc := range ifs {
		info := InterfaceInfo{
			Name: ifc.Name, FriendlyName: ifc.FriendlyName, Description: ifc.Description, Index: ifc.Index,
			Up: ifc.Up, Loopback: ifc.Loopback, Addresses: []string{}, LinkType: ifc.LinkType.String(),
		}
		for _, a := range ifc.Addresses {
			info.Addresses = append(info.Addresses, a.String())
		}
		if len(ifc.HardwareAddr) > 0 {
			info.HardwareAddr = ifc.HardwareAddr.String()
		}
		out = append(out, info)
	}
	sortInterfaces(out)
	return out, nil
}

// interfaceNamed returns the index in ifs of the interface called name:
// its Name, or its FriendlyName (Windows' "Ethernet", which capture.Live
// takes too, as Windows compares it, without regard to case); -1 if none.
func interfaceNamed(ifs []capture.Interface, name string) int {
	if i := slices.IndexFunc(ifs, func(ifc capture.Interface) bool { return ifc.Name == name }); i >= 0 {
		return i
	}
	return slices.IndexFunc(ifs, func(ifc capture.Interface) bool {
		return ifc.FriendlyName != "" && strings.EqualFold(ifc.FriendlyName, name)
	})
}

// errLiveDisabled is the answer to live requests on a server started with
// --no-live.
var errLiveDisabled = errors.New("live capture is disabled on this server (pkttap-web --no-live): open capture files instead")

// errBadSnaplen reports a snap length out of range.
var errBadSnaplen = fmt.Errorf("it must be between 1 and %d bytes (0 means %[1]d)", capture.MaxSnaplen)

// errNoInterface is wrapped by the error for an interface the backend does
// not list.
var errNoInterface = errors.New("GET /api/interfaces lists them")

// errInterfaceDown is wrapped by the error for an interface the backend
// lists as down.
var errInterfaceDown = errors.New("bring it up, then start the capture")

// StartLive opens a live capture and registers it as a new capture whose
// packets are spooled and indexed as they arrive. An interface the backend
// does not list, or lists as down, is refused before anything is created.
// Errors from the backend are returned as they are (wrapped): a
// *filter.Error for a filter that does not compile for the interface's
// link type, capture.ErrPermissionDenied when the process may not capture.
func (s *Server) StartLive(o LiveOptions) (*Capture, error) {
	if s.cfg.NoLive {
		return nil, errLiveDisabled
	}
	if o.Snaplen == 0 {
		o.Snaplen = capture.MaxSnaplen
	}
	if o.Snaplen < 1 || o.Snaplen > capture.MaxSnaplen {
		return nil, fmt.Errorf("snaplen %d is out of range: %w", o.Snaplen, errBadSnaplen)
	}
	// Check the name against the list first, for a clear message (the
	// name is never used as anything but an interface name), and refuse
	// an interface that is down on every system (Linux and Npcap refuse to
	// open one; macOS would capture nothing, silently).
	if ifs, err := s.live.Interfaces(); err == nil {
		i := interfaceNamed(ifs, o.Interface)
		if i < 0 {
			return nil, fmt.Errorf("no interface named %q on this machine (%w)", o.Interface, errNoInterface)
		}
		if !ifs[i].Up {
			return nil, fmt.Errorf("interface %q is down: %w", o.Interface, errInterfaceDown)
		}
	}
	id, dir, err := s.newCaptureDir()
	if err != nil {
		return nil, err
	}
	c, err := s.openLive(id, dir, o)
	if err != nil {
		removeDir(dir)
		return nil, err
	}
	return c, nil
}

func (s *Server) openLive(id, dir string, o LiveOptions) (*Capture, error) {
	files, err := createFiles(dir, "spool", "index", "summaries")
	if err != nil {
		return nil, err
	}
	src, err := s.live.Open(o)
	if err != nil {
		closeFiles(files...)
		return nil, err
	}
	now := time.Now()
	lt := src.LinkType()
	ifc := pcapio.Interface{
		LinkType: lt, Name: o.Interface, Filter: o.Filter,
		Snaplen: uint32(o.Snaplen), TSResolution: pcapio.TSResolutionNano,
	}
	sp, err := newLiveSpool(files[0], ifc)
	var m *captureMeta
	if err == nil {
		// The spool is a capture file from now on: keep it.
		m = &captureMeta{
			Version: metaVersion, Created: now, Source: "spool",
			Name: cleanName(o.Interface + " " + now.UTC().Format("2006-01-02 15:04:05")),
			Live: &liveMeta{Options: o, MaxSpool: s.cfg.MaxLive, HeaderBytes: sp.size},
		}
		err = writeMeta(dir, m)
	}
	if err != nil {
		src.Close()
		closeFiles(files...)
		return nil, err
	}
	c := &Capture{
		id:        id,
		name:      m.Name,
		created:   now,
		dir:       dir,
		spool:     files[0],
		index:     files[1],
		sums:      files[2],
		state:     stateCapturing,
		format:    "live",
		linkTypes: []pcapio.LinkType{lt},
		ifaces:    []pcapio.Interface{ifc},
		size:      sp.size,
		live:      &liveState{opts: o, src: src, spool: sp, maxSpool: s.cfg.MaxLive, running: true},
		saved:     m,
		disk:      s.disk.newCharge(),
	}
	c.disk.take(sp.size) // the spool's headers, a few hundred bytes
	if err := s.register(c); err != nil {
		c.disk.refundAll()
		src.Close()
		closeFiles(files...)
		return nil, err
	}
	stopOnCancel := context.AfterFunc(c.ctx, func() { c.stopLive("capture deleted") })
	go func() {
		defer stopOnCancel()
		c.runLive()
	}()
	s.log.Info("live capture started", "id", id, "interface", o.Interface, "filter", o.Filter, "snaplen", o.Snaplen, "promiscuous", o.Promiscuous)
	if w, ok := src.(interface{ Warnings() []error }); ok {
		for _, err := range w.Warnings() {
			s.log.Warn("live capture opened with a warning", "id", id, "interface", o.Interface, "warning", err)
		}
	}
	s.notify()
	return c, nil
}

// stopLive stops a live capture (once) for the given reason; the capture's
// run ends once the packets read so far are indexed.
func (c *Capture) stopLive(reason string) {
	l := c.live
	if l.src == nil { // recovered after a restart: not running
		return
	}
	l.stopOnce.Do(func() {
		c.mu.Lock()
		l.stopReason = reason
		c.mu.Unlock()
		l.src.Close() // the reader's NextZeroCopy returns capture.ErrClosed
	})
}

// liveCompileOptions are the options a capture filter for interface name is
// checked with before the capture opens: those package capture compiles
// it with, for the link type the backend lists for the interface (Ethernet
// for a name it does not list: starting the capture then reports that).
func (s *Server) liveCompileOptions(name string) filter.Options {
	lt := pcapio.LinkTypeEthernet
	if ifs, err := s.live.Interfaces(); err == nil {
		if i := interfaceNamed(ifs, name); i >= 0 {
			lt = ifs[i].LinkType
		}
	}
	return capture.LiveFilterOptions(lt, 0)
}

// liveQueue hands packets from the reader to the indexer in batches: the
// reader fills cur and, when it is full, queues it and takes a free batch;
// the indexer takes the queued batches, and cur too when it holds packets,
// at once when a batch is full and at least every liveFlushEvery. There are
// liveBatches batches in all, so a reader far ahead of the indexer waits
// (and the kernel buffers, or counts drops).
type liveQueue struct {
	mu    sync.Mutex
	cur   *batch        // being filled by the reader
	full  []*batch      // filled, oldest first
	free  []*batch      // empty
	room  *sync.Cond    // signalled when batches are freed
	kick  chan struct{} // cap 1: a batch is full or the reader has ended
	ended bool          // the reader has stopped; cur holds its last packets
	err   error         // why, when not because of Close
	drop  bool          // discard further packets (the limit was reached)
}

func newLiveQueue() *liveQueue {
	q := &liveQueue{cur: &batch{}, kick: make(chan struct{}, 1)}
	for range liveBatches - 1 {
		q.free = append(q.free, &batch{})
	}
	q.room = sync.NewCond(&q.mu)
	return q
}

// fullLocked reports whether cur can take no more packets.
func (q *liveQueue) fullLocked() bool {
	return len(q.cur.pkts) >= livePackets || len(q.cur.data) >= liveBytes
}

// read is the reader: it copies each packet into the queue's batch until
// the source fails or is closed.
func (q *liveQueue) read(src LiveSource) {
	for {
		pkt, err := src.NextZeroCopy()
		q.mu.Lock()
		if err != nil {
			q.ended = true
			if !errors.Is(err, capture.ErrClosed) {
				q.err = err
			}
			q.mu.Unlock()
			q.wake()
			return
		}
		for !q.drop && q.fullLocked() {
			if n := len(q.free); n > 0 {
				q.full = append(q.full, q.cur)
				q.cur, q.free = q.free[n-1], q.free[:n-1]
				q.wake()
				break
			}
			q.wake()
			q.room.Wait()
		}
		if !q.drop {
			b := q.cur
			var ts int64
			if !pkt.Timestamp.IsZero() {
				ts = pkt.Timestamp.UnixNano()
			}
			start := len(b.data)
			b.data = append(b.data, pkt.Data...)
			b.pkts = append(b.pkts, batchPkt{start: start, end: len(b.data), ts: ts, wireLen: pkt.Length, linkType: pkt.LinkType})
			if q.fullLocked() {
				q.wake()
			}
		}
		q.mu.Unlock()
	}
}

func (q *liveQueue) wake() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// take returns the batches to index, oldest first, and whether the reader
// has ended (then they are its last) and why.
func (q *liveQueue) take(dst []*batch) ([]*batch, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	dst = append(dst[:0], q.full...)
	q.full = q.full[:0]
	if len(q.cur.pkts) > 0 {
		switch n := len(q.free); {
		case q.ended:
			dst = append(dst, q.cur)
			q.cur = &batch{}
		case n > 0:
			dst = append(dst, q.cur)
			q.cur, q.free = q.free[n-1], q.free[:n-1]
		}
	}
	return dst, q.ended, q.err
}

// give returns indexed batches to the free list.
func (q *liveQueue) give(bs []*batch) {
	q.mu.Lock()
	for _, b := range bs {
		b.data, b.pkts = b.data[:0], b.pkts[:0]
		q.free = append(q.free, b)
	}
	q.room.Broadcast()
	q.mu.Unlock()
}

// stopTaking makes the reader drop what it reads from now on.
func (q *liveQueue) stopTaking() {
	q.mu.Lock()
	q.drop = true
	q.room.Broadcast()
	q.mu.Unlock()
}

// runLive reads the live source and indexes its packets until it is
// stopped: by request, at the size limit, when deleted, or by a read error.
func (c *Capture) runLive() {
	defer close(c.done)
	l := c.live
	q := newLiveQueue()
	p := &indexPass{c: c, idxW: c.newBufWriter(c.index), sumW: c.newBufWriter(c.sums), lastPub: time.Now()}
	go q.read(l.src)

	var batches []*batch
	var werr error
	full := false // the size limit was reached: later packets are dropped
	tick := time.NewTicker(liveFlushEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-q.kick:
		}
		var ended bool
		var rerr error
		batches, ended, rerr = q.take(batches)
		added := false
		for _, b := range batches {
			if werr != nil || full || len(b.pkts) == 0 {
				continue
			}
			// The disk budget first: the batch's blocks, with room for
			// their index records and summaries.
			charged := blockBytes(b)
			if err := c.disk.charge(charged, int64(len(b.pkts))*indexBytesPerPacket); err != nil {
				full = true
				q.stopTaking()
				c.stopLive(err.Error()) // stops it as --max-live does
				continue
			}
			end := l.spool.end
			n, limited, err := l.spool.add(b, l.maxSpool)
			c.disk.refund(charged - (l.spool.end - end)) // the packets the limit or an error left out
			if err != nil {
				werr = err
				c.stopLive("write error")
			}
			if n > 0 {
				b.pkts = b.pkts[:n]
				p.summarize(b)
				for i := range b.pkts {
					p.add(b.data, &b.pkts[i], &p.sums[i])
				}
				added = true
			}
			if limited {
				full = true
				q.stopTaking()
				c.stopLive(fmt.Sprintf("stopped at the size limit of %s of packet data (pkttap-web --max-live)", formatBytes(l.maxSpool)))
			}
		}
		if added && werr == nil {
			// The spool first: a published record never points past its
			// file's end.
			if werr = l.spool.flush(); werr != nil {
				c.stopLive("write error")
			} else {
				werr = p.publish()
			}
		}
		q.give(batches)
		if ended {
			// Closed before the capture is shown stopped, so that a
			// client that sees it stopped finds the interface let go;
			// Stats then gives the final counts.
			l.src.Close()
		}
		st, serr := l.src.Stats()
		c.mu.Lock()
		changed := serr == nil && st != l.stats || l.spoolBytes != l.spool.data
		if serr == nil {
			l.stats = st
		}
		l.spoolBytes, c.size, c.readBytes = l.spool.data, l.spool.size, l.spool.size
		if ended {
			l.running = false
			switch {
			case werr != nil:
				c.state, c.errMsg = stateError, werr.Error()
			case rerr != nil:
				c.state, c.errMsg = stateError, "capture stopped: "+rerr.Error()
				l.stopReason = "read error"
			default:
				c.state = stateReady
			}
			if l.stopReason == "" {
				l.stopReason = "stopped"
			}
			c.saveMetaLocked()
			c.signalLocked()
		}
		c.mu.Unlock()
		if ended {
			c.notify()
			return
		}
		if changed {
			c.notify()
		}
	}
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

// liveInfoLocked returns the live part of the capture's info (nil for a
// file). c.mu must be held.
func (c *Capture) liveInfoLocked() *LiveInfo {
	l := c.live
	if l == nil {
		return nil
	}
	return &LiveInfo{
		Interface: l.opts.Interface, Filter: l.opts.Filter, Snaplen: l.opts.Snaplen, Promiscuous: l.opts.Promiscuous,
		Running: l.running, Received: l.stats.Received, Dropped: l.stats.Dropped, IfDropped: l.stats.IfDropped,
		SpoolBytes: l.spoolBytes, MaxBytes: l.maxSpool, Started: c.created.UTC().Format(time.RFC3339Nano),
		Stopped: l.stopReason,
	}
}

// liveRunning reports whether c is a live capture still capturing.
func (c *Capture) liveRunning() bool {
	if c.live == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live.running
}

// handleInterfaces lists the interfaces a live capture can open.
func (s *Server) handleInterfaces(w http.ResponseWriter, r *http.Request) {
	if s.cfg.NoLive {
		writeError(w, http.StatusForbidden, errLiveDisabled.Error())
		return
	}
	ifs, err := s.interfaces()
	if err != nil {
		s.log.Warn("list interfaces", "err", err)
		writeError(w, http.StatusInternalServerError, "cannot list the network interfaces: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, ifs)
}

// liveRequest is the JSON body of POST /api/live.
type liveRequest struct {
	Interface   string `json:"interface"`
	Filter      string `json:"filter"`
	Snaplen     int    `json:"snaplen"`
	Promiscuous bool   `json:"promiscuous"`
}

// handleStartLive starts a live capture and answers with its info.
func (s *Server) handleStartLive(w http.ResponseWriter, r *http.Request) {
	if s.cfg.NoLive {
		writeError(w, http.StatusForbidden, errLiveDisabled.Error())
		return
	}
	var req liveRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, `body must be JSON like {"interface": "eth0", "filter": "tcp port 443", "snaplen": 65535, "promiscuous": true}: `+err.Error())
		return
	}
	if req.Interface == "" {
		writeError(w, http.StatusBadRequest, `no interface: say which one in "interface" (GET /api/interfaces lists them)`)
		return
	}
	if strings.TrimSpace(req.Filter) != "" {
		// Opening the capture compiles its filter.
		release, ok := s.enterCompile(w, r)
		if !ok {
			return
		}
		defer release()
	}
	c, err := s.StartLive(LiveOptions{
		Interface: req.Interface, Filter: strings.TrimSpace(req.Filter),
		Snaplen: req.Snaplen, Promiscuous: req.Promiscuous,
	})
	if err != nil {
		s.log.Info("live capture refused", "interface", req.Interface, "err", err)
		var fe *filter.Error
		var pe *capture.PlatformError
		switch {
		case errors.As(err, &fe):
			filterError(w, err)
		case errors.Is(err, errLiveDisabled), errors.Is(err, capture.ErrPermissionDenied):
			writeError(w, http.StatusForbidden, err.Error())
		case errors.Is(err, errNoInterface), errors.Is(err, errInterfaceDown), errors.As(err, &pe), errors.Is(err, errBadSnaplen):
			writeError(w, http.StatusBadRequest, err.Error())
		default:
			writeError(w, http.StatusInternalServerError, err.Error())
		}
		return
	}
	writeJSON(w, http.StatusCreated, c.Info())
}

// handleStop stops a live capture, waits until the packets read so far are
// indexed, and answers with its info. Stopping a stopped capture is
// harmless.
func (s *Server) handleStop(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	if c.live == nil {
		writeError(w, http.StatusConflict, "capture "+c.id+" is a file, not a live capture: there is nothing to stop")
		return
	}
	c.stopLive("stopped by request")
	select {
	case <-c.done:
	case <-r.Context().Done():
		return
	}
	s.log.Info("live capture stopped", "id", c.id, "packets", c.Packets())
	writeJSON(w, http.StatusOK, c.Info())
}
