package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// ErrDiskBudget marks a write refused by the disk budget.
var ErrDiskBudget = errors.New("over the disk budget")

// diskBudget is the pool-wide limit on the bytes its stores hold in the
// data dir (Config.MaxDisk): uploads, decompressed spools, live spools,
// indexes and summaries are charged as they are written, and given back
// when a capture is deleted or its files are emptied.
type diskBudget struct {
	max int64 // 0: no limit

	mu   sync.Mutex
	used int64
}

// charge takes n bytes of the budget, provided n+headroom bytes fit.
func (b *diskBudget) charge(n, headroom int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.max > 0 && b.used+n+headroom > b.max {
		return b.exceeded()
	}
	b.used += n
	return nil
}

// exceeded is the error for a write that does not fit.
func (b *diskBudget) exceeded() error {
	return fmt.Errorf("%w: the captures would take more than %s on disk (pkttap-web --max-disk): delete captures to make room", ErrDiskBudget, formatBytes(b.max))
}

// fits reports whether n more bytes fit in the budget now.
func (b *diskBudget) fits(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.max <= 0 || b.used+n <= b.max
}

// refund gives n bytes back.
func (b *diskBudget) refund(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// usedBytes returns the bytes charged.
func (b *diskBudget) usedBytes() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// diskCharge is what one capture (or an upload on its way to becoming one)
// holds of the budget.
type diskCharge struct {
	b *diskBudget
	n atomic.Int64
}

func (b *diskBudget) newCharge() *diskCharge { return &diskCharge{b: b} }

// charge takes n bytes for this capture, provided n+headroom fit.
func (d *diskCharge) charge(n, headroom int64) error {
	if err := d.b.charge(n, headroom); err != nil {
		return err
	}
	d.n.Add(n)
	return nil
}

// refund gives back n of this capture's bytes.
func (d *diskCharge) refund(n int64) {
	d.n.Add(-n)
	d.b.refund(n)
}

// take counts n bytes that are on disk already (a capture recovered at
// start-up), even beyond the budget: they are there whether or not it has
// room, and new writes are refused until they fit again.
func (d *diskCharge) take(n int64) {
	d.b.mu.Lock()
	d.b.used += n
	d.b.mu.Unlock()
	d.n.Add(n)
}

// refundAll gives back every byte this capture holds.
func (d *diskCharge) refundAll() { d.b.refund(d.n.Swap(0)) }

// chargedWriter charges every write to a diskCharge before it is made.
type chargedWriter struct {
	w io.Writer
	d *diskCharge
}

func (cw chargedWriter) Write(p []byte) (int, error) {
	if err := cw.d.charge(int64(len(p)), 0); err != nil {
		return 0, err
	}
	n, err := cw.w.Write(p)
	if n < len(p) {
		cw.d.refund(int64(len(p) - n))
	}
	return n, err
}

// newBufWriter buffers appends to an index or summaries file, charging them
// to the capture's disk budget.
func (s *Store) newBufWriter(f *os.File) *bufio.Writer {
	return bufio.NewWriterSize(chargedWriter{w: f, d: s.disk}, 256<<10)
}

// dropOnFault gives back the disk a store whose ingest failed with
// err holds beyond what stays viewable, and returns the error to show.
// Over a size limit (the disk budget, or a decompressed size over
// --max-upload), nothing is kept: the packets are forgotten and every file
// of the capture is emptied, so that a gzip bomb leaves nothing on disk.
// After a fault in the file itself, the packets before the fault are kept
// on purpose, and a decompressed spool is cut after the last of them.
func (s *Store) dropOnFault(err error) error {
	if errors.Is(err, ErrDiskBudget) || errors.Is(err, errSpoolLimit) {
		if errors.Is(err, ErrDiskBudget) {
			err = s.disk.b.exceeded() // once, however many writes it refused
		}
		s.count.Store(0)
		s.jobs.cancelAll(s)
		s.mu.Lock()
		s.linkTypes, s.ifaces = nil, nil
		s.reasm.pkts, s.reasm.offs, s.reasm.end = nil, nil, 0
		s.reasmCount.Store(0)
		s.mu.Unlock()
		var errs []error
		for _, f := range []*os.File{s.spool, s.index, s.sums, s.strm, s.reasm.f} {
			if f != nil && filepath.Dir(f.Name()) == s.dir {
				errs = append(errs, f.Truncate(0))
			}
		}
		if filepath.Dir(s.srcPath) == s.dir {
			errs = append(errs, os.Truncate(s.srcPath, 0))
		}
		s.disk.refundAll()
		if ferr := errors.Join(errs...); ferr != nil {
			return fmt.Errorf("%w; emptying its files failed: %w", err, ferr)
		}
		return fmt.Errorf("%w; its packets were dropped and its files emptied", err)
	}
	if !s.gzipped || s.spool == nil {
		return err
	}
	var end int64
	if n := s.Count(); n > 0 {
		rec, rerr := s.record(n - 1)
		if rerr != nil {
			return errors.Join(err, rerr)
		}
		end = rec.DataOff + int64(rec.CapLen)
	}
	if st, serr := s.spool.Stat(); serr == nil && st.Size() > end {
		if terr := s.spool.Truncate(end); terr != nil {
			return errors.Join(err, fmt.Errorf("cut the spool: %w", terr))
		}
		s.disk.refund(st.Size() - end)
	}
	return err
}

// indexBytesPerPacket is what a packet's index record and summary are
// allowed for when a live capture checks that a batch of packets fits in
// the disk budget with their index.
const indexBytesPerPacket = recordSize + 256
