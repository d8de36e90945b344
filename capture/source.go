package capture

import (
	"math"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// Source is a packet source made outside this package, such as a capture
// on a remote host (package capture/remote): FromSource gives it the
// Capture API, so a program reads it as it reads a live interface or a
// file.
type Source interface {
	// Next blocks until the next packet and returns it, its Data owned by
	// the caller. It is called from one goroutine at a time. Once Close
	// was called it must return promptly, with any error (the Capture
	// reports ErrClosed).
	Next() (pcapio.Packet, error)
	// LinkType returns the link type of the source's packets.
	LinkType() pcapio.LinkType
	// Stats returns the source's counts so far; it may be called from any
	// goroutine.
	Stats() (Stats, error)
	// Close stops the source and releases what it holds. It may be called
	// from any goroutine, also while Next is blocked, which it must wake.
	Close() error
}

// FromSource returns a Capture reading packets from src. opts are what the
// Capture's FilterOptions returns: how a filter for this source compiles
// (for a remote live capture, LiveFilterOptionsFor the remote system).
// Packets are passed on as src returns them: the source applies its own
// filter and snap length.
func FromSource(src Source, opts filter.Options) *Capture {
	s := &externalSource{s: src}
	return &Capture{src: s, owner: s, snaplen: math.MaxInt, opts: opts}
}

// externalSource adapts a Source to the package's own source interface.
type externalSource struct{ s Source }

func (e *externalSource) next(p *pcapio.Packet) error { return e.nextOwned(p) }

func (e *externalSource) nextOwned(p *pcapio.Packet) error {
	var err error
	*p, err = e.s.Next()
	return err
}

func (e *externalSource) linkType() pcapio.LinkType      { return e.s.LinkType() }
func (e *externalSource) stats() (Stats, error)          { return e.s.Stats() }
func (e *externalSource) close() error                   { return e.s.Close() }
func (e *externalSource) reclaim()                       {}
func (e *externalSource) interfaces() []pcapio.Interface { return nil }
