package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// A capture's marks, ignores and edited packet comments (Wireshark's Mark
// Packet, Ignore Packet and Packet Comment) are kept in its folder, in
// notesName, written atomically on every change, so they outlive a
// restart of the pool; a capture opened in place keeps them as long as it
// is open.
const (
	notesName    = "annotations.json"
	notesTemp    = "annotations.json.tmp"
	notesVersion = 1
)

// Limits of packet comments: one is a pcapng option (at most 65535 bytes
// of UTF-8); all the comments edited in one capture hold at most
// MaxCommentBytes.
const (
	MaxCommentLen   = 0xffff
	MaxCommentBytes = 16 << 20
)

// maxCommentBytes is MaxCommentBytes, which tests lower.
var maxCommentBytes = MaxCommentBytes

// Errors of comment edits.
var (
	ErrCommentTooLong = errors.New("comment too long")
	ErrCommentsFull   = errors.New("comments full")
	ErrBadComment     = errors.New("comment is not UTF-8")
)

// notes are a store's marks, ignores and edited comments. The state is
// replaced whole on each change (copy on write), so readers take it without
// waiting for a change to be saved.
type notes struct {
	mu     sync.Mutex // held by a change while it is made and saved
	loaded bool
	gone   bool // the store's folder is being removed: no more changes
	cur    atomic.Pointer[noteState]
}

// noteState is one version of a store's notes. It is never changed once
// published.
type noteState struct {
	marked, ignored bitset
	// comments are the edited comments by packet index: they replace the
	// file's; "" removes the file's comment.
	comments     map[int]string
	commentBytes int
}

// clone returns a copy of n that can be changed.
func (n *noteState) clone() *noteState {
	c := &noteState{marked: n.marked.clone(), ignored: n.ignored.clone(), comments: make(map[int]string, len(n.comments)), commentBytes: n.commentBytes}
	for k, v := range n.comments {
		c.comments[k] = v
	}
	return c
}

// noteFile is notesName's content.
type noteFile struct {
	Version  int               `json:"version"`
	Marked   string            `json:"marked,omitempty"`   // packet numbers, as ParseRange reads them
	Ignored  string            `json:"ignored,omitempty"`  // packet numbers
	Comments map[string]string `json:"comments,omitempty"` // by packet number
}

// notes returns the store's notes as they are now, reading them from its
// folder the first time.
func (s *Store) notes() *noteState {
	if n := s.note.cur.Load(); n != nil {
		return n
	}
	s.note.mu.Lock()
	defer s.note.mu.Unlock()
	return s.notesLocked()
}

// notesLocked is notes with s.note.mu held.
func (s *Store) notesLocked() *noteState {
	if !s.note.loaded {
		n, err := readNotes(s.dir)
		if err != nil {
			s.pool.log.Warn("capture notes: starting without them", "id", s.id, "err", err)
			n = &noteState{comments: map[int]string{}}
		}
		s.note.cur.Store(n)
		s.note.loaded = true
	}
	return s.note.cur.Load()
}

// changeNotes applies change to a copy of the notes, saves it, and
// publishes it; on an error the notes stay as they were.
func (s *Store) changeNotes(change func(n *noteState) error) error {
	s.note.mu.Lock()
	defer s.note.mu.Unlock()
	if s.note.gone {
		return fmt.Errorf("capture %s: %w", s.id, ErrDeleted)
	}
	next := s.notesLocked().clone()
	if err := change(next); err != nil {
		return err
	}
	if err := writeNotes(s.dir, next); err != nil {
		return err
	}
	s.note.cur.Store(next)
	return nil
}

// ErrDeleted refuses a change to a store being deleted.
var ErrDeleted = errors.New("capture deleted")

// forgetNotes stops changes to the notes before the store's folder is
// removed, waiting for one being saved.
func (s *Store) forgetNotes() {
	s.note.mu.Lock()
	s.note.gone = true
	s.note.mu.Unlock()
}

