package store

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
)

// waitSort waits (a bounded time) until so is done and fails on its error.
func waitSort(t testing.TB, so *Sort) {
	t.Helper()
	select {
	case <-so.Done():
	case <-time.After(60 * time.Second):
		t.Fatalf("sort not done after 60 s: %+v", so.Status())
	}
	if st := so.Status(); st.Error != "" {
		t.Fatalf("sort: %s", st.Error)
	}
}

// sortedNos returns the packet numbers of every row of a done sort, read a
// page at a time as the page scrolls.
func sortedNos(t *testing.T, s *Store, so *Sort) []int {
	t.Helper()
	var nos []int
	for start := 0; ; start += 700 {
		page, err := s.SortedRows(start, 700, so, dissect.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rows {
			nos = append(nos, r.No)
		}
		if start+700 >= page.Displayed {
			return nos
		}
	}
}

// sortedNosAt returns the packet number at display position pos of a
// done sort.
func sortedNosAt(t *testing.T, s *Store, so *Sort, pos int) int {
	t.Helper()
	page, err := s.SortedRows(pos, 1, so, dissect.Options{})
	if err != nil || len(page.Rows) != 1 {
		t.Fatalf("row %d: %v", pos, err)
	}
	return page.Rows[0].No
}

// TestSortOrder sorts a capture's packets, all of them and those of a
// filter, by every built-in column and a field, both ways, with runs in
// memory and spilled to files, and compares the order with a reference
// sort made here from the unsorted rows: stable, ties in packet number
// order in both directions.
func TestSortOrder(t *testing.T) {
	const n = 3000
	s := openCapture(t, newTestPool(t, Config{}), n)
	all, err := s.Rows(0, n, nil, dissect.Options{})
	if err != nil || len(all.Rows) != n {
		t.Fatalf("rows: %d, %v", len(all.Rows), err)
	}
	// The reference keys of each packet, by column.
	ttl := func(r Row) string {
		p, err := s.Packet(r.No, dissect.Options{})
		if err != nil {
			t.Fatal(err)
		}
		tree := dissect.Dissect(p.LinkType, p.Data, p.Length)
		v := dfilter.FieldValues(tree, r.No, []string{"udp.srcport"})[0]
		if len(v) == 0 {
			return ""
		}
		return fmt.Sprintf("%020d", v[0].N)
	}
	keys := map[string]func(Row) string{
		ColumnNo:       func(r Row) string { return fmt.Sprintf("%09d", r.No) },
		ColumnTime:     func(r Row) string { return fmt.Sprintf("%020d%09d", r.Sec, r.Nsec) },
		ColumnLength:   func(r Row) string { return fmt.Sprintf("%09d", r.Length) },
		ColumnSource:   func(r Row) string { return r.Source },
		ColumnDest:     func(r Row) string { return r.Dest },
		ColumnProtocol: func(r Row) string { return r.Protocol },
		ColumnInfo:     func(r Row) string { return r.Info },
		"udp.srcport":  ttl,
	}
	tcp := startJob(t, s, "tcp", "test")
	waitDone(t, tcp)
	for _, runBytes := range []int{sortRunBytes, 20 << 10} {
		for col, key := range keys {
			for _, desc := range []bool{false, true} {
				for _, j := range []*Job{nil, tcp} {
					name := fmt.Sprintf("run=%d/%s/desc=%v/filter=%v", runBytes, col, desc, j != nil)
					t.Run(name, func(t *testing.T) {
						old := sortRunBytes
						sortRunBytes = runBytes
						defer func() { sortRunBytes = old }()
						var want []Row
						for _, r := range all.Rows {
							if j == nil {
								want = append(want, r)
							} else if _, ok := j.position(r.No - 1); ok {
								want = append(want, r)
							}
						}
						kv := map[int]string{}
						for _, r := range want {
							kv[r.No] = key(r)
						}
						slices.SortStableFunc(want, func(a, b Row) int {
							c := cmp.Compare(kv[a.No], kv[b.No])
							if desc {
								c = -c
							}
							return c
						})
						s.CancelSort(SortSpec{Column: col, Descending: desc}, "")
						if j != nil {
							s.CancelSort(SortSpec{Column: col, Descending: desc}, j.expr)
						}
						so, err := s.StartSort(SortSpec{Column: col, Descending: desc}, j)
						if err != nil {
							t.Fatal(err)
						}
						waitSort(t, so)
						got := sortedNos(t, s, so)
						if len(got) != len(want) {
							t.Fatalf("%d rows sorted, want %d", len(got), len(want))
						}
						for k := range want {
							if got[k] != want[k].No {
								t.Fatalf("position %d: packet %d, want %d (key %q)", k, got[k], want[k].No, kv[want[k].No])
							}
						}
						st := so.Status()
						if !st.Done || st.Keyed != len(want) || st.Total != len(want) {
							t.Errorf("status %+v, want done with %d keyed", st, len(want))
						}
						// Go to packet: each packet's position in the order.
						for _, k := range []int{0, len(want) / 2, len(want) - 1} {
							pos, exact, found, err := so.SortedPosition(want[k].No)
							if err != nil || !exact || !found || pos != k {
								t.Errorf("position of packet %d: %d %v %v %v, want %d", want[k].No, pos, exact, found, err, k)
							}
						}
						// A packet the filter leaves out: the next one displayed.
						if j != nil {
							no := 1
							for ; no <= n; no++ {
								if _, ok := j.position(no - 1); !ok {
									break
								}
							}
							next := no + 1
							for ; next <= n; next++ {
								if _, ok := j.position(next - 1); ok {
									break
								}
							}
							pos, exact, found, err := so.SortedPosition(no)
							if err != nil || exact || !found || sortedNosAt(t, s, so, pos) != next {
								t.Errorf("position of undisplayed packet %d: %d %v %v %v, want that of %d", no, pos, exact, found, err, next)
							}
						}
					})
				}
			}
		}
	}
}

// TestSortDelta checks that a sorted row's delta is to the packet
// displayed before it in capture order, as in the unsorted list.
func TestSortDelta(t *testing.T) {
	s := openCapture(t, newTestPool(t, Config{}), 500)
	j := startJob(t, s, "udp or icmp", "test")
	waitDone(t, j)
	plain, err := s.Rows(0, 500, j, dissect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	delta := map[int]int64{}
	for _, r := range plain.Rows {
		delta[r.No] = r.Delta
	}
	so, err := s.StartSort(SortSpec{Column: ColumnLength, Descending: true}, j)
	if err != nil {
		t.Fatal(err)
	}
	waitSort(t, so)
	page, err := s.SortedRows(0, 500, so, dissect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Rows) != len(plain.Rows) || page.Displayed != len(plain.Rows) {
		t.Fatalf("%d sorted rows (%d displayed), want %d", len(page.Rows), page.Displayed, len(plain.Rows))
	}
	for _, r := range page.Rows {
		if r.Delta != delta[r.No] {
			t.Errorf("packet %d: delta %d, want %d", r.No, r.Delta, delta[r.No])
		}
	}
}

// TestSortColumnErrors refuses columns that are neither built in nor
// fields, naming them.
func TestSortColumnErrors(t *testing.T) {
	s := openCapture(t, newTestPool(t, Config{}), 10)
	for _, col := range []string{"", "nope", "tcp.nonesuch", "No."} {
		_, err := s.StartSort(SortSpec{Column: col}, nil)
		if !errors.Is(err, ErrSortColumn) {
			t.Errorf("sort by %q: %v, want ErrSortColumn", col, err)
		}
		if err != nil && !strings.Contains(err.Error(), strconv.Quote(col)) {
			t.Errorf("sort by %q: %q does not name the column", col, err)
		}
	}
}

// TestSortCancel cancels a sort of a large capture while it runs: it
// ends at once with the cancellation as its error.
func TestSortCancel(t *testing.T) {
	s := openCapture(t, newTestPool(t, Config{}), 20000)
	spec := SortSpec{Column: "tcp.srcport"} // a field: every packet is dissected, slow enough to stop
	so, err := s.StartSort(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.CancelSort(spec, "") {
		t.Fatal("CancelSort found no sort")
	}
	select {
	case <-so.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled sort still running after 10 s")
	}
	if st := so.Status(); st.Error == "" && st.Keyed == st.Total {
		t.Skipf("the sort finished before it was cancelled: %+v", st)
	} else if st.Error == "" {
		t.Errorf("cancelled sort: %+v, want an error", st)
	}
	if s.CancelSort(spec, "") {
		t.Error("a cancelled sort is still listed")
	}
}
