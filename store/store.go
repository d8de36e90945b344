package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// Store states, as Info.State reports them.
const (
	StateIndexing  = "indexing"  // the index pass is running; rows grow
	StateReady     = "ready"     // every packet is indexed
	StateError     = "error"     // the file is faulty: packets before the fault are viewable
	StateCapturing = "capturing" // a live capture is running; rows grow
)

// Store is one capture's packets on disk, a file or a live capture: its
// spool (the packet bytes), its index and summaries files, the state of
// its ingest (the index pass of a file, or a live run) and its filter
// jobs. Its methods are safe for concurrent use.
type Store struct {
	id      string
	name    string // the uploaded file's name, for display only; never a path
	created time.Time
	dir     string // the store's private folder under the data dir
	srcPath string // the file as uploaded or opened; "" for a live capture
	size    int64  // bytes of srcPath, or of a live capture's spool

	spool *os.File // packet bytes (srcPath itself, its decompressed copy, or what a live capture read)
	index *os.File // one record per packet
	sums  *os.File // summaries, referenced by the records
	strm  *os.File // stream records, one per packet (streams.go); nil for none
	maps  scanMaps // the spool and index mapped for filter scans

	count atomic.Int64 // records published so far; readable without the lock
	// reasmCount is len(reasm.pkts), readable without the lock: most
	// captures have no reassembled datagram to look up.
	reasmCount atomic.Int64

	mu        sync.Mutex
	strmTrack *streamTrack // the ingest's stream tracking (streams.go)
	reasm     reassembly   // the reassembled datagrams (reassembly.go)
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
	readBytes int64 // source bytes consumed by the ingest
	nanoTS    bool  // some timestamp has sub-microsecond digits
	changed   chan struct{}
	live      *liveState   // nil for a file
	saved     *captureMeta // the metadata file's base, nil for a file opened in place (not kept)

	note  notes // marks, ignores and edited comments (marks.go)
	sorts sorts // orderings of the packet list (sort.go)

	pool   *Pool
	jobs   *filterJobs
	disk   *diskCharge     // what its files hold of the pool's disk budget
	ctx    context.Context // ends when the store is closed
	cancel context.CancelFunc
	done   chan struct{} // closed when the ingest has ended
}

// CreatedLayout is how Info.Created is written: UTC to the millisecond,
// fixed width, so that captures opened in one second are told apart and
// the text sorts as the times do.
const CreatedLayout = "2006-01-02T15:04:05.000Z"

// Info is a snapshot of a store's state, as pkttap-web's API lists a
// capture.
type Info struct {
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
	Created      string         `json:"created"` // when it was opened (CreatedLayout)
	Filters      []FilterStatus `json:"filters,omitempty"`
	Live         *LiveInfo      `json:"live,omitempty"` // only for a live capture
	// Interfaces names the capture's interfaces when it has several (a
	// pcapng file's, a live capture's sources): a Row's Iface indexes it.
	Interfaces []string `json:"interfaces,omitempty"`
}

// ID returns the store's id: 16 hex digits, the name of its folder.
func (s *Store) ID() string { return s.id }

// Name returns the store's display name (never a path).
func (s *Store) Name() string { return s.name }

// Info returns a snapshot of the store's state.
func (s *Store) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := Info{
		ID:           s.id,
		Name:         s.name,
		Size:         s.size,
		Format:       s.format,
		Gzip:         s.gzipped,
		Packets:      s.count.Load(),
		LinkTypes:    []string{},
		State:        s.state,
		Error:        s.errMsg,
		IndexedBytes: s.readBytes,
		Created:      s.created.UTC().Format(CreatedLayout),
	}
	for _, lt := range s.linkTypes {
		info.LinkTypes = append(info.LinkTypes, lt.String())
	}
	if len(s.linkTypes) == 0 {
		// No packets (a file of only a header): its interfaces'.
		for _, ifc := range s.ifaces {
			if lt := ifc.LinkType.String(); !slices.Contains(info.LinkTypes, lt) {
				info.LinkTypes = append(info.LinkTypes, lt)
			}
		}
	}
	if info.Packets > 0 && s.timed > 0 {
		info.First = time.Unix(0, s.minTS).UTC().Format(time.RFC3339Nano)
		info.Last = time.Unix(0, s.maxTS).UTC().Format(time.RFC3339Nano)
		info.FirstSec, info.FirstNsec = s.first/1e9, s.first%1e9
		info.SpanSeconds = float64(s.maxTS-s.minTS) / 1e9
	}
	if len(s.ifaces) > 1 {
		for _, ifc := range s.ifaces {
			info.Interfaces = append(info.Interfaces, ifc.Name)
		}
	}
	info.Live = s.liveInfoLocked()
	info.Filters = s.jobs.statuses(s)
	return info
}

