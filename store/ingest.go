package store

import (
	"bufio"
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

// The ingest pipeline. Every store, a file or a live capture, is filled by
// the same two stages: a reader copies its source's packets into batches
// (a queue), and an indexer takes the batches, spools their packets when
// the source needs it (a live capture), decodes their summaries on every
// CPU, appends each packet's record and summary to disk in order, and
// publishes them so rows can be served while it runs. Sources differ only
// in where packets come from and where their bytes are kept (see source).
//
// Batching: the indexer takes the queued batches at once when one is full
// (batchPackets packets or batchBytes bytes), when firstPublish packets
// have been read (so the first rows show at once), when the source has
// ended, and at least every publishEvery (livePublishEvery for a live
// capture, whose followers wait for it). There are batchesInFlight
// batches in all, so a reader far ahead of the indexer waits (for a live
// capture the kernel then buffers, and counts what it has to drop).
const (
	publishEvery     = 100 * time.Millisecond
	livePublishEvery = 20 * time.Millisecond
	firstPublish     = 200
	batchPackets     = 1024
	batchBytes       = 256 << 10
	batchesInFlight  = 4
	maxSummarizers   = 4 // goroutines decoding one batch's summaries
)

// batchPkt is one packet in a batch: where its bytes are in the batch's
// buffer and what the index record needs.
type batchPkt struct {
	start, end int
	dataOff    int64 // in the spool; spoolIt until the indexer spools it
	ts         int64
	wireLen    int
	linkType   pcapio.LinkType
	ifIndex    int    // in Store.ifaces
	comment    string // the packet's pcapng comment
	noTime     bool   // the packet has no timestamp (ts is 0)
}

// spoolIt is the dataOff of a packet whose bytes the indexer spools.
const spoolIt = -1

// batch carries packets from the reader to the indexer.
type batch struct {
	data     []byte
	pkts     []batchPkt
	srcBytes int64 // source bytes consumed when its last packet was read
}

// source is where an ingest's packets come from: a capture file (its
// packets are in the spool already) or a live capture (the indexer spools
// them).
type source interface {
	// next returns the next packet, its Data valid until the next call,
	// with the offset of its bytes in the spool (spoolIt when the indexer
	// is to spool them) and its interface's index in Store.ifaces. It
	// returns io.EOF when there are no more: at the end of a file, or once
	// a live capture is closed.
	next() (p pcapio.Packet, off int64, ifIndex int, err error)
	// consumed returns the source bytes read so far.
	consumed() int64
}

// spooler is where the indexer puts the bytes of the packets it takes.
type spooler interface {
	// add spools the packets of b that the spool takes, setting their
	// dataOff, and returns how many it took (the first ones); a live
	// spool stops taking packets at its size limit or the disk budget.
	add(b *batch) (int, error)
	// flush puts what add spooled on disk, before the packets are
	// published.
	flush() error
}

// queue hands packets from the reader to the indexer in batches: the
// reader fills cur and, when it is full, queues it and takes a free batch;
// the indexer takes the queued batches, and cur too when it holds packets
// (see take).
type queue struct {
	mu     sync.Mutex
	cur    *batch        // being filled by the reader
	full   []*batch      // filled, oldest first
	free   []*batch      // empty
	room   *sync.Cond    // signalled when batches are freed or the queue halts
	kick   chan struct{} // cap 1: a batch is full, the first rows are in, or the reader has ended
	total  int64         // packets read
	ended  bool          // the reader has stopped; cur holds its last packets
	err    error         // why, when not at the end of its source
	halted bool          // the reader is to stop
}

func newQueue() *queue {
	q := &queue{cur: &batch{}, kick: make(chan struct{}, 1)}
	for range batchesInFlight - 1 {
		q.free = append(q.free, &batch{})
	}
	q.room = sync.NewCond(&q.mu)
	return q
}

// fullLocked reports whether cur can take no more packets.
func (q *queue) fullLocked() bool {
	return len(q.cur.pkts) >= batchPackets || len(q.cur.data) >= batchBytes
}

// read is the reader: it copies each packet of src into the queue until
// src ends or fails, or the queue halts.
func (q *queue) read(src source) {
	for {
		pkt, off, ifIndex, err := src.next()
		q.mu.Lock()
		for err == nil && !q.halted && q.fullLocked() {
			if n := len(q.free); n > 0 {
				q.full = append(q.full, q.cur)
				q.cur, q.free = q.free[n-1], q.free[:n-1]
				break
			}
			q.wake()
			q.room.Wait()
		}
		if err != nil || q.halted {
			q.ended = true
			if err != io.EOF {
				q.err = err
			}
			q.mu.Unlock()
			q.wake()
			return
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
		b := q.cur
		start := len(b.data)
		b.data = append(b.data, pkt.Data...)
		b.pkts = append(b.pkts, batchPkt{
			start: start, end: len(b.data), dataOff: off, ts: ts,
			wireLen: pkt.Length, linkType: pkt.LinkType, ifIndex: ifIndex,
			comment: pkt.Comment, noTime: noTime,
		})
		b.srcBytes = src.consumed()
		q.total++
		if q.total == firstPublish || q.fullLocked() {
			q.wake()
		}
		q.mu.Unlock()
	}
}

func (q *queue) wake() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// take returns the batches to index, oldest first, and whether the reader
// has ended (then they are its last) and why.
func (q *queue) take(dst []*batch) ([]*batch, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	dst = append(dst[:0], q.full...)
	q.full = q.full[:0]
	if len(q.cur.pkts) > 0 {
		switch n := len(q.free); {
		case q.ended:
			dst = append(dst, q.cur)
			q.cur = &batch{}
		case n > 0:
			dst = append(dst, q.cur)
			q.cur, q.free = q.free[n-1], q.free[:n-1]
		}
	}
	return dst, q.ended, q.err
}

// give returns indexed batches to the free list.
func (q *queue) give(bs []*batch) {
	q.mu.Lock()
	for _, b := range bs {
		b.data, b.pkts = b.data[:0], b.pkts[:0]
		q.free = append(q.free, b)
	}
	q.room.Broadcast()
	q.mu.Unlock()
}

// halt makes the reader stop before its next packet.
func (q *queue) halt() {
	q.mu.Lock()
	q.halted = true
	q.room.Broadcast()
	q.mu.Unlock()
}

// ingest reads src to its end into the store, spooling through sp, and
// returns why the reader stopped (nil at the end of its source) and the
// indexer's first write error. It publishes what it has at least every
// interval. progress, when set, is called after each round of batches,
// with ended true and those errors after the last.
func (s *Store) ingest(src source, sp spooler, q *queue, every time.Duration, progress func(ended bool, rerr, werr error)) (rerr, werr error) {
	ix := &indexer{s: s, idxW: s.newBufWriter(s.index), sumW: s.newBufWriter(s.sums)}
	ix.st, werr = s.openStreams()
	go q.read(src)
	var batches []*batch
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-q.kick:
		}
		var ended bool
		batches, ended, rerr = q.take(batches)
		if werr != nil {
			q.halt()
		}
		added := false
		for _, b := range batches {
			if werr != nil || len(b.pkts) == 0 {
				continue
			}
			n, err := sp.add(b)
			if err != nil {
				werr = err
			}
			if n > 0 {
				b.pkts = b.pkts[:n]
				ix.add(b)
				added = true
			}
		}
		if added && werr == nil {
			// The spool first: a published record never points past its
			// file's end.
			if werr = sp.flush(); werr == nil {
				werr = ix.publish()
			}
		}
		if werr != nil {
			q.halt()
		}
		q.give(batches)
		if progress != nil {
			progress(ended, rerr, werr)
		}
		if ended {
			ix.st.release()
			return rerr, werr
		}
	}
}

