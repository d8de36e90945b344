package web

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/follow"
	"github.com/pkttap/pkttap/store"
)

// FollowResponse is a page of GET /api/captures/{id}/follow: the stream's
// nodes and totals, and the formatted pieces of the bytes [offset, next)
// of the selected direction(s).
type FollowResponse struct {
	Proto       string        `json:"proto"`
	Stream      uint32        `json:"stream"`
	Filter      string        `json:"filter"` // the display filter of the stream
	Client      string        `json:"client"` // node 0: ADDR:PORT, [ADDR]:PORT for IPv6
	Server      string        `json:"server"` // node 1
	Format      string        `json:"format"`
	Dir         string        `json:"dir"` // both, client or server
	Packets     int           `json:"packets"`
	Chunks      int           `json:"chunks"`
	ClientBytes int64         `json:"clientBytes"`
	ServerBytes int64         `json:"serverBytes"`
	Total       int64         `json:"total"` // bytes of the selected direction(s)
	Offset      int64         `json:"offset"`
	Next        int64         `json:"next"` // the next page's offset; Total at the end
	Capturing   bool          `json:"capturing,omitempty"`
	Pieces      []FollowPiece `json:"pieces"`
}

// FollowPiece is a chunk of a followed stream, or the part of one a page
// holds, formatted.
type FollowPiece struct {
	Dir    uint8  `json:"dir"`    // 0 client, 1 server
	No     uint32 `json:"no"`     // the packet's number
	Offset int64  `json:"offset"` // among the selected bytes
	Len    int    `json:"len"`
	Gap    bool   `json:"gap,omitempty"` // bytes the capture missed
	Text   string `json:"text"`
}

// followPageDefault and followPageMax bound a page's bytes.
const (
	followPageDefault = 64 << 10
	followPageMax     = 1 << 20
)

// followCache keeps the maps of the streams followed last: paging through
// a stream reads its map once. A live capture's map is made again when
// packets have arrived.
var followCache = struct {
	sync.Mutex
	maps []followEntry
}{}

type followEntry struct {
	id string // capture/proto/stream
	m  *store.FollowMap
}

// followCacheSize is how many followed streams' maps are kept.
const followCacheSize = 16

// followMap returns the map of a stream of c, from the cache when no
// packet has arrived since it was made. Two requests for a new stream at
// once both make it.
func followMap(r *http.Request, c *store.Store, p follow.Proto, stream uint32) (*store.FollowMap, error) {
	id := c.ID() + "/" + p.String() + "/" + strconv.FormatUint(uint64(stream), 10)
	n := c.Count()
	followCache.Lock()
	for _, e := range followCache.maps {
		if e.id == id && e.m.Packets == n {
			followCache.Unlock()
			return e.m, nil
		}
	}
	followCache.Unlock()
	m, err := c.Follow(r.Context(), p, stream)
	if err != nil {
		return nil, err
	}
	followCache.Lock()
	defer followCache.Unlock()
	maps := followCache.maps[:0]
	for _, e := range followCache.maps {
		if e.id != id {
			maps = append(maps, e)
		}
	}
	if len(maps) >= followCacheSize {
		maps = append(maps[:0], maps[1:]...)
	}
	followCache.maps = append(maps, followEntry{id: id, m: m})
	return m, nil
}

// handleFollow answers GET /api/captures/{id}/follow?proto=tcp&stream=N
// (or &packet=NO, the stream of that packet):
// a page of the stream's payload in ?format= (ascii, hex, carray, raw,
// utf8), of ?dir= (both, client, server), from byte ?offset= for about
// ?limit= bytes; with ?download=1 the whole selection as a file (raw: the
// bytes themselves).
func (s *Server) handleFollow(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	proto, err := follow.ParseProto(q.Get("proto"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "parameter proto: "+err.Error())
		return
	}
	stream, ok := followStreamParam(w, r, c, proto)
	if !ok {
		return
	}
	format := follow.FormatASCII
	if f := q.Get("format"); f != "" {
		if format, err = follow.ParseFormat(f); err != nil {
			writeError(w, http.StatusBadRequest, "parameter format: "+err.Error())
			return
		}
	}
	dir := -1
	switch d := q.Get("dir"); d {
	case "", "both":
	case "client", "0":
		dir = 0
	case "server", "1":
		dir = 1
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("parameter dir must be both, client or server, not %q", d))
		return
	}
	offset, limit := int64(0), int64(followPageDefault)
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.ParseInt(v, 10, 64); err != nil || offset < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("parameter offset must be a byte offset (0 or more), not %q", v))
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.ParseInt(v, 10, 64); err != nil || limit < 1 || limit > followPageMax {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("parameter limit must be 1 to %d bytes, not %q", followPageMax, v))
			return
		}
	}
	m, err := followMap(r, c, proto, uint32(stream))
	switch {
	case r.Context().Err() != nil:
		return
	case errors.Is(err, store.ErrNoStreams):
		writeError(w, http.StatusConflict, err.Error()+": open the file again to index its streams")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	sel := selectChunks(m, dir)
	if q.Get("download") == "1" {
		s.followDownload(w, r, c, m, sel, dir, format)
		return
	}
	resp := FollowResponse{
		Proto: proto.String(), Stream: uint32(stream), Filter: proto.StreamFilter(uint32(stream)),
		Client: m.Client.String(), Server: m.Server.String(), Format: format.String(), Dir: dirName(dir),
		Packets: m.StreamPackets, Chunks: len(m.Chunks), ClientBytes: m.Total[0], ServerBytes: m.Total[1],
		Offset: offset, Capturing: c.Info().State == store.StateCapturing, Pieces: []FollowPiece{},
	}
	resp.Total = m.Total[0] + m.Total[1]
	if dir >= 0 {
		resp.Total = m.Total[dir]
	}
	start := func(k int) int64 {
		if dir < 0 {
			return m.Chunks[sel[k]].Start
		}
		return m.Chunks[sel[k]].DirStart
	}
	// The first chunk that ends past offset; whole chunks up to limit
	// bytes, a chunk longer than that cut.
	k := sort.Search(len(sel), func(k int) bool { return start(k)+int64(m.Chunks[sel[k]].Len) > offset })
	pos, used := offset, int64(0)
	var text []byte
	for ; k < len(sel) && used < limit; k++ {
		ch := &m.Chunks[sel[k]]
		data, err := c.ChunkData(ch)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		skip := pos - start(k)
		data = data[skip:]
		if rest := limit - used; int64(len(data)) > rest && used > 0 {
			break // the next page starts with this chunk
		} else if int64(len(data)) > rest {
			data = data[:rest]
		}
		text = follow.AppendFormat(text[:0], format, &follow.Piece{Dir: ch.Dir, DirOff: ch.DirStart + skip, Frame: ch.No, Index: int(ch.DirIndex), Data: data})
		resp.Pieces = append(resp.Pieces, FollowPiece{Dir: ch.Dir, No: ch.No, Offset: pos, Len: len(data), Gap: ch.Missing != 0, Text: string(text)})
		pos += int64(len(data))
		used += int64(len(data))
	}
	resp.Next = max(pos, min(offset, resp.Total))
	writeJSON(w, http.StatusOK, resp)
}

