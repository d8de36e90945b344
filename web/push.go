package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/pkttap/pkttap/store"
)

// maxPushRows is the most rows a follow asks to be kept in view (its
// window) and the most one connection's queue holds: a slow browser gets
// the newest maxPushRows rows, and a count of those it skipped, never a
// longer queue.
const maxPushRows = 256

// followRequest is what the page sends over the WebSocket to follow the
// end of a capture's packet list: {"type": "follow", "capture": ID, "key":
// its own name for the view, "query": the query of its rows requests
// (filter, checksums, names, color, fields: everything but start and count
// and sort), "window": the rows it shows at the end, "from": the display
// position of the first row it has not got}. {"type": "unfollow"} stops
// it. A new follow replaces the previous one. {"type": "select",
// "capture": ID, "key": …, "query": …, "no": N} asks for packet N as GET
// …/packets/N with the query serves it (its bytes, tree and row), pushed
// as a packetPush: the page selects packets this way while it follows.
type followRequest struct {
	Type    string `json:"type"`
	Capture string `json:"capture"`
	Key     string `json:"key"`
	Query   string `json:"query"`
	Window  int    `json:"window"`
	From    int    `json:"from"`
	No      int    `json:"no,omitempty"`
}

// packetPush is a packet the page selected (a select request), as GET
// …/packets/{no} serves it.
type packetPush struct {
	Type    string         `json:"type"` // "packet"
	Capture string         `json:"capture"`
	Key     string         `json:"key"`
	No      int            `json:"no"`
	Packet  PacketResponse `json:"packet"`
}

// rowsPush is a batch of the followed list's newest rows, as the server
// pushes it: the rows at display positions [Start, Start+len(Rows)),
// exactly as GET …/rows with the follow's query serves them (Fields, the
// custom columns of each, too). Skipped rows before Start were never sent
// to this follow (a slow browser gets the newest window only: those are
// fetched with GET …/rows when scrolled to). Total, Displayed and Indexing
// are as in RowsResponse.
type rowsPush struct {
	Type      string     `json:"type"` // "rows"
	Capture   string     `json:"capture"`
	Key       string     `json:"key"`
	Start     int        `json:"start"`
	Skipped   int        `json:"skipped"`
	Total     int        `json:"total"`
	Displayed int        `json:"displayed"`
	Indexing  bool       `json:"indexing"`
	Rows      []Row      `json:"rows"`
	Fields    [][]string `json:"fields,omitempty"`

	window int // the follow's window: the most rows worth sending at once
}

// end is the display position after the batch's last row.
func (b *rowsPush) end() int { return b.Start + len(b.Rows) }

// followError says why a follow was refused or ended: the page asks for
// rows with GET …/rows instead.
type followError struct {
	Type    string `json:"type"` // "follow-error"
	Capture string `json:"capture"`
	Key     string `json:"key"`
	Error   string `json:"error"`
}

// pushQueue is one connection's queue of pushed rows: one pending batch
// that batches put while the connection is busy writing are merged into,
// trimmed to its newest rows (the follow's window, at most limit; the
// trimmed counted as skipped), so a
// browser that reads slowly, or not at all, never makes it grow. A batch
// of another view (key) replaces the pending one; so does one that skipped
// rows after it (its rows would not follow on). A note (a follow error)
// waits beside it, a newer one replacing it.
type pushQueue struct {
	limit int
	ready chan struct{} // cap 1: something is pending

	mu      sync.Mutex
	rows    *rowsPush
	note    any
	packet  *packetPush
	highest int // the most rows ever pending, for tests
}

func newPushQueue(limit int) *pushQueue {
	return &pushQueue{limit: limit, ready: make(chan struct{}, 1)}
}

// put queues batch b, merging it with the pending one.
func (q *pushQueue) put(b *rowsPush) {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.rows
	switch {
	case p == nil || p.Key != b.Key || p.Capture != b.Capture || b.Start < p.end():
		q.rows = b
	case b.Skipped > 0 || b.Start > p.end():
		// A gap: the pending rows no longer lead to b's.
		b.Skipped += p.Skipped + len(p.Rows) + (b.Start - b.Skipped - p.end())
		q.rows = b
	default:
		p.Rows = append(p.Rows, b.Rows...)
		if p.Fields != nil || b.Fields != nil {
			p.Fields = append(p.Fields, b.Fields...)
		}
		p.Total, p.Displayed, p.Indexing = b.Total, b.Displayed, b.Indexing
	}
	r := q.rows
	keep := q.limit
	if r.window > 0 {
		keep = min(keep, r.window)
	}
	if d := len(r.Rows) - keep; d > 0 {
		r.Rows = append(r.Rows[:0:0], r.Rows[d:]...)
		if len(r.Fields) > d {
			r.Fields = append(r.Fields[:0:0], r.Fields[d:]...)
		}
		r.Start += d
		r.Skipped += d
	}
	q.highest = max(q.highest, len(r.Rows))
	q.signal()
}

