package web

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/pcapio"
)

// Batching between the two stages of the index pass: a batch is sent after
// batchPackets packets, batchBytes bytes of packet data, or publishEvery,
// whichever comes first; batchesInFlight bounds the batches in the pipeline
// (and so its memory).
const (
	batchPackets    = 1024
	batchBytes      = 256 << 10
	batchesInFlight = 4
	maxSummarizers  = 4 // goroutines decoding one batch's summaries
)

// batchPkt is one packet in a batch: where its bytes are in the batch's
// buffer and what the index record needs.
type batchPkt struct {
	start, end int
	dataOff    int64
	ts         int64
	wireLen    int
	linkType   pcapio.LinkType
	ifIndex    int    // in Capture.ifaces
	comment    string // the packet's pcapng comment
	noTime     bool   // the packet has no timestamp (ts is 0)
}

// batch carries packets from the reading stage to the writing stage.
type batch struct {
	data     []byte
	pkts     []batchPkt
	srcBytes int64 // source bytes consumed when the batch was sent
}

// indexPass is the state of one streaming index pass. It runs in two
// stages so that parsing the file and decoding the summaries overlap: the
// reading stage parses records and copies packets into batches; the writing
// stage decodes the batch's summaries on every CPU, then appends each
// packet's record and summary to disk in order.
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
	sums    []dissect.Summary // of the batch being written
}

// read is the reading stage: it parses the file and sends batches until
// the end of the file, a fault or cancellation, and returns why it stopped
// (nil at a clean end).
func (p *indexPass) read(ctx context.Context, r *pcapio.Reader, out chan<- *batch, free <-chan *batch) error {
	defer close(out)
	b := <-free
	sent := time.Now()
	var total int64
	send := func() error {
		if p.spoolW != nil {
			// The reader has consumed every byte of the batch's packets:
			// put them in the spool before anyone can ask for them.
			if err := p.spoolW.Flush(); err != nil {
				return fmt.Errorf("write spool: %w", err)
			}
		}
		b.srcBytes = p.src.n
		out <- b
		b = <-free
		b.data, b.pkts = b.data[:0], b.pkts[:0]
		sent = time.Now()
		return nil
	}
	// Before the source is read again (which may block, on a pipe), hand
	// over the packets parsed so far so their rows are served meanwhile.
	var hookErr error
	p.src.before = func() {
		if len(b.pkts) > 0 && hookErr == nil {
			hookErr = send()
		}
	}
	defer func() { p.src.before = nil }()
	// Interfaces are numbered per pcapng section; the index numbers them
	// across the file, in Capture.ifaces, from secBase for the current
	// section.
	section, secBase, known := 0, 0, 0
	for {
		pkt, err := r.NextZeroCopy()
		if hookErr != nil {
			return hookErr
		}
		if err != nil {
			serr := send()
			if err == io.EOF {
				if total == 0 {
					// A file of only a header: its interfaces still
					// tell its link type.
					p.c.mu.Lock()
					if len(p.c.ifaces) == 0 {
						p.c.ifaces = append(p.c.ifaces, r.Interfaces()...)
					}
					p.c.mu.Unlock()
				}
				return serr
			}
			if errors.Is(err, errSpoolLimit) || errors.Is(serr, errSpoolLimit) {
				return fmt.Errorf("after packet %d: %w", total, errSpoolLimit)
			}
			return errors.Join(fmt.Errorf("after packet %d: %w", total, err), serr)
		}
		total++
		if sec := r.Section(); sec != section {
			section, secBase, known = sec, secBase+known, 0
		}
		if ifs := r.Interfaces(); len(ifs) > known {
			p.c.mu.Lock()
			p.c.ifaces = append(p.c.ifaces, ifs[known:]...)
			p.c.mu.Unlock()
			known = len(ifs)
		}
		// A packet without a timestamp (a pcapng Simple Packet Block) has
		// the zero time, which UnixNano cannot represent: index it at the
		// epoch, so it can be written back out (pcapio refuses times
		// before 1970), marked as having no time, so it is shown so.
		var ts int64
		noTime := pkt.Timestamp.IsZero()
		if !noTime {
			ts = pkt.Timestamp.UnixNano()
		}
		start := len(b.data)
		b.data = append(b.data, pkt.Data...)
		b.pkts = append(b.pkts, batchPkt{
			start: start, end: len(b.data), dataOff: r.DataOffset(), ts: ts,
			wireLen: pkt.Length, linkType: pkt.LinkType, ifIndex: secBase + pkt.InterfaceIndex,
			comment: pkt.Comment, noTime: noTime,
		})
		if total == firstPublish || len(b.pkts) >= batchPackets || len(b.data) >= batchBytes ||
			(total%64 == 0 && time.Since(sent) >= publishEvery) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := send(); err != nil {
				return err
			}
		}
	}
}

