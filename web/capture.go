package web

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// Capture states as the API reports them.
const (
	stateIndexing  = "indexing"  // the index pass is running; rows grow
	stateReady     = "ready"     // every packet is indexed
	stateError     = "error"     // the file is faulty: packets before the fault are viewable
	stateCapturing = "capturing" // a live capture is running; rows grow
)

// Capture is one open capture, a file or a live capture: its spool (the
// packet bytes on disk), its index and summaries files, and the state of
// its index pass (or live run) and filter jobs.
type Capture struct {
	id      string
	name    string // the uploaded file's name, for display only; never a path
	created time.Time
	dir     string // the capture's private folder under the data dir
	srcPath string // the file as uploaded or opened; "" for a live capture
	size    int64  // bytes of srcPath, or of a live capture's spool

	spool *os.File // packet bytes (srcPath itself, its decompressed copy, or what a live capture read)
	index *os.File // one record per packet
	sums  *os.File // summaries, referenced by the records

	count atomic.Int64 // records published so far; readable without the lock

	mu        sync.Mutex
	state     string
	errMsg    string
	format    string
	gzipped   bool
	linkTypes []pcapio.LinkType
	ifaces    []pcapio.Interface // every interface of every section, in file order; record.IfIndex indexes it
	order     binary.ByteOrder   // of the file, as filters are compiled for it; nil until its header is read
	first     int64              // timestamp of the first packet that has one (ns)
	minTS     int64              // of the packets that have a timestamp
	maxTS     int64
	timed     int64 // packets indexed that have a timestamp
	readBytes int64 // source bytes consumed by the index pass
	nanoTS    bool  // some timestamp has sub-microsecond digits
	changed   chan struct{}
	filters   *filterCache
	live      *liveState   // nil for a file
	saved     *captureMeta // the metadata file's base, nil for a file opened in place (not kept)
	log       *slog.Logger

	notify   func()          // tells the server's hub that something changed
	compiles semaphore       // the server's compile slots
	disk     *diskCharge     // what its files hold of the server's disk budget
	ctx      context.Context // ends when the capture is closed
	cancel   context.CancelFunc
	done     chan struct{} // closed when the index pass has ended
}

// createdLayout is how CaptureInfo.Created is written: UTC to the
// millisecond, fixed width, so that captures opened in one second are
// told apart and the text sorts as the times do.
const createdLayout = "2006-01-02T15:04:05.000Z"

// CaptureInfo is a capture as the API lists it.
type CaptureInfo struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Size         int64          `json:"size"`
	Format       string         `json:"format,omitempty"`
	Gzip         bool           `json:"gzip,omitempty"`
	Packets      int64          `json:"packets"`
	LinkTypes    []string       `json:"linkTypes"`
	First        string         `json:"first,omitempty"`
	Last         string         `json:"last,omitempty"`
	FirstSec     int64          `json:"firstSec"`
	FirstNsec    int64          `json:"firstNsec"`
	SpanSeconds  float64        `json:"spanSeconds"`
	State        string         `json:"state"`
	Error        string         `json:"error,omitempty"`
	IndexedBytes int64          `json:"indexedBytes"`
	Created      string         `json:"created"` // when it was opened (createdLayout)
	Filters      []FilterStatus `json:"filters,omitempty"`
	Live         *LiveInfo      `json:"live,omitempty"` // only for a live capture
}

// Info returns a snapshot of the capture's state.
func (c *Capture) Info() CaptureInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	info := CaptureInfo{
		ID:           c.id,
		Name:         c.name,
		Size:         c.size,
		Format:       c.format,
		Gzip:         c.gzipped,
		Packets:      c.count.Load(),
		LinkTypes:    []string{},
		State:        c.state,
		Error:        c.errMsg,
		IndexedBytes: c.readBytes,
		Created:      c.created.UTC().Format(createdLayout),
	}
	for _, lt := range c.linkTypes {
		info.LinkTypes = append(info.LinkTypes, lt.String())
	}
	if len(c.linkTypes) == 0 {
		// No packets (a file of only a header): its interfaces'.
		for _, ifc := range c.ifaces {
			if lt := ifc.LinkType.String(); !slices.Contains(info.LinkTypes, lt) {
				info.LinkTypes = append(info.LinkTypes, lt)
			}
		}
	}
	if info.Packets > 0 && c.timed > 0 {
		info.First = time.Unix(0, c.minTS).UTC().Format(time.RFC3339Nano)
		info.Last = time.Unix(0, c.maxTS).UTC().Format(time.RFC3339Nano)
		info.FirstSec, info.FirstNsec = c.first/1e9, c.first%1e9
		info.SpanSeconds = float64(c.maxTS-c.minTS) / 1e9
	}
	info.Live = c.liveInfoLocked()
	info.Filters = c.filters.statuses()
	return info
}

