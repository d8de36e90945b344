//go:build linux

package platform

import (
	"net"

	"golang.org/x/sys/unix"

	"github.com/pkttap/pkttap/pcapio"
)

// interfaces lists the kernel's interfaces in the calling thread's network
// namespace, followed by the "any" pseudo-interface. Each one's link type
// comes from its ARPHRD type, read with an ioctl on an ordinary UDP socket,
// which needs no privilege; an interface that vanished in between keeps
// the type fromNetInterface guessed.
func interfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, &PlatformError{Op: "list interfaces", Err: err}
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, &PlatformError{Op: "list interfaces", Err: sysErr("socket AF_INET", err)}
	}
	defer unix.Close(fd)
	out := make([]Interface, 0, len(ifs)+1)
	for _, ifi := range ifs {
		it, err := fromNetInterface(ifi)
		if err != nil {
			return nil, err
		}
		if _, arphrd, err := interfaceInfo(fd, ifi.Name); err == nil {
			it.LinkType, _ = linkTypeForARPHRD(arphrd)
		}
		out = append(out, it)
	}
	out = append(out, Interface{
		Name:        anyInterface,
		Description: "Pseudo-device that captures on all interfaces",
		Up:          true,
		LinkType:    pcapio.LinkTypeLinuxSLL,
	})
	return out, nil
}
