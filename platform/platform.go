package platform

import (
	"errors"
	"net"
	"time"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/pcapio"
)

// DefaultSnaplen is the snap length used when Config.Snaplen is zero:
// pcapio.MaxSnaplen, the largest packet libpcap captures (MAXIMUM_SNAPLEN).
const DefaultSnaplen = pcapio.MaxSnaplen

// Ring defaults for Linux's TPACKET_V3 receive ring (see Config). The kernel
// hands a block over when it is full or when the timeout expires, which
// bounds the delivery latency (50 ms: imperceptible in a live view) and
// sets how often a reader is woken under light traffic (20 times a second;
// each wake-up costs some microseconds of CPU). Since every block then
// holds only one timeout's worth of packets, the ring absorbs NumBlocks ×
// BlockTimeout (3.2 s) of a reader that is not scheduled; under heavy
// traffic its 16 MiB hold about 100 000 small packets. A block of 256 KiB
// holds any GRO/GSO packet of up to 64 KiB whole.
const (
	DefaultBlockSize    = 256 << 10             // bytes per ring block
	DefaultNumBlocks    = 64                    // blocks in the ring
	DefaultBlockTimeout = 50 * time.Millisecond // a partly filled block is handed over after this
)

// Config says what to capture and how.
type Config struct {
	// Interface is the OS name of the interface ("eth0", "en0", "Ethernet"
	// or "\Device\NPF_{GUID}" on Windows). On Linux "any" captures on all
	// interfaces (cooked, LINUX_SLL).
	Interface string
	// Snaplen is the most bytes kept of each packet; the packet's on-wire
	// length is kept in Packet.Length. Zero means DefaultSnaplen.
	Snaplen int
	// Promiscuous asks the interface to pass up frames addressed to other
	// hosts for as long as the source is open. Linux's "any" device has no
	// promiscuous mode (as with libpcap, the flag is ignored there).
	Promiscuous bool
	// FilterFor is called once the link type is known and before any
	// packet can be delivered, so no packet the filter rejects ever reaches
	// the caller; nil accepts all. The program runs in the kernel: on Linux
	// it must be compiled for a socket (filter.TargetLinuxSocket), where
	// cooked and VLAN fields are read through SKF_AD_* extension loads.
	FilterFor func(lt pcapio.LinkType) ([]bpf.RawInstruction, error)
	// BlockSize, NumBlocks and BlockTimeout tune Linux's TPACKET_V3 ring:
	// the size of a block in bytes (a multiple of the page size; zero means
	// DefaultBlockSize), the number of blocks (zero means
	// DefaultNumBlocks) and how long a partly filled block may wait before
	// the kernel hands it over (zero means DefaultBlockTimeout; rounded up
	// to whole milliseconds). macOS uses BlockTimeout as its BPF read
	// timeout, Windows as Npcap's; other systems ignore them.
	BlockSize, NumBlocks int
	BlockTimeout         time.Duration
}

// blockTimeout returns BlockTimeout, or DefaultBlockTimeout when it is not
// positive.
func (c *Config) blockTimeout() time.Duration {
	if c.BlockTimeout <= 0 {
		return DefaultBlockTimeout
	}
	return c.BlockTimeout
}

func (c *Config) snaplen() int {
	if c.Snaplen <= 0 || c.Snaplen > DefaultSnaplen {
		return DefaultSnaplen
	}
	return c.Snaplen
}

// Source is an open packet source on a live interface. One goroutine at a
// time reads (NextZeroCopy, NextInto); LinkType, Stats and Close may be
// called from any goroutine at any time.
type Source interface {
	// NextZeroCopy blocks until a packet arrives and returns it. The
	// packet's Data points into the source's buffer (on Linux the kernel's
	// ring) and stays valid until the reader's next call to NextZeroCopy
	// or NextInto, even when another goroutine calls Close in between:
	// Close then leaves the memory under that packet in place (on Linux a
	// private copy of its pages, mapped where they were, while the rest of
	// the ring and the socket are released at once), and the reader's
	// next call, which returns ErrClosed, releases it; so does the garbage
	// collector once the source is unreachable, should the reader never
	// call again. Copy Data to keep it. After Close it returns ErrClosed.
	NextZeroCopy() (pcapio.Packet, error)
	// NextInto is NextZeroCopy with the packet's Data copied to buf[:0],
	// as append does (allocating only when buf is too small), before the
	// source's buffer is let go: the caller owns Data, the source keeps
	// no reference to it, and nothing is lent that a Close must leave in
	// place. On error buf is left as it was.
	NextInto(buf []byte) (pcapio.Packet, error)
	// LinkType is the link-layer header type of every packet.
	LinkType() pcapio.LinkType
	// Stats returns the counters accumulated since Open; after Close, the
	// counts as they were when the source was closed.
	Stats() (Stats, error)
	// Close releases the source. It may be called from any goroutine at
	// any time, also while another goroutine is in NextZeroCopy or
	// NextInto, blocked waiting for packets or not: that call then
	// returns promptly (ErrClosed, or the packet it was returning, and
	// ErrClosed at the next call), and Close waits for it to leave the
	// source's buffer before releasing anything. Memory a packet from
	// NextZeroCopy points into outlives Close as NextZeroCopy says;
	// everything else (socket, ring, device handle) is released before
	// Close returns. Calling it again returns nil.
	Close() error
}

