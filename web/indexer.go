package web

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// publishEvery is the longest time indexed packets wait before they become
// visible to readers; firstPublish is the packet count after which the first
// rows are published at once.
const (
	publishEvery = 100 * time.Millisecond
	firstPublish = 200
)

var errSpoolLimit = errors.New("the decompressed capture exceeds the upload size limit")

// countingReader counts the bytes read through it, and calls before (when
// set) ahead of every read from r, which may block.
type countingReader struct {
	r      io.Reader
	n      int64
	before func()
}

func (cr *countingReader) Read(p []byte) (int, error) {
	if cr.before != nil {
		cr.before()
	}
	n, err := cr.r.Read(p)
	cr.n += int64(n)
	return n, err
}

// limitedWriter fails once more than max bytes have been written.
type limitedWriter struct {
	w   io.Writer
	max int64
	n   int64
}

func (lw *limitedWriter) Write(p []byte) (int, error) {
	if lw.n+int64(len(p)) > lw.max {
		return 0, errSpoolLimit
	}
	n, err := lw.w.Write(p)
	lw.n += int64(n)
	return n, err
}

// runIndex reads the capture's source once, from start to end, writing one
// index record and one summary per packet, and publishes them in batches so
// rows can be served while it runs. A gzip source is decompressed into a
// spool file of at most maxSpool bytes on the way. A fault in the file ends
// the pass with the packets before it kept.
func (c *Capture) runIndex(ctx context.Context, maxSpool int64) {
	defer close(c.done)
	err := c.index1(ctx, maxSpool)
	if err != nil && ctx.Err() == nil {
		err = c.dropOnFault(err)
	}
	c.mu.Lock()
	switch {
	case err == nil:
		c.state = stateReady
	case ctx.Err() != nil:
		c.state = stateError
		c.errMsg = "indexing cancelled"
	default:
		c.state = stateError
		c.errMsg = err.Error()
	}
	if ctx.Err() == nil {
		c.saveMetaLocked()
	}
	c.signalLocked()
	c.mu.Unlock()
	c.notify()
}

func (c *Capture) index1(ctx context.Context, maxSpool int64) error {
	f, err := os.Open(c.srcPath)
	if err != nil {
		return fmt.Errorf("open capture: %w", err)
	}
	defer f.Close()
	p := &indexPass{c: c, src: &countingReader{r: f}, lastPub: time.Now()}
	br := bufio.NewReaderSize(p.src, 1<<20)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		files, err := createFiles(c.dir, "spool")
		if err != nil {
			return err
		}
		spool := files[0]
		c.mu.Lock()
		c.spool = spool
		c.gzipped = true
		c.mu.Unlock()
		p.spoolW = bufio.NewWriterSize(&limitedWriter{w: chargedWriter{w: spool, d: c.disk}, max: maxSpool}, 1<<20)
		in = io.TeeReader(zr, p.spoolW)
	} else {
		spool, err := os.Open(c.srcPath)
		if err != nil {
			return fmt.Errorf("open spool: %w", err)
		}
		c.mu.Lock()
		c.spool = spool
		c.mu.Unlock()
	}
	p.idxW = c.newBufWriter(c.index)
	p.sumW = c.newBufWriter(c.sums)

	r, err := pcapio.NewReader(in)
	if err != nil {
		return fmt.Errorf("not a pcap or pcapng file: %w", err)
	}
	c.mu.Lock()
	if c.live == nil { // a live capture's spool, recovered, stays "live"
		c.format = formatName(r.Format())
		c.order = r.ByteOrder()
	}
	c.mu.Unlock()
	batches := make(chan *batch, batchesInFlight-2)
	free := make(chan *batch, batchesInFlight)
	for range batchesInFlight {
		free <- &batch{}
	}
	rerr := make(chan error, 1)
	go func() { rerr <- p.read(ctx, r, batches, free) }()
	werr := p.write(batches, free)
	return errors.Join(<-rerr, werr)
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