// HoldsFile reports whether the store is of a file, indexed without a
// fault, whose bytes are exactly b: pkttap-web opens its demo capture once.
func (s *Store) HoldsFile(b []byte) bool {
	if s.srcPath == "" {
		return false
	}
	if info := s.Info(); info.State == StateError || info.Size != int64(len(b)) {
		return false
	}
	got, err := os.ReadFile(s.srcPath)
	return err == nil && bytes.Equal(got, b)
}

// Count returns the number of packets indexed so far.
func (s *Store) Count() int { return int(s.count.Load()) }

// Indexing reports whether packets may still be added: the index pass is
// running, or the live capture is.
func (s *Store) Indexing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == StateIndexing || s.state == StateCapturing
}

// Done returns a channel closed when the ingest has ended: the index pass
// of a file, or a live capture once stopped and its packets indexed.
func (s *Store) Done() <-chan struct{} { return s.done }

// Changed returns a channel closed at the next publish of new packets or
// at the end of the ingest.
func (s *Store) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// signalLocked wakes waiters on Changed (not the pool's: that is notify's
// job). s.mu must be held.
func (s *Store) signalLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// notify tells the pool's watchers that something changed.
func (s *Store) notify() { s.pool.notify() }

// linkTypeList returns the link types seen so far.
func (s *Store) linkTypeList() []pcapio.LinkType {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.linkTypes)
}

// Interfaces returns the capture's interfaces seen so far, in the order
// a Row's Iface and a pcapng download number them: a live capture's
// sources, a file's Interface Description Blocks.
func (s *Store) Interfaces() []pcapio.Interface { return slices.Clone(s.interfaces()) }

// interfaces returns the store's interfaces seen so far (shared,
// read-only: the ingest only appends).
func (s *Store) interfaces() []pcapio.Interface {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ifaces[:len(s.ifaces):len(s.ifaces)]
}

// FilterOptions returns the options a filter on the store's packets is
// compiled with, for its first packet's link type (Ethernet before any
// packet is indexed): those of a capture file in the byte order of the
// store's file (as libpcap compiles for a file it reads).
func (s *Store) FilterOptions() filter.Options {
	s.mu.Lock()
	defer s.mu.Unlock()
	opts := filter.FileOptions(s.order, 0)
	opts.LinkType = pcapio.LinkTypeEthernet
	if len(s.linkTypes) > 0 {
		opts.LinkType = s.linkTypes[0]
	}
	return opts
}

// ErrNoPacket reports a packet number outside the store.
var ErrNoPacket = errors.New("no such packet")

// record reads the record of packet i (0-based).
func (s *Store) record(i int) (record, error) {
	if i < 0 || i >= s.Count() {
		return record{}, fmt.Errorf("packet %d: %w", i+1, ErrNoPacket)
	}
	var r [1]record
	if err := readRecords(s.index, i, r[:]); err != nil {
		return record{}, err
	}
	return r[0], nil
}

// recordsAt reads the records of the given packet indices, reading runs of
// consecutive indices at once.
func (s *Store) recordsAt(idx []int) ([]record, error) {
	out := make([]record, len(idx))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && idx[j] == idx[j-1]+1 {
			j++
		}
		if err := readRecords(s.index, idx[i], out[i:j]); err != nil {
			return nil, err
		}
		i = j
	}
	return out, nil
}

// summaries reads the summaries of recs, which are usually contiguous, with
// as few reads as possible.
func (s *Store) summaries(recs []record) ([]summary, error) {
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
		if _, err := s.sums.ReadAt(buf, lo); err != nil && !(err == io.EOF && len(buf) == 0) {
			return nil, fmt.Errorf("read summaries: %w", err)
		}
		for k := i; k < j; k++ {
			off := recs[k].SumOff - lo
			sum, err := decodeSummary(buf[off : off+int64(recs[k].SumLen)])
			if err != nil {
				return nil, fmt.Errorf("packet summary: %w", err)
			}
			out[k] = sum
		}
		i = j
	}
	return out, nil
}

// packetData reads the captured bytes of rec from the spool.
func (s *Store) packetData(rec *record) ([]byte, error) {
	buf := make([]byte, rec.CapLen)
	if _, err := s.spool.ReadAt(buf, rec.DataOff); err != nil {
		return nil, fmt.Errorf("read packet bytes at offset %d: %w", rec.DataOff, err)
	}
	return buf, nil
}

// close stops the ingest and filter jobs and closes the files; with
// remove, it removes the store's folder (its metadata first, so a crash
// halfway leaves an incomplete folder, which the next start removes).
func (s *Store) close(remove bool) error {
	s.cancel()
	<-s.done
	s.jobs.cancelAll(s)
	s.maps.close() // unmapped now, or when a scan still reading is done
	var errs []error
	if remove {
		s.forgetNotes()
		if err := os.Remove(filepath.Join(s.dir, metaName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, f := range []*os.File{s.spool, s.index, s.sums, s.strm, s.reasm.f} {
		if f != nil {
			if err := f.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if remove {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, err)
		}
	}
	s.disk.refundAll()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close capture %s: %w", s.id, err)
	}
	return nil
}
