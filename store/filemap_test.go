package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// growingFile is a file that a test appends to, and the bytes it holds.
type growingFile struct {
	f    *os.File
	data []byte
}

func newGrowingFile(t *testing.T) *growingFile {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &growingFile{f: f}
}

// grow appends n bytes, each a function of its offset.
func (g *growingFile) grow(t *testing.T, n int) {
	t.Helper()
	b := make([]byte, n)
	for i := range b {
		off := len(g.data) + i
		b[i] = byte(off*7 + off>>8)
	}
	if _, err := g.f.Write(b); err != nil {
		t.Fatal(err)
	}
	g.data = append(g.data, b...)
}

// readerModes are the ways a spoolReader reads: through a fileMap of
// segments of two pages, as filter scans do on Linux and macOS, and with
// pread alone, as they do on Windows and once a store is closed.
var readerModes = []struct {
	name   string
	mapped bool
}{
	{"mapped", true},
	{"pread", false},
}

// newModeReader returns a reader of g's file in the given mode, with a
// window of window bytes, and the map it reads through (nil for pread).
func newModeReader(t *testing.T, g *growingFile, mapped bool, window int) (*spoolReader, *fileMap) {
	t.Helper()
	var m *fileMap
	if mapped {
		if !canMap {
			t.Skip("this system reads with pread only")
		}
		m = newFileMap(g.f, 2*int64(os.Getpagesize()), 1<<40)
		if !m.acquire() {
			t.Fatal("a new map refuses readers")
		}
		t.Cleanup(func() { m.release(); m.close() })
	}
	r := &spoolReader{buf: make([]byte, window)}
	r.reset(g.f, m)
	return r, m
}

