package web

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/pkttap/pkttap/dissect"
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

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (cr *countingReader) Read(p []byte) (int, error) {
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

// indexPass is the state of one streaming index pass.
type indexPass struct {
	c       *Capture
	src     *countingReader
	spoolW  *bufio.Writer // non-nil when the source is gzip: the decompressed copy
	idxW    *bufio.Writer
	sumW    *bufio.Writer
	sumOff  int64
	n       int64
	lastPub time.Time
	recBuf  [recordSize]byte
	sumBuf  []byte
}

// runIndex reads the capture's source once, from start to end, writing one
// index record and one summary per packet, and publishes them in batches so
// rows can be served while it runs. A gzip source is decompressed into a
// spool file of at most maxSpool bytes on the way. A fault in the file ends
// the pass with the packets before it kept.
func (c *Capture) runIndex(ctx context.Context, maxSpool int64) {
	defer close(c.done)
	err := c.index1(ctx, maxSpool)
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
		spool, err := os.OpenFile(c.path("spool"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("create spool: %w", err)
		}
		c.mu.Lock()
		c.spool = spool
		c.gzipped = true
		c.mu.Unlock()
		p.spoolW = bufio.NewWriterSize(&limitedWriter{w: spool, max: maxSpool}, 1<<20)
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
	p.idxW = bufio.NewWriterSize(c.index, 256<<10)
	p.sumW = bufio.NewWriterSize(c.sums, 256<<10)

	r, err := pcapio.NewReader(in)
	if err != nil {
		return fmt.Errorf("not a pcap or pcapng file: %w", err)
	}
	c.mu.Lock()
	c.format = formatName(r.Format())
	c.mu.Unlock()
	for {
		pkt, err := r.NextZeroCopy()
		if err == io.EOF {
			return p.publish()
		}
		if err != nil {
			perr := p.publish()
			if errors.Is(err, errSpoolLimit) {
				err = errSpoolLimit
			}
			return errors.Join(fmt.Errorf("after packet %d: %w", p.n, err), perr)
		}
		if p.n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		p.add(&pkt, r.DataOffset())
		if p.n == firstPublish || (p.n%256 == 0 && time.Since(p.lastPub) >= publishEvery) {
			if err := p.publish(); err != nil {
				return err
			}
		}
	}
}

// add writes the record and summary of one packet.
func (p *indexPass) add(pkt *pcapio.Packet, dataOff int64) {
	s := dissect.Summarize(pkt.LinkType, pkt.Data, pkt.Length)
	p.sumBuf = appendSummary(p.sumBuf[:0], &summary{
		Source: s.Source, Destination: s.Destination, Protocol: s.Protocol, Info: s.Info, Tags: s.Tags,
	})
	ts := pkt.Timestamp.UnixNano()
	rec := record{
		DataOff:  dataOff,
		TSNanos:  ts,
		CapLen:   uint32(len(pkt.Data)),
		WireLen:  uint32(pkt.Length),
		LinkType: pkt.LinkType,
		IfIndex:  uint32(pkt.InterfaceIndex),
		SumOff:   p.sumOff,
		SumLen:   uint32(len(p.sumBuf)),
	}
	rec.put(p.recBuf[:])
	// bufio writers only fail with the underlying file's error, which
	// publish reports at the next flush.
	p.sumW.Write(p.sumBuf)
	p.idxW.Write(p.recBuf[:])
	p.sumOff += int64(len(p.sumBuf))
	p.n++

	c := p.c
	c.mu.Lock()
	if p.n == 1 {
		c.first, c.minTS, c.maxTS = ts, ts, ts
	}
	c.last = ts
	c.minTS = min(c.minTS, ts)
	c.maxTS = max(c.maxTS, ts)
	if ts%1000 != 0 {
		c.nanoTS = true
	}
	if !slices.Contains(c.linkTypes, pkt.LinkType) {
		c.linkTypes = append(c.linkTypes, pkt.LinkType)
	}
	c.mu.Unlock()
}

// publish flushes the spool, summaries and index (in that order, so a
// published record never points past written data) and makes the new
// packets visible.
func (p *indexPass) publish() error {
	if p.spoolW != nil {
		if err := p.spoolW.Flush(); err != nil {
			return fmt.Errorf("write spool: %w", err)
		}
	}
	if err := p.sumW.Flush(); err != nil {
		return fmt.Errorf("write summaries: %w", err)
	}
	if err := p.idxW.Flush(); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	p.lastPub = time.Now()
	c := p.c
	c.count.Store(p.n)
	c.mu.Lock()
	c.readBytes = p.src.n
	c.signalLocked()
	c.mu.Unlock()
	c.notify()
	return nil
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
