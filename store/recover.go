package store

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/pkttap/pkttap/capture"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/pkttap/pkttap/internal/dirlock"
	"github.com/pkttap/pkttap/pcapio"
)

// interruptedLive is the stop reason of a live capture recovered after the
// pool ended without stopping it (pkttap-web killed, or the machine went down).
const interruptedLive = "pkttap-web ended while capturing: recovered up to the last packets written to disk"

// recoverStores lists again the stores a previous pool left in the data dir:
// every capture whose data was complete (an upload received whole, a live
// capture's spool up to its last flush), re-indexing those whose index was
// cut short, and removes what no capture will use (partial uploads, the
// index files of incomplete ones, leftover temporary files). Folders that
// do not look like pkttap-web's are left alone.
func (p *Pool) recoverStores() {
	entries, err := os.ReadDir(p.cfg.DataDir)
	if err != nil {
		p.log.Warn("recover captures", "err", err)
		return
	}
	type found struct {
		id string
		m  *captureMeta
	}
	var list []found
	for _, e := range entries {
		if !e.IsDir() || !ValidID(e.Name()) {
			continue
		}
		if m := p.inspectDir(e.Name()); m != nil {
			list = append(list, found{e.Name(), m})
		}
	}
	slices.SortFunc(list, func(a, b found) int { return cmp.Or(a.m.Created.Compare(b.m.Created), cmp.Compare(a.id, b.id)) })
	for _, f := range list {
		dir := filepath.Join(p.cfg.DataDir, f.id)
		if err := p.restore(f.id, dir, f.m); err != nil {
			p.log.Warn("recover capture: removed", "id", f.id, "name", f.m.Name, "err", err)
			removeDir(dir)
		}
	}
}

// capturePart reports whether name is a file pkttap-web puts in a capture
// folder.
func capturePart(name string) bool {
	return name == "upload" || name == metaName || name == metaTemp || name == notesName || name == notesTemp || slices.Contains(cacheFiles, name)
}

// inspectDir returns the metadata of capture folder id when its capture is
// to be listed again. It removes the folder of a capture that never became
// whole (an upload cut short), and leaves alone a folder holding anything
// pkttap-web does not write.
func (p *Pool) inspectDir(id string) *captureMeta {
	dir := filepath.Join(p.cfg.DataDir, id)
	entries, err := os.ReadDir(dir)
	if err != nil {
		p.log.Warn("recover capture", "id", id, "err", err)
		return nil
	}
	for _, e := range entries {
		if !capturePart(e.Name()) {
			p.log.Warn("recover capture: left alone, it holds a file pkttap-web does not write", "dir", dir, "file", e.Name())
			return nil
		}
	}
	m, err := readMeta(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.log.Info("recover capture: removed an incomplete capture folder (an upload cut short, or the index of a file opened in place)", "id", id)
		removeDir(dir)
		return nil
	case err != nil:
		p.log.Warn("recover capture: left alone", "dir", dir, "err", err)
		return nil
	}
	if !capturePart(m.Source) || m.Source == metaName || m.Source == metaTemp || m.Source == notesName || m.Source == notesTemp {
		p.log.Warn("recover capture: left alone, its metadata names no capture file", "dir", dir, "source", m.Source)
		return nil
	}
	os.Remove(filepath.Join(dir, metaTemp))
	os.Remove(filepath.Join(dir, notesTemp))
	return m
}

// restore lists the capture of folder dir again: as its metadata says,
// when its index is whole; else with its index made again from its source
// (a live spool first cut to its last whole block).
func (p *Pool) restore(id, dir string, m *captureMeta) (err error) {
	src := filepath.Join(dir, m.Source)
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("capture file: %w", err)
	}
	// Its files count against the disk budget as they are (see
	// diskCharge.take); the index pass of one made again charges its new
	// files as it writes them.
	c := &Store{id: id, name: m.Name, created: m.Created, dir: dir, srcPath: src, saved: m, disk: p.disk.newCharge()}
	defer func() {
		if err != nil {
			c.disk.refundAll()
		}
	}()
	if m.Live != nil {
		c.live = &liveState{
			opts: m.Live.Options, maxSpool: m.Live.MaxSpool, stats: m.Live.Stats,
			spoolBytes: m.Live.SpoolBytes, stopReason: cmp.Or(m.Live.Stopped, interruptedLive), sources: m.Live.Sources,
		}
		c.format = "live"
		for i := range c.live.sources {
			if c.live.sources[i].State == capture.SourceRunning { // it was, when pkttap-web ended
				c.live.sources[i].State = capture.SourceStopped
			}
		}
	}
	if m.Index != nil && indexWhole(dir, m) {
		for _, size := range m.Index.Files {
			c.disk.take(size)
		}
		if err := p.reopen(c, m.Index); err != nil {
			return err
		}
		p.log.Info("capture recovered", "id", id, "name", m.Name, "packets", m.Index.Packets)
		return nil
	}
	// The index was cut short, or the capture never finished: everything
	// but the source is made again.
	for _, name := range cacheFiles {
		if name != m.Source {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	m.Index = nil
	if m.Live != nil {
		data, err := truncateSpool(src, m.Live.HeaderBytes)
		if err != nil {
			return err
		}
		c.live.spoolBytes = data
	}
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("capture file: %w", err)
	}
	c.disk.take(st.Size())
	if _, err := p.startIndex(c); err != nil {
		return err
	}
	p.log.Info("capture recovered: indexing it again", "id", id, "name", m.Name)
	return nil
}

