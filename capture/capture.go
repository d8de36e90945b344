package capture

import (
	"bytes"
	"errors"
	"io"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// source is where a Capture's packets come from: a file or an OS interface.
type source interface {
	// next stores the next packet in p (Data valid until the next call) or
	// returns io.EOF at the end of a file.
	next(p *pcapio.Packet) error
	linkType() pcapio.LinkType
	stats() (Stats, error)
	close() error
	// reclaim is called, in place of next, by a reader that finds the
	// capture closed: a live source gives back the memory Close left lent
	// to the reader (see platform.Source); a file has none.
	reclaim()
	// interfaces returns a file's interfaces read so far (nil when live).
	interfaces() []pcapio.Interface
}

// ownedSource is a source that can also return packets whose Data the
// caller owns without a copy (a file: pcapio hands out its read buffers).
type ownedSource interface {
	nextOwned(p *pcapio.Packet) error
}

// intoSource is a source that copies a packet into the caller's memory
// itself, before it lets go of its own buffer (a live capture: so that a
// Close from another goroutine never finds the reader still copying out of
// the kernel's ring). Next and NextInto copy through it.
type intoSource interface {
	nextInto(p *pcapio.Packet, buf []byte) error
}

// readMode is how next asks the source for a packet.
type readMode int

const (
	readZeroCopy readMode = iota // src.next: Data is the source's
	readOwned                    // owner.nextOwned: Data is the caller's, no copy
	readInto                     // into.nextInto: Data copied to the caller's buf
)

// Stats counts a capture's packets.
type Stats struct {
	// Received is the number of packets the capture received: for a live
	// capture the operating system's count, as libpcap's ps_recv (on Linux
	// the packets the kernel filter accepted, on macOS every packet the
	// device saw, before filtering; see platform.Stats), for a file every
	// packet read so far (before filtering).
	Received uint64
	// Dropped is the number of packets the operating system dropped because
	// the capture did not read them fast enough (0 for a file).
	Dropped uint64
	// IfDropped is the number of packets the interface or driver dropped,
	// where the operating system reports it: Linux does; Windows (Npcap),
	// macOS and files give 0.
	IfDropped uint64
}

// Capture is an open capture, live or from a file. Next, NextInto,
// NextZeroCopy and Packets must be called from one goroutine at a time (the
// reader); Close, LinkType and Stats may be called from any goroutine at any
// time, Close also while the reader is in one of those calls or is still
// using a packet NextZeroCopy returned (see Close).
type Capture struct {
	src     source
	owner   ownedSource     // src when it can hand out owned packets, else nil
	into    intoSource      // src when it copies packets out itself, else nil
	filter  *filter.Matcher // a file's filter; nil: keep everything
	cur     pcapio.Packet   // filled by src.next in place: fewer copies per packet
	snaplen int
	opts    filter.Options // how Filter compiles for this capture
	closed  atomic.Bool

	mu         sync.Mutex // guards the two below
	finalStats Stats      // the counts when Close was called
	finalErr   error
}

// Next blocks until the next packet that passes the filter and returns it;
// the caller owns its Data. It returns io.EOF at the end of a file (never
// for a live capture) and ErrClosed after Close.
func (c *Capture) Next() (pcapio.Packet, error) {
	switch {
	case c.owner != nil:
		return c.next(readOwned, nil)
	case c.into != nil:
		return c.next(readInto, nil)
	}
	p, err := c.next(readZeroCopy, nil)
	if err != nil {
		return p, err
	}
	p.Data = bytes.Clone(p.Data)
	return p, nil
}

// NextInto is Next with memory the caller provides: it copies the packet's
// Data to buf[:0], as append does, allocating only when buf is too small.
// The caller owns the result and the capture keeps no reference to it, so
// a loop that is done with each packet before the next can pass the
// previous packet's Data back and read a file or a live interface with no
// allocation per packet. On error buf is left as it was.
func (c *Capture) NextInto(buf []byte) (pcapio.Packet, error) {
	if c.into != nil {
		return c.next(readInto, buf)
	}
	p, err := c.next(readZeroCopy, nil)
	if err != nil {
		return p, err
	}
	p.Data = append(buf[:0], p.Data...)
	return p, nil
}

// NextZeroCopy is Next without the copy: the returned packet's Data points
// into the capture's own buffer (the file reader's or the kernel's ring) and
// is valid only until the next call to Next, NextInto or NextZeroCopy. Use
// it to look at each packet once and move on (count it, match it, write it
// to a Dump); copy what must be kept. It does not allocate for each packet.
//
// A Close from another goroutine does not cut that validity short: the
// reader may finish with the packet it holds, and its next call returns
// ErrClosed. For a live capture Close releases the interface's socket and
// ring at once but leaves the memory pages under that one packet mapped
// (a private copy, on Linux) until that next call or, should the reader
// never call again, until the Capture is garbage-collected. (Close called
// by the reader itself ends the packet's validity, as any later use of it
// would be after the reader's last call.)
func (c *Capture) NextZeroCopy() (pcapio.Packet, error) { return c.next(readZeroCopy, nil) }

// next returns the next packet that passes the filter, cut to the snap
// length, read from the source as how says (into buf for readInto).
func (c *Capture) next(how readMode, buf []byte) (pcapio.Packet, error) {
	for {
		if c.closed.Load() {
			c.src.reclaim()
			return pcapio.Packet{}, ErrClosed
		}
		var err error
		switch how {
		case readOwned:
			err = c.owner.nextOwned(&c.cur)
		case readInto:
			// Only live sources copy, and they have no filter here (it
			// runs in the kernel), so buf is written only on success.
			err = c.into.nextInto(&c.cur, buf)
		default:
			err = c.src.next(&c.cur)
		}
		if err != nil {
			if c.closed.Load() && err != io.EOF {
				return pcapio.Packet{}, ErrClosed
			}
			return pcapio.Packet{}, err
		}
		p := &c.cur
		// The filter sees the whole packet, as a kernel filter does before
		// the snap length is applied.
		if c.filter != nil && !c.filter.Match(p.LinkType, p.Data, p.Length) {
			continue
		}
		if len(p.Data) > c.snaplen {
			p.Data = p.Data[:c.snaplen]
		}
		return *p, nil
	}
}

// Packets returns an iterator over the capture's packets, each owned by the
// caller as with Next. It ends at the end of a file and once the capture is
// closed; any other error is yielded once, with a zero Packet, as the last
// element.
func (c *Capture) Packets() iter.Seq2[pcapio.Packet, error] {
	return func(yield func(pcapio.Packet, error) bool) {
		for {
			p, err := c.Next()
			if errors.Is(err, io.EOF) || errors.Is(err, ErrClosed) {
				return
			}
			if !yield(p, err) || err != nil {
				return
			}
		}
	}
}

// LinkType returns the link-layer header type of the capture's packets: the
// interface's for a live capture, the file header's (pcap) or first
// interface's (pcapng) for a file. A pcapng file may hold interfaces of
// other link types too; each Packet carries its own.
func (c *Capture) LinkType() pcapio.LinkType { return c.src.linkType() }

// FilterOptions returns the options Filter compiles with for this capture's
// LinkType: for a live capture, for the operating system's filter (on Linux
// the socket's); for a file, in the file's byte order and, unless
// Builder.Snaplen set one, with the file's snap length, as libpcap compiles
// for a capture file. Compile with them to print the program a capture runs
// (Program.Dump) or to pass it to FilterProgram.
func (c *Capture) FilterOptions() filter.Options { return c.opts }

// FileInterfaces returns the interfaces of a file capture as read so far:
// for pcap the one its header describes, for pcapng those of the current
// section (at least all described before its first packet; the file's
// link types and interface names). It returns nil for a live capture. Pass
// them to DumpBuilder.Interfaces to copy a pcapng file whose interfaces
// have different link types. Call it from the goroutine that reads.
func (c *Capture) FileInterfaces() []pcapio.Interface { return c.src.interfaces() }

// Stats returns the capture's packet counts so far; after Close, the counts
// at the time of Close.
func (c *Capture) Stats() (Stats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return c.finalStats, c.finalErr
	}
	return c.src.stats()
}

// Close stops the capture and releases its resources. It may be called
// from any goroutine at any time: a Next, NextInto, NextZeroCopy or Packets
// loop in another goroutine, blocked waiting for packets or not, returns
// ErrClosed (or ends) promptly, after at most the packet it was returning;
// Close never takes away memory the reader is still copying from, nor the
// packet NextZeroCopy last returned (see NextZeroCopy). Closing twice is
// harmless.
func (c *Capture) Close() error {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return nil
	}
	c.finalStats, c.finalErr = c.src.stats()
	c.closed.Store(true)
	c.mu.Unlock()
	err := c.src.close()
	if _, ok := c.src.(*externalSource); ok {
		// A Source's counts are final once it is closed: a remote
		// tcpdump, for one, reports its drops as it ends.
		c.mu.Lock()
		c.finalStats, c.finalErr = c.src.stats()
		c.mu.Unlock()
	}
	return err
}