// readNotes reads the notes kept in dir; none is no error.
func readNotes(dir string) (*noteState, error) {
	n := &noteState{comments: map[int]string{}}
	b, err := os.ReadFile(filepath.Join(dir, notesName))
	if errors.Is(err, fs.ErrNotExist) {
		return n, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", notesName, err)
	}
	var f noteFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", notesName, err)
	}
	if f.Version != notesVersion {
		return nil, fmt.Errorf("%s: version %d: %w", notesName, f.Version, errMetaVersion)
	}
	for _, set := range []struct {
		text string
		bs   *bitset
	}{{f.Marked, &n.marked}, {f.Ignored, &n.ignored}} {
		if set.text == "" {
			continue
		}
		r, err := parseRange(set.text, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", notesName, err)
		}
		for _, sp := range r.spans {
			if sp.hi == 0 || sp.hi-sp.lo > 1<<32 {
				return nil, fmt.Errorf("%s: open or huge range %d-%d", notesName, sp.lo, sp.hi)
			}
			for no := sp.lo; no <= sp.hi; no++ {
				set.bs.set(no-1, true)
			}
		}
	}
	for k, v := range f.Comments {
		no, err := strconv.Atoi(k)
		if err != nil || no < 1 {
			return nil, fmt.Errorf("%s: comment of packet %q", notesName, k)
		}
		n.comments[no-1] = v
		n.commentBytes += len(v)
	}
	return n, nil
}

// writeNotes writes n to dir's notes file atomically.
func writeNotes(dir string, n *noteState) error {
	f := noteFile{Version: notesVersion, Marked: n.marked.String(), Ignored: n.ignored.String()}
	if len(n.comments) > 0 {
		f.Comments = make(map[string]string, len(n.comments))
		for i, c := range n.comments {
			f.Comments[strconv.Itoa(i+1)] = c
		}
	}
	b, err := json.Marshal(&f)
	if err != nil {
		return fmt.Errorf("encode capture notes: %w", err)
	}
	if err := writeAtomic(dir, notesName, notesTemp, b); err != nil {
		return fmt.Errorf("save capture notes: %w", err)
	}
	return nil
}

// decorate sets a row's marks and comment from the notes: an ignored
// packet's columns are those Wireshark shows for it (Info "<Ignored>",
// nothing dissected). fileComment is the comment the file gives it.
func (n *noteState) decorate(row *Row, i int, fileComment string) {
	row.Marked = n.marked.has(i)
	row.Ignored = n.ignored.has(i)
	row.Comment = n.comment(i, fileComment)
	if row.Ignored {
		row.Source, row.Dest, row.Protocol, row.Info, row.Tags = "", "", "", "<Ignored>", nil
	}
}

// comment returns packet i's comment: the edited one, or the file's.
func (n *noteState) comment(i int, fileComment string) string {
	if c, ok := n.comments[i]; ok {
		return c
	}
	return fileComment
}

// RowCommentLen is the most bytes of a comment a row of the packet list
// carries (Packet gives it whole), so that a page of rows stays small
// whatever the comments: a longer one is cut there, at a character's
// start, and ends with "…".
const RowCommentLen = 256

// shortComment cuts c for a row (see RowCommentLen).
func shortComment(c string) string {
	if len(c) <= RowCommentLen {
		return c
	}
	cut := RowCommentLen
	for cut > 0 && !utf8.RuneStart(c[cut]) {
		cut--
	}
	return c[:cut] + "…"
}

// Notes is a summary of a capture's marks, ignores and edited comments.
type Notes struct {
	Marked       string `json:"marked"`  // packet numbers, as ParseRange reads them ("" for none)
	Ignored      string `json:"ignored"` // packet numbers
	MarkedCount  int    `json:"markedCount"`
	IgnoredCount int    `json:"ignoredCount"`
	Edited       int    `json:"editedComments"` // comments added, changed or removed
}

// Notes returns the capture's marks, ignores and edited comments in short.
func (s *Store) Notes() Notes {
	n := s.notes()
	return Notes{
		Marked: n.marked.String(), Ignored: n.ignored.String(),
		MarkedCount: n.marked.count(), IgnoredCount: n.ignored.count(), Edited: len(n.comments),
	}
}

// NoteOp is what Annotate does to each packet it is given.
type NoteOp int

// Note operations: Wireshark's Mark/Unmark Packet (Ctrl+M), Mark All
// Displayed, Ignore/Unignore Packet (Ctrl+D), Ignore All Displayed...
const (
	OpMark NoteOp = iota
	OpUnmark
	OpToggleMark
	OpIgnore
	OpUnignore
	OpToggleIgnore
)

