package web

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
func (s *Server) startCapture(id, dir, name, srcPath string) (*Capture, error) {
	m := &captureMeta{Version: metaVersion, Name: name, Created: time.Now(), Source: filepath.Base(srcPath)}
	if err := writeMeta(dir, m); err != nil {
		return nil, err
	}
	return s.indexCapture(&Capture{id: id, name: name, created: m.Created, dir: dir, srcPath: srcPath, saved: m})
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
	c, err := s.indexCapture(&Capture{id: id, name: cleanName(filepath.Base(abs)), created: time.Now(), dir: dir, srcPath: abs})
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
	c.filters = newFilterCache()
	c.notify = s.notify
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

// newBufWriter buffers appends to an index or summaries file.
func newBufWriter(f *os.File) *bufio.Writer { return bufio.NewWriterSize(f, 256<<10) }