// indexer is the indexing stage of an ingest.
type indexer struct {
	s      *Store
	idxW   *bufio.Writer
	sumW   *bufio.Writer
	sumOff int64
	n      int64
	recBuf [recordSize]byte
	sumBuf []byte
	sums   []dissect.Summary // of the batch being indexed
	st     *streamTrack      // stream tracking (streams.go)
}

// add indexes every packet of b.
func (ix *indexer) add(b *batch) {
	ix.st.track(ix.s, b) // in order, before the summaries that show it
	ix.summarize(b)
	for i := range b.pkts {
		ix.addPacket(b.data, &b.pkts[i], &ix.sums[i])
		ix.st.write(i)
	}
	s := ix.s
	s.mu.Lock()
	if s.live == nil {
		s.readBytes = b.srcBytes
	}
	s.mu.Unlock()
}

// summarize decodes the summaries of a batch's packets into ix.sums,
// spreading the batch over the CPUs (decoding is most of an ingest's
// work).
func (ix *indexer) summarize(b *batch) {
	ix.sums = slices.Grow(ix.sums[:0], len(b.pkts))[:len(b.pkts)]
	workers := min(runtime.GOMAXPROCS(0), maxSummarizers, len(b.pkts))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(b.pkts)/workers, (w+1)*len(b.pkts)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				bp := &b.pkts[i]
				ix.sums[i] = dissect.Options{Stream: &ix.st.infos[i], Reassembled: ix.st.reasm[i]}.Summarize(bp.linkType, b.data[bp.start:bp.end], bp.wireLen)
			}
		})
	}
	wg.Wait()
}

