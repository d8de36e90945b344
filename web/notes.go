package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pkttap/pkttap/store"
)

// Marks, ignores, packet comments and Export Specified Packets: the
// handlers of Wireshark's Edit menu and export dialog.

// Notes is a capture's marks, ignores and edited comments as the API
// gives them.
type Notes = store.Notes

// NotesResponse answers a change of marks or ignores.
type NotesResponse struct {
	Changed int `json:"changed"` // packets the operation applied to
	Notes
}

// CommentResponse answers a comment edit.
type CommentResponse struct {
	No      int    `json:"no"`
	Comment string `json:"comment"`
}

// ExportCheck answers an export with ?check=1: what it would write.
type ExportCheck struct {
	Packets int `json:"packets"` // packets the file would hold
	Ignored int `json:"ignored"` // ignored packets among those named, whether left out or not
}

// maxNotesBody bounds the JSON body of a marks change.
const maxNotesBody = 64 << 10

// maxCommentBody bounds the JSON body of a comment edit: a comment of
// store.MaxCommentLen bytes, each escaped as \uXXXX at worst, and the rest.
const maxCommentBody = 6*store.MaxCommentLen + 1024

func (s *Server) handleNotes(w http.ResponseWriter, r *http.Request) {
	if c, ok := s.captureParam(w, r); ok {
		writeJSON(w, http.StatusOK, c.Notes())
	}
}

// handleChangeNotes marks, unmarks, ignores or unignores packets: the JSON
// body {"op": "toggle-mark", "packets": "5", "filter": "tcp"} names the
// operation, the packets (a range; all when none is given) and, with a
// filter, only those it displays.
func (s *Server) handleChangeNotes(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	var body struct {
		Op      string `json:"op"`
		Packets string `json:"packets"`
		Filter  string `json:"filter"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxNotesBody)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, `body must be JSON like {"op": "toggle-mark", "packets": "5", "filter": ""}: `+err.Error())
		return
	}
	op, err := store.ParseNoteOp(body.Op)
	if err != nil {
		writeError(w, http.StatusBadRequest, "op: "+err.Error())
		return
	}
	set := store.PacketSet{}
	if strings.TrimSpace(body.Packets) != "" {
		if set.Range, err = store.ParseRange(body.Packets); err != nil {
			writeError(w, http.StatusBadRequest, "packets: "+err.Error())
			return
		}
		set.Which = store.WhichRange
	}
	if expr := store.NormalizeFilter(body.Filter); expr != "" {
		if set.Filter = s.job(w, r, c, expr); set.Filter == nil {
			return
		}
	}
	n, err := c.Annotate(r.Context(), op, set)
	switch {
	case r.Context().Err() != nil:
		return // the client has gone
	case errors.Is(err, store.ErrDeleted):
		writeError(w, http.StatusNotFound, err.Error())
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, NotesResponse{Changed: n, Notes: c.Notes()})
}

// handleComment sets packet {no}'s comment from the JSON body
// {"comment": "..."} (PUT; "" removes it) or removes it (DELETE).
func (s *Server) handleComment(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	no, ok := packetNoParam(w, r, c)
	if !ok {
		return
	}
	var body struct {
		Comment *string `json:"comment"`
	}
	if r.Method == http.MethodPut {
		err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCommentBody)).Decode(&body)
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusBadRequest, fmt.Sprintf("comment too long: a pcapng comment holds at most %d bytes", store.MaxCommentLen))
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, `body must be JSON like {"comment": "text"}: `+err.Error())
			return
		case body.Comment == nil:
			writeError(w, http.StatusBadRequest, `body must be JSON like {"comment": "text"} ("" removes the comment)`)
			return
		}
	} else {
		body.Comment = new(string)
	}
	err := c.SetComment(no, *body.Comment)
	switch {
	case errors.Is(err, store.ErrCommentTooLong), errors.Is(err, store.ErrBadComment):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case errors.Is(err, store.ErrDeleted):
		writeError(w, http.StatusNotFound, err.Error())
		return
	case errors.Is(err, store.ErrCommentsFull):
		writeError(w, http.StatusInsufficientStorage, err.Error())
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if r.Method == http.MethodDelete {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, CommentResponse{No: no, Comment: *body.Comment})
}

// handleExport is Export Specified Packets: it streams the packets that
// ?packets= (all, selected, marked, first-last-marked, range) names, of
// every packet or of those ?filter= displays, with ?range= the packet
// numbers of range and ?selected= those of selected, leaving ignored
// packets out with ?ignored=remove, as ?format=pcap or pcapng. With
// ?check=1 it answers what the file would hold (ExportCheck) or the
// refusal the export would get.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	format, ext, ok := formatParam(w, r)
	if !ok {
		return
	}
	set, ok := packetSetParams(w, r)
	if !ok {
		return
	}
	expr := store.NormalizeFilter(q.Get("filter"))
	if expr != "" {
		if set.Filter = s.job(w, r, c, expr); set.Filter == nil {
			return
		}
	}
	d, sel, err := c.Export(r.Context(), set, format)
	if !downloadError(w, r, err) {
		return
	}
	if q.Get("check") == "1" {
		writeJSON(w, http.StatusOK, ExportCheck{Packets: len(sel.Indices), Ignored: sel.Ignored})
		return
	}
	name := expr
	if set.Which != store.WhichAll {
		name = strings.TrimSpace(name + " " + set.Which.String())
	}
	s.streamDownload(w, r, c, d, downloadName(c.Name(), name, ext))
}

// packetSetParams reads the packets an export names (see handleExport),
// answering a bad parameter with 400.
func packetSetParams(w http.ResponseWriter, r *http.Request) (store.PacketSet, bool) {
	q := r.URL.Query()
	var set store.PacketSet
	which, err := store.ParseWhich(cmp.Or(q.Get("packets"), "all"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "packets: "+err.Error())
		return set, false
	}
	set.Which = which
	if param := map[store.Which]string{store.WhichRange: "range", store.WhichSelected: "selected"}[which]; param != "" {
		if set.Range, err = store.ParseRange(q.Get(param)); err != nil {
			writeError(w, http.StatusBadRequest, param+": "+err.Error())
			return set, false
		}
	}
	switch v := q.Get("ignored"); v {
	case "", "keep":
	case "remove":
		set.RemoveIgnored = true
	default:
		writeError(w, http.StatusBadRequest, "ignored must be keep (the default) or remove, not "+strconv.Quote(v))
		return set, false
	}
	return set, true
}

// noteTree adds a packet's notes to its tree as Wireshark shows them: its
// comments first ("Packet comments", field frame.comment), "[Frame is
// marked: True]" and "[Frame is ignored: True]" in the frame layer, and of
// an ignored packet nothing but the frame layer (it is not dissected).
func noteTree(p store.Packet, tree []TreeNode) []TreeNode {
	if p.Ignored && len(tree) > 1 {
		tree = tree[:1]
	}
	if len(tree) > 0 {
		frame := &tree[0]
		if p.Marked {
			frame.Children = append(frame.Children, TreeNode{Label: "[Frame is marked: True]", Field: "frame.marked"})
		}
		if p.Ignored {
			frame.Children = append(frame.Children, TreeNode{Label: "[Frame is ignored: True]", Field: "frame.ignored"})
		}
	}
	if p.Comment != "" {
		comments := TreeNode{Label: "Packet comments"}
		for _, line := range strings.Split(p.Comment, "\n") {
			comments.Children = append(comments.Children, TreeNode{Label: line, Field: "frame.comment"})
		}
		tree = append([]TreeNode{comments}, tree...)
	}
	return tree
}