// indexWhole reports whether the folder's files are as they were when its
// index pass ended, in this version's encoding: each of the sizes the
// metadata gives, no cache file more, and one index record per packet.
func indexWhole(dir string, m *captureMeta) bool {
	ix := m.Index
	if ix.Version != indexVersion {
		return false
	}
	sizes, err := fileSizes(dir, append([]string{m.Source}, cacheFiles...)...)
	if err != nil || len(sizes) != len(ix.Files) || ix.Files["index"] != ix.Packets*recordSize {
		return false
	}
	for name, size := range ix.Files {
		if got, ok := sizes[name]; !ok || got != size {
			return false
		}
	}
	return true
}

// reopen registers c, whose index is whole, with the state ix gives.
func (p *Pool) reopen(c *Store, ix *indexMeta) error {
	dir := c.dir
	spool := c.srcPath
	if _, ok := ix.Files["spool"]; ok {
		spool = filepath.Join(dir, "spool")
	}
	var files []*os.File
	for _, path := range []string{spool, filepath.Join(dir, "index"), filepath.Join(dir, "summaries")} {
		f, err := os.Open(path)
		if err != nil {
			closeFiles(files...)
			return err
		}
		files = append(files, f)
	}
	c.spool, c.index, c.sums = files[0], files[1], files[2]
	if f, err := os.Open(filepath.Join(dir, streamsName)); err == nil {
		c.strm = f // indexWhole checked its size
	}
	if err := c.loadReassembly(); err != nil {
		closeFiles(append(files, c.strm)...)
		return err
	}
	c.size = ix.Files[filepath.Base(c.srcPath)]
	c.state, c.errMsg, c.format, c.gzipped = ix.State, ix.Error, ix.Format, ix.Gzip
	c.linkTypes, c.ifaces = ix.LinkTypes, ix.Ifaces
	c.first, c.minTS, c.maxTS, c.timed, c.nanoTS, c.readBytes = ix.First, ix.MinTS, ix.MaxTS, ix.Timed, ix.NanoTS, ix.ReadBytes
	if c.live == nil {
		c.order = binary.ByteOrder(binary.LittleEndian)
		if ix.BigEndian {
			c.order = binary.BigEndian
		}
	}
	c.count.Store(ix.Packets)
	if err := p.register(c); err != nil {
		closeFiles(files...)
		return err
	}
	close(c.done)
	return nil
}

// truncateSpool cuts a live spool after its last whole packet block (or
// its headerBytes of headers, when it has none), and returns the captured
// bytes of its packets. A block cut short is what a crash in the middle of
// a write leaves.
func truncateSpool(path string, headerBytes int64) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("open spool: %w", err)
	}
	defer f.Close()
	r, err := pcapio.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("read spool: %w", err)
	}
	end, data := headerBytes, int64(0)
	for {
		p, err := r.NextZeroCopy()
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			break
		}
		end = epbEnd(r.DataOffset(), len(p.Data))
		data += int64(len(p.Data))
	}
	if err := f.Truncate(end); err != nil {
		return 0, fmt.Errorf("cut the spool's last block: %w", err)
	}
	return data, nil
}

// lockDataDir takes the data dir for this pool, with a clear error when
// another running pkttap-web has it.
func lockDataDir(dir string) (*dirlock.Lock, error) {
	l, err := dirlock.Acquire(dir)
	if errors.Is(err, dirlock.ErrLocked) {
		return nil, fmt.Errorf("data dir %w: another pkttap-web uses it (give each its own --data-dir)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	return l, nil
}

// closeCaptures stops and closes cs, keeping their files: a live capture
// stops with its packets so far indexed and its metadata saved.
func (p *Pool) closeCaptures(cs []*Store) error {
	var errs []error
	for _, c := range cs {
		if c.live != nil {
			c.stopLive("pkttap-web stopped")
		}
		if err := c.close(false); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
