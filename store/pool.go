package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pkttap/pkttap/internal/dirlock"
	"github.com/pkttap/pkttap/internal/semaphore"
)

// DefaultDiskShare is the share of the data dir's free space the stores
// may take when Config.MaxDisk is 0.
const DefaultDiskShare = 0.5

// maxConcurrentIndexes bounds the index passes running at once; more wait
// for a slot.
const maxConcurrentIndexes = 4

// Config configures a Pool.
type Config struct {
	// DataDir is where the stores keep their files, a folder each; it
	// must exist. A pool holds it alone (OpenPool fails while another
	// holds it) and lists again the stores a previous pool left there,
	// however it ended.
	DataDir string
	// MaxDisk is the most bytes the stores may hold in DataDir, all
	// together: uploads, decompressed and live spools, indexes and
	// summaries (a file opened with OpenFile is read in place and not
	// counted). 0 means DefaultDiskShare of the free space in DataDir when
	// the pool opens; < 0 means no limit.
	MaxDisk int64
	// MaxSpool is the most bytes a gzip file may decompress to; 0 means
	// no limit.
	MaxSpool int64
	// MaxLive is the captured packet bytes at which a live capture stops
	// by itself (its spool's pcapng block headers aside); 0 means no limit
	// but the disk budget.
	MaxLive int64
	// MaxCompiles is how many filters compile at once (see
	// Pool.AcquireCompile); 0 means 1.
	MaxCompiles int
	// Logger receives the stores' logs; nil means slog.Default().
	Logger *slog.Logger
}

// Pool is the stores of one data dir and what they share: the disk budget,
// the compile slots, the index-pass slots and the filter jobs' workers.
type Pool struct {
	cfg      Config
	log      *slog.Logger
	indexes  chan struct{}       // index pass slots
	compiles semaphore.Semaphore // filter compile slots
	disk     *diskBudget         // what the stores' files may hold
	jobs     *filterJobs         // every store's filter jobs

	mu      sync.Mutex
	stores  map[string]*Store
	order   []string // ids, oldest first
	changed chan struct{}
	closed  bool
	lock    *dirlock.Lock // of the data dir, held until Close
}

// OpenPool opens the data dir cfg.DataDir: it takes its lock and lists
// again the stores a previous pool left there (see Config.DataDir).
func OpenPool(cfg Config) (*Pool, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.MaxCompiles = max(cfg.MaxCompiles, 1)
	if cfg.MaxLive <= 0 {
		cfg.MaxLive = math.MaxInt64
	}
	st, err := os.Stat(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("data dir %s is not a directory", cfg.DataDir)
	}
	var free int64 = -1 // the free space, when the budget is its share
	if cfg.MaxDisk == 0 {
		if free, err = freeSpace(cfg.DataDir); err != nil {
			cfg.Logger.Warn("no disk budget: the free space is unknown", "err", err)
			cfg.MaxDisk, free = -1, -1
		} else {
			cfg.MaxDisk = diskShare(free)
		}
	}
	p := &Pool{
		cfg:      cfg,
		log:      cfg.Logger,
		indexes:  make(chan struct{}, maxConcurrentIndexes),
		compiles: make(semaphore.Semaphore, cfg.MaxCompiles),
		disk:     &diskBudget{max: max(cfg.MaxDisk, 0)},
		jobs:     newFilterJobs(),
		stores:   map[string]*Store{},
		changed:  make(chan struct{}),
	}
	if p.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	p.recoverStores()
	if free >= 0 {
		// The stores recovered take their share of the disk as well as
		// the free space left.
		p.disk.mu.Lock()
		p.disk.max = diskShare(free + p.disk.used)
		p.disk.mu.Unlock()
	}
	return p, nil
}

// diskShare is the default disk budget for n bytes of disk: DefaultDiskShare
// of them, in whole MiB, at least 1 MiB.
func diskShare(n int64) int64 {
	return max(int64(float64(n)*DefaultDiskShare)&^(1<<20-1), 1<<20)
}

// MaxDisk returns the disk budget in bytes, 0 for none.
func (p *Pool) MaxDisk() int64 { return p.disk.max }

// DiskUsed returns the bytes the stores' files hold of the disk budget.
func (p *Pool) DiskUsed() int64 { return p.disk.usedBytes() }

// Fits reports whether n more bytes fit in the disk budget now; when they
// do not, the error says so (it wraps ErrDiskBudget).
func (p *Pool) Fits(n int64) error {
	if p.disk.fits(n) {
		return nil
	}
	return p.disk.exceeded()
}

// AcquireCompile takes one of the pool's compile slots for a filter about
// to be compiled, waiting at most wait (without limit when 0). It fails
// with semaphore.ErrBusy when the wait runs out, or ctx's error; otherwise
// the caller must call release. Filter jobs take these slots too.
func (p *Pool) AcquireCompile(ctx context.Context, wait time.Duration) (release func(), err error) {
	if err := p.compiles.Acquire(ctx, wait); err != nil {
		return nil, err
	}
	return p.compiles.Release, nil
}

// CompileSlots returns the number of compile slots and how many are taken.
func (p *Pool) CompileSlots() (slots, taken int) { return cap(p.compiles), p.compiles.Taken() }

// ScannedPackets returns the number of packets every filter job of the
// pool has scanned (packets read once for several jobs count once).
func (p *Pool) ScannedPackets() int64 { return p.jobs.scanned.Load() }