// Packets returns the number of packets indexed so far.
func (c *Capture) Packets() int { return int(c.count.Load()) }

// indexing reports whether packets may still be added: the index pass is
// running, or the live capture is.
func (c *Capture) indexing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateIndexing || c.state == stateCapturing
}

// waitChange returns a channel closed at the next publish of new packets or
// at the end of the index pass.
func (c *Capture) waitChange() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// signalLocked wakes waiters on waitChange (not the WebSocket hub: that is
// notify's job). c.mu must be held.
func (c *Capture) signalLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// linkTypeList returns the link types seen so far.
func (c *Capture) linkTypeList() []pcapio.LinkType {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.linkTypes)
}

// interfaces returns the capture's interfaces seen so far (shared,
// read-only: the index pass only appends).
func (c *Capture) interfaces() []pcapio.Interface {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ifaces[:len(c.ifaces):len(c.ifaces)]
}

// byteOrder returns the byte order of the capture file (nil before its
// header has been read).
func (c *Capture) byteOrder() binary.ByteOrder {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order
}

// record reads the record of packet i (0-based).
func (c *Capture) record(i int) (record, error) {
	if i < 0 || i >= c.Packets() {
		return record{}, fmt.Errorf("packet %d: %w", i+1, errNoPacket)
	}
	var r [1]record
	if err := readRecords(c.index, i, r[:]); err != nil {
		return record{}, err
	}
	return r[0], nil
}

// summaries reads the summaries of recs, which are usually contiguous, with
// as few reads as possible.
func (c *Capture) summaries(recs []record) ([]summary, error) {
	out := make([]summary, len(recs))
	for i := 0; i < len(recs); {
		// Extend a run of records whose summaries are adjacent on disk.
		j := i + 1
		for j < len(recs) && recs[j].SumOff == recs[j-1].SumOff+int64(recs[j-1].SumLen) {
			j++
		}
		lo := recs[i].SumOff
		hi := recs[j-1].SumOff + int64(recs[j-1].SumLen)
		buf := make([]byte, hi-lo)
		if _, err := c.sums.ReadAt(buf, lo); err != nil && !(err == io.EOF && len(buf) == 0) {
			return nil, fmt.Errorf("read summaries: %w", err)
		}
		for k := i; k < j; k++ {
			off := recs[k].SumOff - lo
			s, err := decodeSummary(buf[off : off+int64(recs[k].SumLen)])
			if err != nil {
				return nil, fmt.Errorf("packet summary: %w", err)
			}
			out[k] = s
		}
		i = j
	}
	return out, nil
}

// packetData reads the captured bytes of rec from the spool.
func (c *Capture) packetData(rec *record) ([]byte, error) {
	buf := make([]byte, rec.CapLen)
	if _, err := c.spool.ReadAt(buf, rec.DataOff); err != nil {
		return nil, fmt.Errorf("read packet bytes at offset %d: %w", rec.DataOff, err)
	}
	return buf, nil
}

// close stops the index pass and filter jobs and closes the files; with
// remove, it removes the capture's folder (its metadata first, so a crash
// halfway leaves an incomplete folder, which the next start removes).
func (c *Capture) close(remove bool) error {
	c.cancel()
	<-c.done
	c.filters.cancelAll()
	var errs []error
	if remove {
		if err := os.Remove(filepath.Join(c.dir, metaName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, f := range []*os.File{c.spool, c.index, c.sums} {
		if f != nil {
			if err := f.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if remove {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, err)
		}
	}
	c.disk.refundAll()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close capture %s: %w", c.id, err)
	}
	return nil
}
