package capture

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sync/atomic"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// fileSource reads packets from a pcap or pcapng stream.
type fileSource struct {
	name     string
	f        io.Closer // nil for standard input, which is not closed
	r        *pcapio.Reader
	received atomic.Uint64 // read by Stats from any goroutine
	// lt is r.LinkType() as of the last read, for LinkType from any
	// goroutine: r changes it, unsynchronized, on a new pcapng section or
	// a first interface after the header.
	lt atomic.Uint32
}

// openFile opens a file capture described by b.
func openFile(b Builder, snaplen int) (*Capture, error) {
	src, err := newFileSource(b.name)
	if err != nil {
		return nil, err
	}
	// Without Builder.Snaplen nothing is cut: every byte the file holds is
	// kept, and filters return the file's snap length (its first
	// interface's), as libpcap compiles them for a file.
	keep, filterSnap := snaplen, snaplen
	if !b.snapSet {
		keep, filterSnap = math.MaxInt, 0
		if ifs := src.r.Interfaces(); len(ifs) > 0 {
			filterSnap = resolveSnaplen(int(min(ifs[0].Snaplen, MaxSnaplen)))
		}
	}
	// Filters are compiled for the byte order of the file (pcap) or its
	// first section (pcapng), as libpcap does for files (it matters for
	// NULL's address family word).
	opts := filter.Options{LinkType: src.r.LinkType(), Snaplen: filterSnap, Target: filter.TargetFile, SavefileByteOrder: src.r.ByteOrder()}
	c := &Capture{src: src, owner: src, snaplen: keep, opts: opts}
	if c.filter, err = newFileFilter(b, opts, src.r.Interfaces()); err != nil {
		src.close()
		return nil, err
	}
	return c, nil
}

// newFileSource opens path ("-" for standard input) and reads its header.
func newFileSource(path string) (*fileSource, error) {
	var rc io.ReadCloser
	name := path
	if path == "-" {
		rc, name = io.NopCloser(os.Stdin), "standard input"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("capture: open capture file: %w", err)
		}
		rc = f
	}
	r, err := pcapio.NewReader(rc)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("capture: %s is not a readable pcap or pcapng file: %w", name, err)
	}
	s := &fileSource{name: name, r: r}
	s.lt.Store(uint32(r.LinkType()))
	if path != "-" {
		s.f = rc
	}
	return s, nil
}

func (s *fileSource) next(p *pcapio.Packet) error { return s.read(p, false) }

// reclaim has nothing to do: a file's buffers are Go memory.
func (s *fileSource) reclaim() {}

// nextOwned is next with Data the caller owns: pcapio hands out the buffer
// the bytes were read into and continues in a fresh one, so no copy is made.
func (s *fileSource) nextOwned(p *pcapio.Packet) error { return s.read(p, true) }

func (s *fileSource) read(p *pcapio.Packet, owned bool) error {
	var err error
	if owned {
		*p, err = s.r.Next()
	} else {
		*p, err = s.r.NextZeroCopy()
	}
	if err != nil {
		if err == io.EOF {
			return io.EOF
		}
		var fe *pcapio.FormatError
		if errors.As(err, &fe) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("capture: read %s after %d packets: %w (the file is damaged or was cut short; the packets before this point are good)", s.name, s.received.Load(), err)
		}
		return fmt.Errorf("capture: read %s: %w", s.name, err)
	}
	s.received.Add(1)
	if lt := uint32(s.r.LinkType()); lt != s.lt.Load() {
		s.lt.Store(lt)
	}
	return nil
}

func (s *fileSource) linkType() pcapio.LinkType { return pcapio.LinkType(s.lt.Load()) }

func (s *fileSource) interfaces() []pcapio.Interface { return slices.Clone(s.r.Interfaces()) }

func (s *fileSource) stats() (Stats, error) { return Stats{Received: s.received.Load()}, nil }

func (s *fileSource) close() error {
	if s.f == nil {
		return nil
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("capture: close %s: %w", s.name, err)
	}
	return nil
}