// notify wakes the watchers of Changed.
func (p *Pool) notify() {
	p.mu.Lock()
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// Changed returns a channel closed at the next change of any store: new
// packets, progress of an ingest or a filter job, a store added or removed.
func (p *Pool) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

// Get returns the store with the given id.
func (p *Pool) Get(id string) (*Store, bool) {
	if !ValidID(id) {
		return nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.stores[id]
	return s, ok
}

// List returns the stores, oldest first.
func (p *Pool) List() []*Store {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*Store, 0, len(p.order))
	for _, id := range p.order {
		out = append(out, p.stores[id])
	}
	return out
}

// Infos returns a snapshot of every store, oldest first.
func (p *Pool) Infos() []Info {
	ss := p.List()
	out := make([]Info, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.Info())
	}
	return out
}

// ErrNoStore reports an id no store has.
var ErrNoStore = errors.New("no such capture")

// Remove closes a store and deletes its files.
func (p *Pool) Remove(id string) error {
	p.mu.Lock()
	s, ok := p.stores[id]
	if ok {
		delete(p.stores, id)
		p.order = slices.DeleteFunc(p.order, func(e string) bool { return e == id })
	}
	p.mu.Unlock()
	if !ok {
		return fmt.Errorf("capture %s: %w", id, ErrNoStore)
	}
	err := s.close(true)
	p.notify()
	return err
}

// Close stops every live capture and index pass and closes every store,
// leaving its files in the data dir for a pool opened later on it, then
// releases the data dir.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	ss := make([]*Store, 0, len(p.order))
	for _, id := range p.order {
		ss = append(ss, p.stores[id])
	}
	p.stores, p.order = map[string]*Store{}, nil
	p.mu.Unlock()
	errs := []error{p.closeCaptures(ss)}
	if p.lock != nil {
		errs = append(errs, p.lock.Release())
		p.lock = nil
	}
	return errors.Join(errs...)
}

// newID returns a fresh store id (16 hex digits).
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// ValidID reports whether id has the shape of a store's id, so an id from a
// URL can never name anything but a store.
func ValidID(id string) bool {
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

// CleanName turns a file name into a display name: its last path element,
// printable characters only, at most 120 bytes. It is never used as a
// path.
func CleanName(name string) string {
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

// newDir creates the private folder of a new store and returns its id and
// path.
func (p *Pool) newDir() (string, string, error) {
	id := newID()
	dir := filepath.Join(p.cfg.DataDir, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("create capture folder: %w", err)
	}
	return id, dir, nil
}

// Add copies a capture file from r into a new store named name (cleaned
// with CleanName), charging its bytes to the disk budget, and starts its
// index pass. Its metadata file, written once the copy is whole, keeps it
// for a pool opened later on the same data dir. On error nothing is left
// on disk; an error from r is returned wrapped.
func (p *Pool) Add(name string, r io.Reader) (*Store, error) {
	name = CleanName(name)
	id, dir, err := p.newDir()
	if err != nil {
		return nil, err
	}
	srcPath := filepath.Join(dir, "upload")
	disk := p.disk.newCharge()
	err = writeFile(srcPath, r, disk)
	if err == nil {
		m := &captureMeta{Version: metaVersion, Name: name, Created: time.Now(), Source: filepath.Base(srcPath)}
		if err = writeMeta(dir, m); err == nil {
			var s *Store
			s, err = p.startIndex(&Store{id: id, name: name, created: m.Created, dir: dir, srcPath: srcPath, saved: m, disk: disk})
			if err == nil {
				return s, nil
			}
		}
	}
	os.RemoveAll(dir)
	disk.refundAll()
	return nil, err
}

// writeFile copies r into a new file at path, charging its bytes to disk.
func writeFile(path string, r io.Reader, disk *diskCharge) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create upload file: %w", err)
	}
	if _, err := io.Copy(chargedWriter{w: f, d: disk}, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write upload file: %w", err)
	}
	return nil
}

// OpenFile opens a capture file from the machine's disk in a new store.
// The file is read in place, never modified or removed. Its index is not
// kept for a later pool (which opens the files it is given).
func (p *Pool) OpenFile(path string) (*Store, error) {
	id, dir, err := p.newDir()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s, err := p.startIndex(&Store{id: id, name: CleanName(filepath.Base(abs)), created: time.Now(), dir: dir, srcPath: abs, disk: p.disk.newCharge()})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// startIndex registers s, whose id, name, folder and source file are set,
// and starts its index pass.
func (p *Pool) startIndex(s *Store) (*Store, error) {
	st, err := os.Stat(s.srcPath)
	if err != nil {
		return nil, fmt.Errorf("capture source: %w", err)
	}
	files, err := createFiles(s.dir, "index", "summaries")
	if err != nil {
		return nil, err
	}
	s.size, s.index, s.sums, s.state = st.Size(), files[0], files[1], StateIndexing
	if err := p.register(s); err != nil {
		closeFiles(files...)
		return nil, err
	}
	id, name := s.id, s.name
	go func() {
		select {
		case p.indexes <- struct{}{}:
			defer func() { <-p.indexes }()
		case <-s.ctx.Done():
		}
		s.runFile(s.ctx, p.cfg.MaxSpool)
	}()
	p.log.Info("capture opened", "id", id, "name", name, "bytes", s.size)
	p.notify()
	return s, nil
}

// register gives a new store what every store starts with (its change
// channel, context and done channel, and the pool) and adds it to the
// pool's list, unless the pool is closing. The caller has set the store's
// own fields and starts its run.
func (p *Pool) register(s *Store) error {
	s.changed = make(chan struct{})
	s.pool, s.jobs = p, p.jobs
	if s.disk == nil {
		s.disk = p.disk.newCharge()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.done = make(chan struct{})
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		s.cancel()
		return errors.New("pkttap-web is shutting down")
	}
	p.stores[s.id] = s
	p.order = append(p.order, s.id)
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

// removeDir removes a store folder that never became a store.
func removeDir(dir string) { os.RemoveAll(dir) }