// putNote queues a message other than rows, replacing a pending one.
func (q *pushQueue) putNote(m any) {
	q.mu.Lock()
	q.note = m
	q.signal()
	q.mu.Unlock()
}

// putPacket queues a selected packet, replacing a pending one.
func (q *pushQueue) putPacket(p *packetPush) {
	q.mu.Lock()
	q.packet = p
	q.signal()
	q.mu.Unlock()
}

// drop forgets the pending rows (the page no longer follows).
func (q *pushQueue) drop() {
	q.mu.Lock()
	q.rows = nil
	q.mu.Unlock()
}

func (q *pushQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take waits for what is pending and takes it: the note first, then the
// selected packet, then the rows. It returns nil when ctx ends.
func (q *pushQueue) take(ctx context.Context) any {
	for {
		q.mu.Lock()
		var m any
		switch {
		case q.note != nil:
			m, q.note = q.note, nil
		case q.packet != nil:
			m, q.packet = q.packet, nil
		case q.rows != nil:
			m, q.rows = q.rows, nil
		}
		more := q.note != nil || q.packet != nil || q.rows != nil
		q.mu.Unlock()
		if more {
			q.signal()
		}
		if m != nil {
			return m
		}
		select {
		case <-ctx.Done():
			return nil
		case <-q.ready:
		}
	}
}

// pushCounters count what the server's pushes held, for tests: the most
// rows one connection's queue ever held.
type pushCounters struct {
	highest atomic.Int64
}

// listFollow is a follow request (of the list's end) the server accepted.
type listFollow struct {
	req    followRequest
	c      *store.Store
	expr   string // the normalized filter, "" for none
	view   rowView
	window int
}

// parseFollow checks a follow request and returns what it asks for, or an
// error the page is told.
func (s *Server) parseFollow(req followRequest) (*listFollow, error) {
	c, ok := s.capture(req.Capture)
	if !ok {
		return nil, fmt.Errorf("no capture with id %q (it may have been deleted)", req.Capture)
	}
	q, err := url.ParseQuery(req.Query)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", req.Query, err)
	}
	if q.Get("sort") != "" {
		return nil, errors.New("a sorted list does not follow the capture's end: its new rows land anywhere")
	}
	f := &listFollow{req: req, c: c, expr: store.NormalizeFilter(q.Get("filter")), window: min(max(req.Window, 1), maxPushRows)}
	if f.view, err = parseRowView(q); err != nil {
		return nil, err
	}
	return f, nil
}

// pusher pushes the rows of the list one connection follows.
type pusher struct {
	s       *Server
	q       *pushQueue
	follows chan *listFollow // nil: unfollow
}