// followStreamParam reads the stream to follow: ?stream=N, or ?packet=NO
// for the stream packet NO belongs to (404 when it has none).
func followStreamParam(w http.ResponseWriter, r *http.Request, c *store.Store, proto follow.Proto) (uint64, bool) {
	q := r.URL.Query()
	if q.Get("stream") == "" && q.Get("packet") != "" {
		no, err := strconv.Atoi(q.Get("packet"))
		if err != nil || no < 1 || no > c.Count() {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("parameter packet must be a packet number from 1 to %d, not %q", c.Count(), q.Get("packet")))
			return 0, false
		}
		p, err := c.Packet(no, dissect.Options{})
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return 0, false
		}
		id := uint32(0)
		if p.Stream != nil {
			id = p.Stream.TCPStream
			if proto == follow.UDP {
				id = p.Stream.UDPStream
			}
		}
		if id == 0 {
			writeError(w, http.StatusNotFound, fmt.Sprintf("packet %d belongs to no %s stream", no, strings.ToUpper(proto.String())))
			return 0, false
		}
		return uint64(id - 1), true
	}
	stream, err := strconv.ParseUint(q.Get("stream"), 10, 32)
	if err != nil || stream >= 1<<32-1 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("parameter stream must be a %s.stream number (0, 1, ...), or packet a packet number, not %q", proto, q.Get("stream")))
		return 0, false
	}
	return stream, true
}

// selectChunks returns the indices of m's chunks of direction dir (-1:
// both).
func selectChunks(m *store.FollowMap, dir int) []int {
	sel := make([]int, 0, len(m.Chunks))
	for i := range m.Chunks {
		if dir < 0 || int(m.Chunks[i].Dir) == dir {
			sel = append(sel, i)
		}
	}
	return sel
}

func dirName(dir int) string {
	switch dir {
	case 0:
		return "client"
	case 1:
		return "server"
	}
	return "both"
}

// followDownload writes the selected chunks as a file: raw bytes for the
// raw format, else the formatted text. It reads and writes a chunk at a
// time.
func (s *Server) followDownload(w http.ResponseWriter, r *http.Request, c *store.Store, m *store.FollowMap, sel []int, dir int, format follow.Format) {
	ext, ctype := ".txt", "text/plain; charset=utf-8"
	if format == follow.FormatRaw {
		ext, ctype = ".bin", "application/octet-stream"
	}
	name := fmt.Sprintf("%s-stream-%d-%s%s", m.Proto, m.Stream, dirName(dir), ext)
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	var out []byte
	for _, i := range sel {
		if r.Context().Err() != nil {
			return
		}
		ch := &m.Chunks[i]
		data, err := c.ChunkData(ch)
		if err != nil {
			if len(out) == 0 && i == sel[0] {
				writeError(w, http.StatusInternalServerError, err.Error())
			}
			return
		}
		out = out[:0]
		if format == follow.FormatRaw {
			out = append(out, data...)
		} else {
			out = follow.AppendFormat(out, format, &follow.Piece{Dir: ch.Dir, DirOff: ch.DirStart, Frame: ch.No, Index: int(ch.DirIndex), Data: data})
			if format != follow.FormatCArray && format != follow.FormatHex {
				out = append(out, '\n')
			}
		}
		if _, err := w.Write(out); err != nil {
			return
		}
	}
}
