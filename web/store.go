package web

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// newID returns a fresh capture id (16 hex digits).
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// validID reports whether id has the shape newID gives, so an id from a URL
// can never name anything but a capture.
func validID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for _, r := range id {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// cleanName turns an uploaded file name into a display name: its last path
// element, printable characters only, at most 120 bytes. It is never used
// as a path.
func cleanName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > 120 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "." || name == ".." {
		name = "capture"
	}
	return name
}

// newCaptureDir creates the private folder of a new capture and returns its
// id and path.
func (s *Server) newCaptureDir() (string, string, error) {
	id := newID()
	dir := filepath.Join(s.cfg.DataDir, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("create capture folder: %w", err)
	}
	return id, dir, nil
}

// startCapture registers a capture received whole into srcPath, a file of
// its folder dir, and starts its index pass. Its metadata file, written
// first, keeps it for a server started later on the same data dir.
func (s *Server) startCapture(id, dir, name, srcPath string, disk *diskCharge) (*Capture, error) {
	m := &captureMeta{Version: metaVersion, Name: name, Created: time.Now(), Source: filepath.Base(srcPath)}
	if err := writeMeta(dir, m); err != nil {
		return nil, err
	}
	return s.indexCapture(&Capture{id: id, name: name, created: m.Created, dir: dir, srcPath: srcPath, saved: m, disk: disk})
}

// indexCapture registers c, whose id, name, folder and source file are
// set, and starts its index pass.
func (s *Server) indexCapture(c *Capture) (*Capture, error) {
	st, err := os.Stat(c.srcPath)
	if err != nil {
		return nil, fmt.Errorf("capture source: %w", err)
	}
	files, err := createFiles(c.dir, "index", "summaries")
	if err != nil {
		return nil, err
	}
	c.size, c.index, c.sums, c.state = st.Size(), files[0], files[1], stateIndexing
	if err := s.register(c); err != nil {
		closeFiles(files...)
		return nil, err
	}
	id, name := c.id, c.name
	go func() {
		select {
		case s.indexes <- struct{}{}:
			defer func() { <-s.indexes }()
		case <-c.ctx.Done():
		}
		c.runIndex(c.ctx, s.cfg.MaxUpload)
	}()
	s.log.Info("capture opened", "id", id, "name", name, "bytes", c.size)
	s.notify()
	return c, nil
}

// OpenFile opens a capture file from the server's disk (pkttap-web --open).
// The file is read in place, never modified or removed. Its index is not
// kept for a later server (which opens the files it is given).
func (s *Server) OpenFile(path string) (*Capture, error) {
	id, dir, err := s.newCaptureDir()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	c, err := s.indexCapture(&Capture{id: id, name: cleanName(filepath.Base(abs)), created: time.Now(), dir: dir, srcPath: abs, disk: s.disk.newCharge()})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return c, nil
}

// register gives a new capture what every capture starts with (its change
// channel, filter cache, context and done channel, and the server's
// notify) and adds it to the server's list, unless the server is shutting
// down. The caller has set the capture's own fields and starts its run.
func (s *Server) register(c *Capture) error {
	c.changed = make(chan struct{})
	c.filters = s.filters.forCapture(c)
	c.notify = s.notify
	c.compiles = s.compiles
	if c.disk == nil {
		c.disk = s.disk.newCharge()
	}
	c.log = s.log
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.done = make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.cancel()
		return errors.New("server is shutting down")
	}
	s.captures[c.id] = c
	s.order = append(s.order, c.id)
	return nil
}

// createFiles creates new private files in dir, all or none.
func createFiles(dir string, names ...string) ([]*os.File, error) {
	files := make([]*os.File, 0, len(names))
	for _, name := range names {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			closeFiles(files...)
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
		files = append(files, f)
	}
	return files, nil
}

// closeFiles closes files that hold nothing worth an error message.
func closeFiles(files ...*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// removeDir removes a capture folder that never became a capture.
func removeDir(dir string) { os.RemoveAll(dir) }

// errDiskBudget marks a write refused by the disk budget.
var errDiskBudget = errors.New("over the disk budget")

// diskBudget is the server-wide limit on the bytes its captures hold in the
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
	return fmt.Errorf("%w: the captures would take more than %s on disk (pkttap-web --max-disk): delete captures to make room", errDiskBudget, formatBytes(b.max))
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
func (c *Capture) newBufWriter(f *os.File) *bufio.Writer {
	return bufio.NewWriterSize(chargedWriter{w: f, d: c.disk}, 256<<10)
}

// dropOnFault gives back the disk a capture whose index pass failed with
// err holds beyond what stays viewable, and returns the error to show.
// Over a size limit (the disk budget, or a decompressed size over
// --max-upload), nothing is kept: the packets are forgotten and every file
// of the capture is emptied, so that a gzip bomb leaves nothing on disk.
// After a fault in the file itself, the packets before the fault are kept
// on purpose, and a decompressed spool is cut after the last of them.
func (c *Capture) dropOnFault(err error) error {
	if errors.Is(err, errDiskBudget) || errors.Is(err, errSpoolLimit) {
		if errors.Is(err, errDiskBudget) {
			err = c.disk.b.exceeded() // once, however many writes it refused
		}
		c.count.Store(0)
		c.filters.cancelAll()
		c.mu.Lock()
		c.linkTypes, c.ifaces = nil, nil
		c.mu.Unlock()
		var errs []error
		for _, f := range []*os.File{c.spool, c.index, c.sums} {
			if f != nil && filepath.Dir(f.Name()) == c.dir {
				errs = append(errs, f.Truncate(0))
			}
		}
		if filepath.Dir(c.srcPath) == c.dir {
			errs = append(errs, os.Truncate(c.srcPath, 0))
		}
		c.disk.refundAll()
		if ferr := errors.Join(errs...); ferr != nil {
			return fmt.Errorf("%w; emptying its files failed: %w", err, ferr)
		}
		return fmt.Errorf("%w; its packets were dropped and its files emptied", err)
	}
	if !c.gzipped || c.spool == nil {
		return err
	}
	var end int64
	if n := c.Packets(); n > 0 {
		rec, rerr := c.record(n - 1)
		if rerr != nil {
			return errors.Join(err, rerr)
		}
		end = rec.DataOff + int64(rec.CapLen)
	}
	if st, serr := c.spool.Stat(); serr == nil && st.Size() > end {
		if terr := c.spool.Truncate(end); terr != nil {
			return errors.Join(err, fmt.Errorf("cut the spool: %w", terr))
		}
		c.disk.refund(st.Size() - end)
	}
	return err
}

// indexBytesPerPacket is what a packet's index record and summary are
// allowed for when a live capture checks that a batch of packets fits in
// the disk budget with their index.
const indexBytesPerPacket = recordSize + 256