// serveFollows reads the page's messages until the connection ends,
// handing follow requests to the pusher; a refused one is answered with
// a follow-error.
func (p *pusher) serveFollows(ctx context.Context, conn *websocket.Conn) error {
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		var req followRequest
		if err := json.Unmarshal(b, &req); err != nil {
			return fmt.Errorf("message from the page: %w", err)
		}
		var f *listFollow
		switch req.Type {
		case "follow":
			if f, err = p.s.parseFollow(req); err != nil {
				p.q.putNote(followError{Type: "follow-error", Capture: req.Capture, Key: req.Key, Error: err.Error()})
			}
		case "unfollow":
		case "select":
			p.selected(req)
			continue
		default:
			return fmt.Errorf("message from the page: unknown type %q", req.Type)
		}
		select {
		case p.follows <- f:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// selected pushes the packet a select request asks for, or a
// follow-error saying why it cannot.
func (p *pusher) selected(req followRequest) {
	fail := func(err error) {
		p.q.putNote(followError{Type: "follow-error", Capture: req.Capture, Key: req.Key, Error: err.Error()})
	}
	c, ok := p.s.capture(req.Capture)
	if !ok {
		fail(fmt.Errorf("no capture with id %q (it may have been deleted)", req.Capture))
		return
	}
	q, err := url.ParseQuery(req.Query)
	if err != nil {
		fail(fmt.Errorf("query %q: %w", req.Query, err))
		return
	}
	opts, err := decodeOptions(q)
	if err != nil {
		fail(err)
		return
	}
	if req.No < 1 || req.No > c.Count() {
		fail(fmt.Errorf("packet number must be between 1 and %d", c.Count()))
		return
	}
	pkt, err := packetResponse(c, req.No, opts)
	if err != nil {
		fail(err)
		return
	}
	p.q.putPacket(&packetPush{Type: "packet", Capture: c.ID(), Key: req.Key, No: req.No, Packet: pkt})
}

// run pushes the followed list's new rows after each change of the pool
// (packets published, a filter job's progress) until ctx ends. The first
// batch of a follow comes at once, rows or not, so the page knows it is
// followed.
func (p *pusher) run(ctx context.Context) {
	var f *listFollow
	var sent int // display position after the last row produced
	fresh := false
	for {
		changed := p.s.pool.Changed()
		if f != nil {
			var err error
			if sent, err = p.produce(f, sent, fresh); err != nil {
				p.q.putNote(followError{Type: "follow-error", Capture: f.req.Capture, Key: f.req.Key, Error: err.Error()})
				f = nil
			}
			fresh = false
		}
		select {
		case <-ctx.Done():
			return
		case nf := <-p.follows:
			if f != nil && nf == nil {
				p.q.drop()
			}
			f, fresh = nf, true
			if f != nil {
				sent = max(f.req.From, 0)
			}
		case <-changed:
		}
	}
}

// produce queues the rows of f from display position sent up to the last
// one displayed, at most f.window of them (the newest; the others are
// skipped), and returns where the next batch starts. It queues nothing
// when there is nothing new, unless fresh (the follow's first batch).
func (p *pusher) produce(f *listFollow, sent int, fresh bool) (int, error) {
	c := f.c
	if cur, ok := p.s.capture(c.ID()); !ok || cur != c {
		return sent, errors.New("the capture was deleted")
	}
	indexing := c.Indexing() // first: a batch not indexing has every packet
	var j *store.Job
	displayed := c.Count()
	if f.expr != "" {
		if j = c.LookupFilter(f.expr); j == nil {
			return sent, fmt.Errorf("no filter job for %q: apply the filter again", f.expr)
		}
		displayed = c.FilterStatus(j).Matched
	}
	if displayed <= sent && !fresh {
		return sent, nil
	}
	start := max(sent, displayed-f.window)
	if start > displayed {
		start = displayed // the page counted more than there are: send the end
	}
	page, err := c.Rows(start, displayed-start, j, f.view.opts)
	if err != nil {
		return sent, fmt.Errorf("rows: %w", err)
	}
	fields, err := f.view.decorate(c, page.Rows)
	if err != nil {
		return sent, fmt.Errorf("rows: %w", err)
	}
	skipped := max(start-sent, 0)
	p.q.put(&rowsPush{
		Type: "rows", Capture: c.ID(), Key: f.req.Key, Start: start, Skipped: skipped,
		Total: page.Total, Displayed: max(page.Displayed, start+len(page.Rows)), Indexing: indexing,
		Rows: page.Rows, Fields: fields, window: f.window,
	})
	return start + len(page.Rows), nil
}

// write sends what the queue holds, one message at a time, until ctx ends
// or a write fails (a browser that takes none within wsWriteTimeout is
// dropped); it returns the write's error.
func (p *pusher) write(ctx context.Context, conn *websocket.Conn) error {
	for {
		m := p.q.take(ctx)
		if m == nil {
			return ctx.Err()
		}
		p.s.pushed.noteHighest(p.q)
		b, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode a push: %w", err)
		}
		wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
		err = conn.Write(wctx, websocket.MessageText, b)
		cancel()
		if err != nil {
			return err
		}
	}
}

// noteHighest takes q's most pending rows into the server's count.
func (pc *pushCounters) noteHighest(q *pushQueue) {
	q.mu.Lock()
	h := int64(q.highest)
	q.mu.Unlock()
	for {
		old := pc.highest.Load()
		if h <= old || pc.highest.CompareAndSwap(old, h) {
			return
		}
	}
}
