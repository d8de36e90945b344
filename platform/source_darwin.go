//go:build darwin

package platform

import (
	"errors"
	"fmt"
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// open opens a /dev/bpf device on cfg.Interface: the device is found and
// bound here, with macOS's ioctls; reading, waiting, the counters and
// Close are bpfReader's, which tests run on every Unix system.
func open(cfg Config) (src Source, err error) {
	name := cfg.Interface
	if name == "" {
		return nil, &PlatformError{Op: "open", Err: errors.New("no interface given (list them with Interfaces)")}
	}
	fd, err := openBPFDevice(func(path string, flags int) (int, error) { return unix.Open(path, flags, 0) }, "/dev", name)
	if err != nil {
		return nil, err
	}
	var r *bpfReader
	defer func() {
		if err == nil {
			return
		}
		if r != nil {
			r.release()
		}
		unix.Close(fd)
	}()
	size, err := bindBPF(fd, name)
	if err != nil {
		return nil, err
	}
	// Immediate mode stays off: the device hands a buffer over when it is
	// full or when the read timeout expires (libpcap's default), so under
	// load one read carries many packets instead of one wake-up each.
	timeout := cfg.blockTimeout()
	tv := unix.NsecToTimeval(timeout.Nanoseconds())
	if err = ioctlPtr(fd, unix.BIOCSRTIMEOUT, unsafe.Pointer(&tv)); err != nil {
		return nil, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("ioctl BIOCSRTIMEOUT: %w", err)}
	}
	if err = unix.IoctlSetPointerInt(fd, unix.BIOCSHDRCMPLT, 1); err != nil {
		return nil, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("ioctl BIOCSHDRCMPLT: %w", err)}
	}
	dlt, err := unix.IoctlGetInt(fd, unix.BIOCGDLT)
	if err != nil {
		return nil, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("ioctl BIOCGDLT: %w", err)}
	}
	lt, err := linkTypeFromDLT("darwin", uint32(dlt))
	if err != nil {
		return nil, &PlatformError{Op: "open", Interface: name, Err: err}
	}
	ifindex := 0
	if ifi, err := net.InterfaceByName(name); err == nil {
		ifindex = ifi.Index
	}
	r, err = newBPFReader(bpfReaderConfig{
		fd: fd, bufSize: size, timeout: timeout, lt: lt, snaplen: cfg.snaplen(),
		ifindex: ifindex, ifname: name, readStats: bpfStats,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Promiscuous {
		// libpcap only warns when the device refuses: the capture still
		// sees the host's own traffic.
		if err := unix.IoctlSetInt(fd, unix.BIOCPROMISC, 0); err != nil {
			r.warn(name, fmt.Errorf("promiscuous mode refused, capturing only this host's traffic (ioctl BIOCPROMISC: %w)", err))
		}
	}
	// BIOCSETF also drops whatever was buffered before it, so nothing
	// captured before the filter can be read.
	if err = setBPFFilter(fd, name, lt, cfg.FilterFor, r.snaplen); err != nil {
		return nil, err
	}
	return r, nil
}
