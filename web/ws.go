package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// wsMinInterval is the shortest time between two state messages to one
// client; wsWriteTimeout is how long one message may take to be accepted
// before the client is dropped as too slow; wsReadLimit is the largest
// message the page may send (a follow request).
const (
	wsMinInterval  = 150 * time.Millisecond
	wsWriteTimeout = 15 * time.Second
	wsReadLimit    = 64 << 10
)

// stateMessage is what the WebSocket carries: a snapshot of every capture,
// with indexing and filter progress.
type stateMessage struct {
	Type     string        `json:"type"` // "state"
	Captures []CaptureInfo `json:"captures"`
}

// handleWS streams state snapshots to the browser and, while the page
// follows the end of a capture's list, the rows of its new packets (see
// pusher). A client never has more than one state message in flight: the
// next snapshot is taken only after the previous write has been accepted,
// so a slow browser gets fewer, fresher snapshots instead of a growing
// queue; pushed rows are coalesced the same way (pushQueue). A client
// that accepts nothing within wsWriteTimeout is dropped. coder/websocket
// checks that the Origin is this server's host.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.log.Info("websocket refused", "origin", r.Header.Get("Origin"), "err", err)
		return // Accept has written the error response
	}
	defer conn.CloseNow()
	conn.SetReadLimit(wsReadLimit)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	p := &pusher{s: s, q: newPushQueue(maxPushRows), follows: make(chan *listFollow)}
	go func() {
		defer cancel()
		if err := p.serveFollows(ctx, conn); websocket.CloseStatus(err) == -1 && ctx.Err() == nil {
			conn.Close(websocket.StatusUnsupportedData, err.Error())
		}
	}()
	go p.run(ctx)
	go func() {
		defer cancel()
		if err := p.write(ctx, conn); err != nil && ctx.Err() == nil {
			conn.Close(websocket.StatusPolicyViolation, "client too slow")
		}
	}()
	for {
		changed := s.pool.Changed()
		msg, err := json.Marshal(stateMessage{Type: "state", Captures: s.Captures()})
		if err != nil {
			conn.Close(websocket.StatusInternalError, "encode state")
			return
		}
		wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
		err = conn.Write(wctx, websocket.MessageText, msg)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				conn.Close(websocket.StatusPolicyViolation, "client too slow")
			}
			return
		}
		select {
		case <-ctx.Done():
			conn.Close(websocket.StatusNormalClosure, "")
			return
		case <-time.After(wsMinInterval):
		}
		select {
		case <-ctx.Done():
			conn.Close(websocket.StatusNormalClosure, "")
			return
		case <-changed:
		}
	}
}