// addPacket writes the record and summary of one packet.
func (ix *indexer) addPacket(data []byte, bp *batchPkt, sum *dissect.Summary) {
	pkt := data[bp.start:bp.end]
	ix.sumBuf = appendSummary(ix.sumBuf[:0], &summary{
		Source: sum.Source, Destination: sum.Destination, Protocol: sum.Protocol, Info: sum.Info, Tags: sum.Tags,
		Comment: bp.comment,
	})
	rec := record{
		DataOff:  bp.dataOff,
		TSNanos:  bp.ts,
		CapLen:   uint32(len(pkt)),
		WireLen:  uint32(bp.wireLen),
		LinkType: bp.linkType,
		IfIndex:  uint32(bp.ifIndex),
		SumOff:   ix.sumOff,
		SumLen:   uint32(len(ix.sumBuf)),
	}
	if bp.comment != "" {
		rec.Flags |= flagComment
	}
	if bp.noTime {
		rec.Flags |= flagNoTime
	}
	rec.put(ix.recBuf[:])
	// bufio writers only fail with the underlying file's error, which
	// publish reports at the next flush.
	ix.sumW.Write(ix.sumBuf)
	ix.idxW.Write(ix.recBuf[:])
	ix.sumOff += int64(len(ix.sumBuf))
	ix.n++

	s, ts := ix.s, bp.ts
	s.mu.Lock()
	if !bp.noTime {
		if s.timed == 0 {
			s.first, s.minTS, s.maxTS = ts, ts, ts
		}
		s.timed++
		s.minTS = min(s.minTS, ts)
		s.maxTS = max(s.maxTS, ts)
	}
	if ts%1000 != 0 {
		s.nanoTS = true
	}
	if !slices.Contains(s.linkTypes, bp.linkType) {
		s.linkTypes = append(s.linkTypes, bp.linkType)
	}
	s.mu.Unlock()
}

// publish flushes the summaries and the index (in that order, so a
// published record never points past written data) and makes the new
// packets visible.
func (ix *indexer) publish() error {
	if err := ix.st.flush(); err != nil {
		return err
	}
	if err := ix.sumW.Flush(); err != nil {
		return fmt.Errorf("write summaries: %w", err)
	}
	if err := ix.idxW.Flush(); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	s := ix.s
	s.count.Store(ix.n)
	s.mu.Lock()
	s.signalLocked()
	s.mu.Unlock()
	s.notify()
	return nil
}

// errSpoolLimit marks a gzip file that decompresses to more than the
// pool's Config.MaxSpool.
var errSpoolLimit = errors.New("the decompressed capture exceeds the upload size limit")