// Stats are a source's counters since it was opened.
type Stats struct {
	// Received counts packets received, including those then dropped, as
	// libpcap's ps_recv does, and like it differs by OS: on Linux the
	// packets the filter accepted; on macOS every packet the device saw,
	// before filtering (BIOCGSTATS); on Windows Npcap's ps_recv.
	Received uint64
	// Dropped counts packets the filter accepted that the kernel dropped
	// because the buffer was full.
	Dropped uint64
	// IfDropped counts packets the interface dropped since Open, where the
	// OS says: Linux's receive drops of the interface (as libpcap's
	// ps_ifdrop). It is always zero on Windows (Npcap's pcap_stats fills
	// no ps_ifdrop), on macOS and for "any".
	IfDropped uint64
}

// Interface describes one interface a capture can be opened on.
type Interface struct {
	// Name is what Config.Interface accepts: the OS's name for the device
	// ("eth0", "en0"; on Windows Npcap's \Device\NPF_{GUID}, which always
	// works, even for an adapter without a friendly name).
	Name string
	// FriendlyName is the name the OS shows people where it differs from
	// Name: on Windows the adapter's friendly name ("Ethernet", "Wi-Fi",
	// GetAdaptersAddresses' FriendlyName), which Config.Interface accepts
	// too; empty elsewhere.
	FriendlyName string
	// Description is a human-readable description where the OS has one
	// (Windows: Npcap's adapter description, "Intel(R) Ethernet ...").
	Description string
	// Index is the OS interface index (0 for pseudo-interfaces).
	Index int
	// Addresses are the interface's IP addresses with their prefixes.
	Addresses []net.IPNet
	// Up and Loopback are the interface's flags.
	Up, Loopback bool
	// HardwareAddr is the link-layer address, if any.
	HardwareAddr net.HardwareAddr
	// LinkType is the link-layer header type a live capture on the
	// interface delivers. On Linux it is what Source.LinkType reports once
	// the interface is opened (from the interface's ARPHRD type, as libpcap
	// maps it). On macOS and Windows the OS tells the type only once the
	// capture is open, and LinkType is the usual one: on macOS EN10MB for
	// an interface with an Ethernet hardware address (Wi-Fi too) and NULL
	// for the rest (loopback, utun and other tunnels); on Windows NULL for
	// Npcap's loopback adapter and EN10MB for the rest, which Npcap
	// presents as Ethernet. Source.LinkType has the last word.
	LinkType pcapio.LinkType
}

// ErrPermissionDenied is wrapped by errors returned when the OS refuses to
// open a capture for lack of privileges.
var ErrPermissionDenied = errors.New(permissionHint)

// ErrClosed is returned by NextZeroCopy after Close (Stats then returns
// the counts as they were at Close).
var ErrClosed = errors.New("platform: capture source is closed")

// PlatformError is an error from the OS capture facility: an interface that
// does not exist, a missing capture driver, a failing system call.
type PlatformError struct {
	// Op is the operation that failed ("open", "socket", "bind", ...).
	Op string
	// Interface is the interface concerned, if any.
	Interface string
	// Err is the underlying error.
	Err error
}

// Error returns "platform: OP INTERFACE: ERR".
func (e *PlatformError) Error() string {
	s := "platform: " + e.Op
	if e.Interface != "" {
		s += " " + e.Interface
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *PlatformError) Unwrap() error { return e.Err }

// Open opens a capture on cfg.Interface.
func Open(cfg Config) (Source, error) {
	return open(cfg)
}

// Warnings returns the problems src met while opening that did not stop
// it, as libpcap's pcap_activate reports them with a PCAP_WARNING result:
// on macOS a device that refused promiscuous mode (the capture then sees
// only the traffic of the host). It returns nil when there were none.
func Warnings(src Source) []error {
	if w, ok := src.(interface{ warnings() []error }); ok {
		return w.warnings()
	}
	return nil
}

// openWarnings collects a source's Warnings while it opens; embedded in a
// source, it is read-only once the source is returned.
type openWarnings struct {
	warns []error
}

// warn records a problem met while opening interface name that does not
// stop the capture.
func (w *openWarnings) warn(name string, err error) {
	w.warns = append(w.warns, &PlatformError{Op: "open", Interface: name, Err: err})
}

// warnings returns what warn recorded, for Warnings.
func (w *openWarnings) warnings() []error { return w.warns }

// Interfaces lists the interfaces a capture can be opened on.
func Interfaces() ([]Interface, error) {
	return interfaces()
}