// write is the writing stage: it indexes every packet of every batch and
// publishes them.
func (p *indexPass) write(in <-chan *batch, free chan<- *batch) error {
	var werr error
	for b := range in {
		if werr == nil {
			p.summarize(b)
			for i := range b.pkts {
				p.add(b.data, &b.pkts[i], &p.sums[i])
			}
			p.c.mu.Lock()
			p.c.readBytes = b.srcBytes
			p.c.mu.Unlock()
			// Publish at once when no batch waits (the reader is slower, or
			// stalled on a pipe), else every publishEvery.
			if len(in) == 0 || p.n <= firstPublish || time.Since(p.lastPub) >= publishEvery {
				werr = p.publish()
			}
		}
		free <- b // after an error, keep draining so the reader can stop
	}
	if werr != nil {
		return werr
	}
	return p.publish()
}

// summarize decodes the summaries of a batch's packets into p.sums,
// spreading the batch over the CPUs (decoding is most of an index pass's
// work).
func (p *indexPass) summarize(b *batch) {
	p.sums = slices.Grow(p.sums[:0], len(b.pkts))[:len(b.pkts)]
	workers := min(runtime.GOMAXPROCS(0), maxSummarizers, len(b.pkts))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(b.pkts)/workers, (w+1)*len(b.pkts)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				bp := &b.pkts[i]
				p.sums[i] = dissect.Summarize(bp.linkType, b.data[bp.start:bp.end], bp.wireLen)
			}
		})
	}
	wg.Wait()
}

// add writes the record and summary of one packet.
func (p *indexPass) add(data []byte, bp *batchPkt, s *dissect.Summary) {
	pkt := data[bp.start:bp.end]
	p.sumBuf = appendSummary(p.sumBuf[:0], &summary{
		Source: s.Source, Destination: s.Destination, Protocol: s.Protocol, Info: s.Info, Tags: s.Tags,
		Comment: bp.comment,
	})
	rec := record{
		DataOff:  bp.dataOff,
		TSNanos:  bp.ts,
		CapLen:   uint32(len(pkt)),
		WireLen:  uint32(bp.wireLen),
		LinkType: bp.linkType,
		IfIndex:  uint32(bp.ifIndex),
		SumOff:   p.sumOff,
		SumLen:   uint32(len(p.sumBuf)),
	}
	if bp.comment != "" {
		rec.Flags |= flagComment
	}
	if bp.noTime {
		rec.Flags |= flagNoTime
	}
	rec.put(p.recBuf[:])
	// bufio writers only fail with the underlying file's error, which
	// publish reports at the next flush.
	p.sumW.Write(p.sumBuf)
	p.idxW.Write(p.recBuf[:])
	p.sumOff += int64(len(p.sumBuf))
	p.n++

	c, ts := p.c, bp.ts
	c.mu.Lock()
	if !bp.noTime {
		if c.timed == 0 {
			c.first, c.minTS, c.maxTS = ts, ts, ts
		}
		c.timed++
		c.minTS = min(c.minTS, ts)
		c.maxTS = max(c.maxTS, ts)
	}
	if ts%1000 != 0 {
		c.nanoTS = true
	}
	if !slices.Contains(c.linkTypes, bp.linkType) {
		c.linkTypes = append(c.linkTypes, bp.linkType)
	}
	c.mu.Unlock()
}

// publish flushes the summaries and the index (in that order, so a
// published record never points past written data; the spool was flushed
// when the batch was sent) and makes the new packets visible.
func (p *indexPass) publish() error {
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
	c.signalLocked()
	c.mu.Unlock()
	c.notify()
	return nil
}
