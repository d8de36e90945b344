package store

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/pkttap/pkttap/pcapio"
)

// fileSource reads a capture file's packets. The file is the spool (or,
// for a gzip file, its decompressed copy, written as it is read), so the
// packets' offsets are where the reader found them.
type fileSource struct {
	s   *Store
	r   *pcapio.Reader
	src *countingReader
	n   int // packets read
	// Interfaces are numbered per pcapng section; the index numbers them
	// across the file, in Store.ifaces, from secBase for the current
	// section.
	section, secBase, known int
}

func (f *fileSource) next() (pcapio.Packet, int64, int, error) {
	pkt, err := f.r.NextZeroCopy()
	if err != nil {
		if err == io.EOF {
			if f.n == 0 {
				// A file of only a header: its interfaces still tell its
				// link type.
				f.s.mu.Lock()
				if len(f.s.ifaces) == 0 {
					f.s.ifaces = append(f.s.ifaces, f.r.Interfaces()...)
				}
				f.s.mu.Unlock()
			}
			return pkt, 0, 0, io.EOF
		}
		if errors.Is(err, errSpoolLimit) {
			return pkt, 0, 0, fmt.Errorf("after packet %d: %w", f.n, errSpoolLimit)
		}
		return pkt, 0, 0, fmt.Errorf("after packet %d: %w", f.n, err)
	}
	f.n++
	if sec := f.r.Section(); sec != f.section {
		f.section, f.secBase, f.known = sec, f.secBase+f.known, 0
	}
	if ifs := f.r.Interfaces(); len(ifs) > f.known {
		f.s.mu.Lock()
		f.s.ifaces = append(f.s.ifaces, ifs[f.known:]...)
		f.s.mu.Unlock()
		f.known = len(ifs)
	}
	return pkt, f.r.DataOffset(), f.secBase + pkt.InterfaceIndex, nil
}

func (f *fileSource) consumed() int64 { return f.src.n.Load() }

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n.Add(int64(n))
	return n, err
}

// fileSpool is the spool of a file store: the file itself, whose packets
// need no spooling, or the decompressed copy of a gzip file, which the
// reader writes through w as it reads (nil for a plain file).
type fileSpool struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (fs *fileSpool) add(b *batch) (int, error) { return len(b.pkts), nil }

// Write is the reader's side of a gzip file's copy.
func (fs *fileSpool) Write(p []byte) (int, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.w.Write(p)
}

func (fs *fileSpool) flush() error {
	if fs.w == nil {
		return nil
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.w.Flush(); err != nil {
		return fmt.Errorf("write spool: %w", err)
	}
	return nil
}

// limitedWriter fails once more than max bytes have been written (max 0:
// no limit).
type limitedWriter struct {
	w   io.Writer
	max int64
	n   int64
}

func (lw *limitedWriter) Write(p []byte) (int, error) {
	if lw.max > 0 && lw.n+int64(len(p)) > lw.max {
		return 0, errSpoolLimit
	}
	n, err := lw.w.Write(p)
	lw.n += int64(n)
	return n, err
}

// runFile ingests the store's source file once, from start to end, and
// publishes its packets as it goes, so rows can be served while it runs.
// A gzip file is decompressed into a spool file of at most maxSpool bytes
// on the way. A fault in the file ends the pass with the packets before
// it kept.
func (s *Store) runFile(ctx context.Context, maxSpool int64) {
	defer close(s.done)
	err := s.indexFile(ctx, maxSpool)
	if err != nil && ctx.Err() == nil {
		err = s.dropOnFault(err)
	}
	s.mu.Lock()
	switch {
	case err == nil:
		s.state = StateReady
	case ctx.Err() != nil:
		s.state = StateError
		s.errMsg = "indexing cancelled"
	default:
		s.state = StateError
		s.errMsg = err.Error()
	}
	if ctx.Err() == nil {
		s.saveMetaLocked()
	}
	s.signalLocked()
	s.mu.Unlock()
	s.notify()
}

// indexFile opens the source file, as a spool and as a source, and
// ingests it.
func (s *Store) indexFile(ctx context.Context, maxSpool int64) error {
	f, err := os.Open(s.srcPath)
	if err != nil {
		return fmt.Errorf("open capture: %w", err)
	}
	defer f.Close()
	cr := &countingReader{r: f}
	br := bufio.NewReaderSize(cr, 1<<20)
	var in io.Reader = br
	sp := &fileSpool{}
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		files, err := createFiles(s.dir, "spool")
		if err != nil {
			return err
		}
		spool := files[0]
		s.mu.Lock()
		s.spool = spool
		s.gzipped = true
		s.mu.Unlock()
		sp.w = bufio.NewWriterSize(&limitedWriter{w: chargedWriter{w: spool, d: s.disk}, max: maxSpool}, 1<<20)
		in = io.TeeReader(zr, sp)
	} else {
		spool, err := os.Open(s.srcPath)
		if err != nil {
			return fmt.Errorf("open spool: %w", err)
		}
		s.mu.Lock()
		s.spool = spool
		s.mu.Unlock()
	}
	r, err := pcapio.NewReader(in)
	if err != nil {
		return fmt.Errorf("not a pcap or pcapng file: %w", err)
	}
	s.mu.Lock()
	if s.live == nil { // a live capture's spool, recovered, stays "live"
		s.format = formatName(r.Format())
		s.order = r.ByteOrder()
	}
	s.mu.Unlock()
	q := newQueue()
	stop := context.AfterFunc(ctx, q.halt)
	defer stop()
	rerr, werr := s.ingest(&fileSource{s: s, r: r, src: cr}, sp, q, publishEvery, nil)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Join(rerr, werr)
}

// formatName names a pcapio format for the API.
func formatName(f pcapio.Format) string {
	switch f {
	case pcapio.FormatPcap:
		return "pcap"
	case pcapio.FormatPcapNano:
		return "pcap-ns"
	case pcapio.FormatPcapNg:
		return "pcapng"
	}
	return fmt.Sprintf("format %d", int(f))
}