// TestSpoolReaderGrowing checks that a spoolReader reads the bytes of a
// file that grows while it reads, in order, across segment boundaries,
// packets straddling two segments, and the file's end, in both modes: a
// read past the end fails as pread does, and succeeds once the file has
// grown.
func TestSpoolReaderGrowing(t *testing.T) {
	page := os.Getpagesize()
	seg := 2 * page
	for _, mode := range readerModes {
		t.Run(mode.name, func(t *testing.T) {
			g := newGrowingFile(t)
			g.grow(t, seg+page/2) // the second segment half a page in
			r, m := newModeReader(t, g, mode.mapped, 100)
			type read struct {
				off, n int
				grow   int  // bytes appended before the read
				fail   bool // past the end
				copied bool // straddles two segments: not from the mapping
			}
			reads := []read{
				{off: 0, n: 60},
				{off: 100, n: 0},
				{off: seg - 64, n: 64},                     // ends at the boundary
				{off: seg - 10, n: 20, copied: true},       // straddles it
				{off: seg, n: 64},                          // starts at it
				{off: seg + page/2 - 8, n: 8},              // ends at the file's end
				{off: seg + page/2 - 8, n: 16, fail: true}, // runs past it
				{off: seg + page/2 - 8, n: 16, grow: 8},    // not any more
				{off: seg + page, n: 100, grow: page},      // in the part the mapping ran past the end when it was made
				{off: 2*seg - 50, n: 100, grow: seg, copied: true},
				{off: 2*seg + 10, n: 3 * page, fail: true},
				{off: 2*seg + 10, n: 3 * page, grow: 2 * seg, copied: true}, // straddles two boundaries
				{off: 3*seg + 1, n: seg - 1},
			}
			for _, rd := range reads {
				if rd.grow > 0 {
					g.grow(t, rd.grow)
				}
				got, err := r.read(int64(rd.off), rd.n)
				if rd.fail {
					if !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Errorf("%d bytes at %d of a file of %d: %v, want %v", rd.n, rd.off, len(g.data), err, io.ErrUnexpectedEOF)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%d bytes at %d of a file of %d: %v", rd.n, rd.off, len(g.data), err)
				}
				if want := g.data[rd.off : rd.off+rd.n]; !bytes.Equal(got, want) {
					t.Fatalf("%d bytes at %d: wrong bytes", rd.n, rd.off)
				}
				if m != nil && rd.n > 0 {
					// A byte written over the file shows through a slice of
					// the mapping, not through a copy.
					old := g.data[rd.off]
					if _, err := g.f.WriteAt([]byte{^old}, int64(rd.off)); err != nil {
						t.Fatal(err)
					}
					if mapped := got[0] != old; mapped == rd.copied {
						t.Errorf("%d bytes at %d: from the mapping %v, want %v", rd.n, rd.off, mapped, !rd.copied)
					}
					if _, err := g.f.WriteAt([]byte{old}, int64(rd.off)); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

// TestSpoolReaderRecords checks that index records read through a
// spoolReader, mapped or not, in batches that straddle segments, are those
// written, and that a batch past the index's end is an error.
func TestSpoolReaderRecords(t *testing.T) {
	const n = 1000
	var want []record
	g := newGrowingFile(t)
	buf := make([]byte, recordSize)
	for i := range n {
		rec := record{DataOff: int64(i) * 1500, TSNanos: int64(i) * 1e6, CapLen: uint32(i), WireLen: uint32(i + 4), SumOff: int64(i) * 40, SumLen: 40}
		rec.put(buf)
		if _, err := g.f.Write(buf); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec)
	}
	for _, mode := range readerModes {
		t.Run(mode.name, func(t *testing.T) {
			r, _ := newModeReader(t, g, mode.mapped, 64*recordSize)
			got := make([]record, 97)
			for start := 0; start < n; start += len(got) {
				dst := got[:min(len(got), n-start)]
				if err := r.records(start, dst); err != nil {
					t.Fatal(err)
				}
				for i := range dst {
					if dst[i] != want[start+i] {
						t.Fatalf("record %d: %+v, want %+v", start+i, dst[i], want[start+i])
					}
				}
			}
			if err := r.records(n-1, got[:2]); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("records past the end: %v, want %v", err, io.ErrUnexpectedEOF)
			}
		})
	}
}

// TestFileMapClose checks that closing a map while a reader holds a slice
// of it leaves the slice readable until the reader releases the map, which
// unmaps it; and that a closed map takes no new readers.
func TestFileMapClose(t *testing.T) {
	g := newGrowingFile(t)
	g.grow(t, 3*os.Getpagesize())
	r, m := newModeReader(t, g, true, 100)
	if !m.acquire() { // a second reader
		t.Fatal("the map refuses a reader")
	}
	b, err := r.read(10, 100)
	if err != nil {
		t.Fatal(err)
	}
	m.close()
	if m.acquire() {
		t.Fatal("a closed map takes a reader")
	}
	m.release()
	if !bytes.Equal(b, g.data[10:110]) || len(m.segs) == 0 {
		t.Fatalf("the map was unmapped while a reader held it (%d segments)", len(m.segs))
	}
	m.release()
	if m.segs != nil {
		t.Fatalf("%d segments still mapped after the last reader released the closed map", len(m.segs))
	}
	m.refs++ // newModeReader's cleanup releases it once more
}

// TestFileMapCutFile checks that reading a mapping whose file was cut
// shorter underneath is an error in a goroutine guarded by guardFaults, not
// a crash.
func TestFileMapCutFile(t *testing.T) {
	page := os.Getpagesize()
	g := newGrowingFile(t)
	g.grow(t, 8*page)
	r, _ := newModeReader(t, g, true, 100)
	b, err := r.read(int64(5*page), 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.f.Truncate(int64(page)); err != nil {
		t.Fatal(err)
	}
	read := func() (sum int, err error) {
		defer guardFaults(&err)()
		for _, c := range b {
			sum += int(c)
		}
		return sum, nil
	}
	sum, err := read()
	if !errors.Is(err, errMapFault) {
		t.Fatalf("reading the cut pages: sum %d, %v, want %v", sum, err, errMapFault)
	}
	t.Log(err)
	// Other panics are not taken for faults.
	defer func() {
		if r := recover(); r != "not a fault" {
			t.Errorf("recovered %v, want the panic to go on", r)
		}
	}()
	func() {
		var err error
		defer guardFaults(&err)()
		panic("not a fault")
	}()
	t.Error(fmt.Sprint("the panic did not go on"))
}

// TestStoreRemovedWhileScanning checks that removing a store while a scan
// reads its mapped files crashes nothing: a job of the pool is cancelled
// (Remove waits for its turn to end), and a scan the pool does not know of
// and so does not wait for, which goes on reading after the files are
// closed and deleted, either finishes with every match or fails with an
// error, never a fault; its maps are unmapped once it is done.
func TestStoreRemovedWhileScanning(t *testing.T) {
	const n = 100_000
	data := synthetic(t, pcapio.FormatPcap, n)
	p := newTestPool(t, Config{})
	p.SetFilterWorkers(2)
	for round := range 2 {
		s := addCapture(t, p, "q.pcap", data)
		j := startJob(t, s, "tcp port 443", "A")
		m := s.newMatcher(context.Background(), "tcp port 443")
		lone := &Job{expr: m.Expr(), s: s, m: bpfMatcher{m}, ctx: context.Background()}
		var scanned atomic.Int64
		type result struct {
			end turnEnd
			err error
		}
		done := make(chan result, 1)
		go func() {
			sc := newScanner()
			sc.chunk = 64 // many rounds, so that the removal comes in the middle
			end, _, err := scanTurn([]*Job{lone}, sc, 2, time.Now().Add(time.Minute), &scanned)
			done <- result{end, err}
		}()
		for deadline := time.Now().Add(10 * time.Second); scanned.Load() == 0 || (round == 0 && j.status().Scanned == 0 && !j.status().Done); {
			if time.Now().After(deadline) {
				t.Fatalf("the scans did not start: %+v", j.status())
			}
			time.Sleep(100 * time.Microsecond)
		}
		if err := p.Remove(s.ID()); err != nil {
			t.Fatal(err)
		}
		at := scanned.Load()
		waitDone(t, j)
		if st := j.status(); st.Error != "" && st.Error != errJobCancelled.Error() {
			t.Errorf("the pool's job: %+v", st)
		}
		var r result
		select {
		case r = <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("the lone scan did not end")
		}
		switch {
		case errors.Is(r.err, errMapFault):
			t.Errorf("the lone scan faulted: %v", r.err)
		case r.err != nil:
			t.Logf("the lone scan failed after the removal, at %d of %d: %v", at, n, r.err)
		case r.end != turnFinished || lone.matches.Len() != n/2:
			t.Errorf("the lone scan ended %v with %d matches of %d, want %d", r.end, lone.matches.Len(), n, n/2)
		default:
			t.Logf("the lone scan finished, %d of %d packets scanned at the removal", at, n)
		}
		if canMap && (s.maps.spool == nil || s.maps.spool.segs != nil || s.maps.index.segs != nil) {
			t.Error("the store's files are still mapped (or were never) after its scans ended")
		}
	}
}

// TestScanCutFile checks that a filter job over a capture file opened in
// place, which is cut shorter underneath its mapping after a first scan,
// ends with an error instead of crashing the program.
func TestScanCutFile(t *testing.T) {
	if !canMap {
		t.Skip("this system reads with pread only: a cut file is an ordinary read error")
	}
	path := filepath.Join(t.TempDir(), "q.pcap")
	if err := os.WriteFile(path, synthetic(t, pcapio.FormatPcap, 20_000), 0o644); err != nil {
		t.Fatal(err)
	}
	p := newTestPool(t, Config{})
	s, err := p.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	<-s.Done()
	j := startJob(t, s, "tcp", "A")
	waitDone(t, j)
	if st := j.status(); st.Error != "" || st.Scanned != 20_000 {
		t.Fatalf("before the cut: %+v", st)
	}
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	j = startJob(t, s, "udp", "A")
	waitDone(t, j)
	if st := j.status(); !strings.Contains(st.Error, errMapFault.Error()) {
		t.Fatalf("after the cut: %+v, want the error %q", st, errMapFault)
	}
}
