package capture

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/platform"
	"golang.org/x/net/bpf"
)

// Live describes a capture from the network interface with the given name
// ("eth0", "any" on Linux, "en0" on macOS, "Ethernet" or
// \Device\NPF_{GUID} on Windows). Interfaces lists the names.
func Live(name string) Builder {
	return Builder{live: true, name: name}
}

// Promiscuous asks a live capture to put the interface in promiscuous mode,
// so frames addressed to other hosts are seen too, for as long as the
// capture is open. It has no effect on a file.
func (b Builder) Promiscuous(on bool) Builder {
	b.promisc = on
	return b
}

// ErrPermissionDenied is returned (wrapped; test with errors.Is) when the
// process is not allowed to capture on an interface. On Linux, run as root or
// grant the capability: sudo setcap cap_net_raw,cap_net_admin=ep BINARY. On
// macOS, run as root or make /dev/bpf* readable (Wireshark's ChmodBPF). On
// Windows, reinstall Npcap without "Restrict Npcap driver's access to
// Administrators only", or run as Administrator.
var ErrPermissionDenied = platform.ErrPermissionDenied

// PlatformError is the operating system refusing an operation on an
// interface: the interface does not exist, Npcap is not installed, the
// socket cannot be created. Op names the operation, Interface the
// interface, and Err the underlying cause. Its message says what to do.
type PlatformError = platform.PlatformError

// liveSource reads packets from an operating system interface.
type liveSource struct {
	name string
	s    platform.Source
}

// LiveFilterOptions returns the options a live capture with link type lt
// and snap length snaplen (as Builder.Snaplen: 0 means MaxSnaplen) compiles
// its filter with, the ones its FilterOptions returns once open: on Linux
// for the socket, whose filter sees VLAN tags and cooked headers through
// ancillary loads; elsewhere for the packet bytes as they are. With an
// Interface's LinkType, it checks an expression for an interface before a
// capture opens:
//
//	_, err := filter.Compile(expr, capture.LiveFilterOptions(ifc.LinkType, 0))
//
// "ip6" on a NULL or LOOP interface (loopback, tunnels) tests the system's
// own AF_INET6 in the link header, as libpcap does live: 10 on Linux, 30 on
// macOS, 24 on Windows (Npcap's loopback adapter).
func LiveFilterOptions(lt pcapio.LinkType, snaplen int) filter.Options {
	return liveFilterOptions(runtime.GOOS, lt, snaplen)
}

// LiveFilterOptionsFor is LiveFilterOptions for a live capture on the
// system goos (a GOOS value: "linux", "darwin", "windows"; any other gets
// the options of a capture file), such as a remote host's, whose tcpdump
// compiles the filter for its own kind of socket.
func LiveFilterOptionsFor(goos string, lt pcapio.LinkType, snaplen int) filter.Options {
	return liveFilterOptions(goos, lt, snaplen)
}

// liveFilterOptions is LiveFilterOptions for the system goos.
func liveFilterOptions(goos string, lt pcapio.LinkType, snaplen int) filter.Options {
	opts := filter.Options{LinkType: lt, Snaplen: resolveSnaplen(snaplen), Target: filter.TargetFile}
	switch goos {
	case "linux":
		opts.Target = filter.TargetLinuxSocket
	case "darwin":
		opts.LiveAFInet6 = filter.AFInet6Darwin
	case "windows":
		opts.LiveAFInet6 = filter.AFInet6BSD
	}
	return opts
}

// openLive opens a live capture described by b.
func openLive(b Builder, snaplen int) (*Capture, error) {
	var compileErr error
	cfg := platform.Config{Interface: b.name, Snaplen: snaplen, Promiscuous: b.promisc}
	switch {
	case b.prog != nil:
		prog := b.prog
		cfg.FilterFor = func(lt pcapio.LinkType) ([]bpf.RawInstruction, error) {
			if prog.LinkType != lt {
				compileErr = fmt.Errorf("capture: the filter program was compiled for link type %s, %s's is %s (compile it with filter.Options{LinkType: %s})", prog.LinkType, b.name, lt, lt)
				return nil, compileErr
			}
			return prog.Raw, nil
		}
	case !isBlank(b.expr):
		cfg.FilterFor = func(lt pcapio.LinkType) ([]bpf.RawInstruction, error) {
			prog, err := filter.Compile(b.expr, LiveFilterOptions(lt, snaplen))
			if err != nil {
				compileErr = fmt.Errorf("capture: filter %q for %s (link type %s): %w (see pcap-filter(7) for the syntax)", b.expr, b.name, lt, err)
				return nil, compileErr
			}
			return prog.Raw, nil
		}
	}
	s, err := platform.Open(cfg)
	if err != nil {
		if compileErr != nil {
			return nil, compileErr
		}
		return nil, fmt.Errorf("capture: live capture on %q: %w", b.name, err)
	}
	src := &liveSource{name: b.name, s: s}
	return &Capture{src: src, into: src, snaplen: snaplen, opts: LiveFilterOptions(s.LinkType(), snaplen)}, nil
}

func (l *liveSource) next(p *pcapio.Packet) error {
	var err error
	*p, err = l.s.NextZeroCopy()
	return l.readErr(err)
}

// nextInto copies the packet into buf inside the platform source, before
// it lets go of the ring.
func (l *liveSource) nextInto(p *pcapio.Packet, buf []byte) error {
	var err error
	*p, err = l.s.NextInto(buf)
	return l.readErr(err)
}

func (l *liveSource) readErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, platform.ErrClosed) {
		return ErrClosed
	}
	return fmt.Errorf("capture: read from %q: %w", l.name, err)
}

// reclaim makes the platform source's next call, which after Close returns
// ErrClosed and gives back what Close left lent to the reader. (Should
// Capture.Close, which marks the capture closed first, not have closed the
// platform source yet, the call returns a packet, copied and dropped, or
// waits until it does: either way the reader holds nothing of the ring.)
func (l *liveSource) reclaim() { l.s.NextInto(nil) }

func (l *liveSource) linkType() pcapio.LinkType { return l.s.LinkType() }

func (l *liveSource) interfaces() []pcapio.Interface { return nil }

func (l *liveSource) stats() (Stats, error) {
	st, err := l.s.Stats()
	if err != nil {
		return Stats{}, fmt.Errorf("capture: statistics of %q: %w", l.name, err)
	}
	return Stats{Received: st.Received, Dropped: st.Dropped, IfDropped: st.IfDropped}, nil
}

func (l *liveSource) close() error {
	if err := l.s.Close(); err != nil {
		return fmt.Errorf("capture: close %q: %w", l.name, err)
	}
	return nil
}

// Interface describes a network interface a live capture can open: its
// Name (what Live takes), and where the operating system has them a
// FriendlyName (Windows' "Ethernet", "Wi-Fi", which Live takes too), a
// Description, Index, Addresses, Up and Loopback flags and HardwareAddr.
type Interface = platform.Interface

// Interfaces lists the interfaces a live capture can open.
func Interfaces() ([]Interface, error) {
	ifs, err := platform.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("capture: list interfaces: %w", err)
	}
	return ifs, nil
}

// Warnings returns the problems a live capture met while opening that did
// not stop it, as libpcap's pcap_activate warns: on macOS an interface that
// refused promiscuous mode (the capture then sees only this host's
// traffic). It returns nil when there were none, and for a file.
func (c *Capture) Warnings() []error {
	if l, ok := c.src.(*liveSource); ok {
		return platform.Warnings(l.s)
	}
	return nil
}
