package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/pcapio"
)

// rowsOf returns every row of s.
func rowsOf(t testing.TB, s *Store) []Row {
	t.Helper()
	page, err := s.Rows(0, s.Count(), nil, dissect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return page.Rows
}

// numbers returns the packet numbers of rows for which keep is true.
func numbers(rows []Row, keep func(Row) bool) []int {
	var out []int
	for _, r := range rows {
		if keep(r) {
			out = append(out, r.No)
		}
	}
	return out
}

func mustRange(t testing.TB, text string) PacketRange {
	t.Helper()
	r, err := ParseRange(text)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func annotate(t testing.TB, s *Store, op NoteOp, text string) {
	t.Helper()
	if _, err := s.Annotate(context.Background(), op, PacketSet{Which: WhichRange, Range: mustRange(t, text)}); err != nil {
		t.Fatalf("%v %s: %v", op, text, err)
	}
}

// TestNotesRows: marks, ignores and comments show in the rows and the
// packet, an ignored packet's columns are Wireshark's ("<Ignored>"), and
// toggles undo.
func TestNotesRows(t *testing.T) {
	p := newTestPool(t, Config{})
	s := openCapture(t, p, 10)
	before := rowsOf(t, s)
	annotate(t, s, OpMark, "2-4,9")
	annotate(t, s, OpToggleMark, "4-5")
	annotate(t, s, OpIgnore, "3,7")
	if err := s.SetComment(6, "looks odd\nsecond line"); err != nil {
		t.Fatal(err)
	}
	rows := rowsOf(t, s)
	if got := numbers(rows, func(r Row) bool { return r.Marked }); !slices.Equal(got, []int{2, 3, 5, 9}) {
		t.Errorf("marked %v, want [2 3 5 9]", got)
	}
	if got := numbers(rows, func(r Row) bool { return r.Ignored }); !slices.Equal(got, []int{3, 7}) {
		t.Errorf("ignored %v, want [3 7]", got)
	}
	if r := rows[2]; r.Info != "<Ignored>" || r.Protocol != "" || r.Source != "" || r.Length != before[2].Length {
		t.Errorf("ignored row %+v, want Info <Ignored>, no protocol or addresses, its length", r)
	}
	if rows[5].Comment != "looks odd\nsecond line" || rows[4].Comment != "" {
		t.Errorf("comments %q %q", rows[5].Comment, rows[4].Comment)
	}
	if pkt, err := s.Packet(6, dissect.Options{}); err != nil || pkt.Comment != "looks odd\nsecond line" {
		t.Errorf("packet 6: %q %v", pkt.Comment, err)
	}
	// A long comment: whole in the packet, cut in the row.
	long := strings.Repeat("é", RowCommentLen)
	if err := s.SetComment(8, long); err != nil {
		t.Fatal(err)
	}
	if pkt, _ := s.Packet(8, dissect.Options{}); pkt.Comment != long {
		t.Errorf("packet 8's comment is %d bytes, want %d", len(pkt.Comment), len(long))
	}
	if got := rowsOf(t, s)[7].Comment; got != long[:RowCommentLen]+"…" {
		t.Errorf("row 8's comment %q, want its first %d bytes and …", got, RowCommentLen)
	}
	if err := s.SetComment(8, ""); err != nil {
		t.Fatal(err)
	}
	if n := s.Notes(); n.Marked != "2-3,5,9" || n.Ignored != "3,7" || n.MarkedCount != 4 || n.IgnoredCount != 2 || n.Edited != 1 {
		t.Errorf("notes %+v", n)
	}
	annotate(t, s, OpUnmark, "1-")
	annotate(t, s, OpToggleIgnore, "3,7")
	if err := s.SetComment(6, ""); err != nil {
		t.Fatal(err)
	}
	if got := rowsOf(t, s); !slices.EqualFunc(got, before, func(a, b Row) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
		t.Errorf("after undoing every note the rows differ:\n%v\n%v", got, before)
	}
}

// TestNotesErrors: a comment too long for pcapng, not UTF-8, past the
// capture's bound, or of a packet that does not exist is refused, and
// changes nothing.
func TestNotesErrors(t *testing.T) {
	p := newTestPool(t, Config{})
	s := openCapture(t, p, 3)
	for _, tc := range []struct {
		no      int
		comment string
		want    error
	}{
		{1, strings.Repeat("x", MaxCommentLen+1), ErrCommentTooLong},
		{1, "\xff\xfe", ErrBadComment},
		{0, "x", ErrNoPacket},
		{4, "x", ErrNoPacket},
	} {
		if err := s.SetComment(tc.no, tc.comment); !errors.Is(err, tc.want) {
			t.Errorf("SetComment(%d, %.20q) = %v, want %v", tc.no, tc.comment, err, tc.want)
		}
	}
	if err := s.SetComment(1, strings.Repeat("y", MaxCommentLen)); err != nil {
		t.Errorf("a comment of %d bytes: %v", MaxCommentLen, err)
	}
	if n := s.Notes(); n.Edited != 1 {
		t.Errorf("notes %+v after refused edits", n)
	}
	// The bound of all edited comments (lowered for the test): fill it.
	defer func(n int) { maxCommentBytes = n }(maxCommentBytes)
	maxCommentBytes = 4 * MaxCommentLen
	big := openCapture(t, p, 6)
	var err error
	for no := 1; no <= big.Count() && err == nil; no++ {
		err = big.SetComment(no, strings.Repeat("z", MaxCommentLen))
	}
	if !errors.Is(err, ErrCommentsFull) {
		t.Errorf("past %d bytes of comments: %v, want ErrCommentsFull", maxCommentBytes, err)
	}
}

// TestNotesPersist: notes outlive the pool: a pool opened again on the data
// dir shows them, and a download of the capture carries the edited
// comments.
func TestNotesPersist(t *testing.T) {
	dir := t.TempDir()
	p1, err := OpenPool(Config{DataDir: dir, Logger: newTestPool(t, Config{}).log})
	if err != nil {
		t.Fatal(err)
	}
	s := addCapture(t, p1, "c.pcapng", synthetic(t, pcapio.FormatPcapNg, 20))
	id := s.ID()
	annotate(t, s, OpMark, "1,5-6")
	annotate(t, s, OpIgnore, "20")
	if err := s.SetComment(5, "kept"); err != nil {
		t.Fatal(err)
	}
	want := s.Notes()
	if err := p1.Close(); err != nil {
		t.Fatal(err)
	}
	p2 := newTestPool(t, Config{DataDir: dir})
	s2, ok := p2.Get(id)
	if !ok {
		t.Fatalf("capture %s not recovered", id)
	}
	if got := s2.Notes(); got != want {
		t.Errorf("after a restart, notes %+v, want %+v", got, want)
	}
	if r := rowsOf(t, s2)[4]; !r.Marked || r.Comment != "kept" {
		t.Errorf("row 5 after a restart: %+v", r)
	}
	d, err := s2.Download(context.Background(), nil, pcapio.FormatPcapNg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := d.WriteTo(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	for i, pkt := range readPackets(t, buf.Bytes()) {
		if w := map[int]string{4: "kept"}[i]; pkt.Comment != w {
			t.Errorf("downloaded packet %d: comment %q, want %q", i+1, pkt.Comment, w)
		}
	}
}

// TestNotesConcurrent: changes made at once by many clients are all kept.
func TestNotesConcurrent(t *testing.T) {
	p := newTestPool(t, Config{})
	s := openCapture(t, p, 64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 8 {
				no := g*8 + k + 1
				annotate(t, s, OpToggleMark, fmt.Sprint(no))
				if err := s.SetComment(no, fmt.Sprint("c", no)); err != nil {
					t.Error(err)
				}
				if k%2 == 0 {
					annotate(t, s, OpIgnore, fmt.Sprint(no))
				}
				rowsOf(t, s)
			}
		}()
	}
	wg.Wait()
	n := s.Notes()
	if n.MarkedCount != 64 || n.IgnoredCount != 32 || n.Edited != 64 {
		t.Errorf("notes after concurrent changes: %+v", n)
	}
	for _, r := range rowsOf(t, s) {
		if r.Comment != fmt.Sprint("c", r.No) {
			t.Errorf("packet %d: comment %q", r.No, r.Comment)
		}
	}
}

// TestSelect: every row and scope of Export Specified Packets, with and
// without ignored packets.
func TestSelect(t *testing.T) {
	p := newTestPool(t, Config{})
	s := openCapture(t, p, 12)
	annotate(t, s, OpMark, "3,5,9")
	annotate(t, s, OpIgnore, "4,9,11")
	// The synthetic capture alternates protocols; find the displayed set.
	j := startJob(t, s, "tcp", "test")
	waitDone(t, j)
	all, _ := s.Select(context.Background(), PacketSet{Filter: j})
	var disp []int
	for _, i := range all.Indices {
		disp = append(disp, int(i)+1)
	}
	if len(disp) == 0 || len(disp) == 12 {
		t.Fatalf("tcp displays %v: the test needs a filter that keeps some", disp)
	}
	in := func(set []int, keep func(int) bool) []int {
		var out []int
		for _, no := range set {
			if keep(no) {
				out = append(out, no)
			}
		}
		return out
	}
	captured := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	marked := func(no int) bool { return no == 3 || no == 5 || no == 9 }
	ignored := func(no int) bool { return no == 4 || no == 9 || no == 11 }
	for _, tc := range []struct {
		name string
		set  PacketSet
		want []int
	}{
		{"all", PacketSet{}, captured},
		{"all without ignored", PacketSet{RemoveIgnored: true}, in(captured, func(no int) bool { return !ignored(no) })},
		{"selected", PacketSet{Which: WhichSelected, Range: mustRange(t, "4")}, []int{4}},
		{"marked", PacketSet{Which: WhichMarked}, []int{3, 5, 9}},
		{"marked without ignored", PacketSet{Which: WhichMarked, RemoveIgnored: true}, []int{3, 5}},
		{"first to last marked", PacketSet{Which: WhichFirstToLastMarked}, []int{3, 4, 5, 6, 7, 8, 9}},
		{"first to last marked without ignored", PacketSet{Which: WhichFirstToLastMarked, RemoveIgnored: true}, []int{3, 5, 6, 7, 8}},
		{"range", PacketSet{Which: WhichRange, Range: mustRange(t, "1-2,8,11-")}, []int{1, 2, 8, 11, 12}},
		{"range without ignored", PacketSet{Which: WhichRange, Range: mustRange(t, "1-2,8,11-"), RemoveIgnored: true}, []int{1, 2, 8, 12}},
		{"displayed", PacketSet{Filter: j}, disp},
		{"displayed without ignored", PacketSet{Filter: j, RemoveIgnored: true}, in(disp, func(no int) bool { return !ignored(no) })},
		{"displayed marked", PacketSet{Filter: j, Which: WhichMarked}, in(disp, marked)},
		{"displayed range", PacketSet{Filter: j, Which: WhichRange, Range: mustRange(t, "5-")}, in(disp, func(no int) bool { return no >= 5 })},
	} {
		sel, err := s.Select(context.Background(), tc.set)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []int
		for _, i := range sel.Indices {
			got = append(got, int(i)+1)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// first to last marked among the displayed ones
	sel, _ := s.Select(context.Background(), PacketSet{Filter: j, Which: WhichFirstToLastMarked})
	dm := in(disp, marked)
	var want []int
	if len(dm) > 0 {
		want = in(disp, func(no int) bool { return no >= dm[0] && no <= dm[len(dm)-1] })
	}
	var got []int
	for _, i := range sel.Indices {
		got = append(got, int(i)+1)
	}
	if !slices.Equal(got, want) {
		t.Errorf("displayed first to last marked: %v, want %v", got, want)
	}
}