// ParseNoteOp reads an operation's name: mark, unmark, toggle-mark,
// ignore, unignore, toggle-ignore.
func ParseNoteOp(name string) (NoteOp, error) {
	for op, n := range noteOpNames {
		if n == name {
			return NoteOp(op), nil
		}
	}
	return 0, fmt.Errorf("unknown operation %q: mark, unmark, toggle-mark, ignore, unignore or toggle-ignore", name)
}

var noteOpNames = [...]string{"mark", "unmark", "toggle-mark", "ignore", "unignore", "toggle-ignore"}

// String returns the operation's name as ParseNoteOp reads it.
func (op NoteOp) String() string { return noteOpNames[op] }

// Annotate applies op to each packet of set (see Select) and returns how
// many it applied to.
func (s *Store) Annotate(ctx context.Context, op NoteOp, set PacketSet) (int, error) {
	sel, err := s.Select(ctx, set)
	if err != nil {
		return 0, err
	}
	err = s.changeNotes(func(n *noteState) error {
		bs, on := &n.marked, op == OpMark
		if op >= OpIgnore {
			bs, on = &n.ignored, op == OpIgnore
		}
		for _, i := range sel.Indices {
			if op == OpToggleMark || op == OpToggleIgnore {
				on = !bs.has(int(i))
			}
			bs.set(int(i), on)
		}
		return nil
	})
	return len(sel.Indices), err
}

// SetComment replaces the comment of packet no (1-based): "" removes it.
// A comment must be UTF-8 of at most MaxCommentLen bytes (a pcapng
// option), and all the comments edited in the capture at most
// MaxCommentBytes.
func (s *Store) SetComment(no int, comment string) error {
	if no < 1 || no > s.Count() {
		return fmt.Errorf("packet %d: %w", no, ErrNoPacket)
	}
	if len(comment) > MaxCommentLen {
		return fmt.Errorf("%w: %d bytes, and a pcapng comment holds at most %d", ErrCommentTooLong, len(comment), MaxCommentLen)
	}
	if !utf8.ValidString(comment) {
		return fmt.Errorf("%w: pcapng comments are UTF-8 text", ErrBadComment)
	}
	rec, err := s.record(no - 1)
	if err != nil {
		return err
	}
	return s.changeNotes(func(n *noteState) error {
		i := no - 1
		bytes := n.commentBytes - len(n.comments[i]) + len(comment)
		if bytes > maxCommentBytes {
			return fmt.Errorf("%w: the comments edited in this capture would hold %d bytes, more than %d", ErrCommentsFull, bytes, maxCommentBytes)
		}
		n.comments[i], n.commentBytes = comment, bytes
		if comment == "" && rec.Flags&flagComment == 0 {
			delete(n.comments, i) // nothing to hide of the file's
		}
		return nil
	})
}

// bitset is a set of packet indices.
type bitset []uint64

func (b bitset) has(i int) bool {
	return i >= 0 && i/64 < len(b) && b[i/64]&(1<<(i%64)) != 0
}

func (b *bitset) set(i int, on bool) {
	if !on {
		if i/64 < len(*b) {
			(*b)[i/64] &^= 1 << (i % 64)
		}
		return
	}
	for i/64 >= len(*b) {
		*b = append(*b, 0)
	}
	(*b)[i/64] |= 1 << (i % 64)
}

func (b bitset) clone() bitset { return append(bitset(nil), b...) }

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// first and last return the smallest and largest index in the set, or -1.
func (b bitset) first() int {
	for k, w := range b {
		if w != 0 {
			return k*64 + bits.TrailingZeros64(w)
		}
	}
	return -1
}

func (b bitset) last() int {
	for k := len(b) - 1; k >= 0; k-- {
		if w := b[k]; w != 0 {
			return k*64 + 63 - bits.LeadingZeros64(w)
		}
	}
	return -1
}

// String writes the set as packet numbers (index + 1) in ParseRange's form.
func (b bitset) String() string {
	var r PacketRange
	for k, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			no := k*64 + t + 1
			if n := len(r.spans); n > 0 && r.spans[n-1].hi == no-1 {
				r.spans[n-1].hi = no
			} else {
				r.spans = append(r.spans, span{no, no})
			}
			w &^= 1 << t
		}
	}
	return r.String()
}
