//go:build linux

package platform

import (
	"fmt"
	"net"
)

// interfaces lists the kernel's interfaces in the calling thread's network
// namespace, followed by the "any" pseudo-interface.
func interfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, &PlatformError{Op: "list interfaces", Err: err}
	}
	out := make([]Interface, 0, len(ifs)+1)
	for _, ifi := range ifs {
		it, err := fromNetInterface(ifi)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	out = append(out, Interface{
		Name:        anyInterface,
		Description: "Pseudo-device that captures on all interfaces",
		Up:          true,
	})
	return out, nil
}

// fromNetInterface converts a net.Interface with its addresses.
func fromNetInterface(ifi net.Interface) (Interface, error) {
	it := Interface{
		Name:         ifi.Name,
		Index:        ifi.Index,
		Up:           ifi.Flags&net.FlagUp != 0,
		Loopback:     ifi.Flags&net.FlagLoopback != 0,
		HardwareAddr: ifi.HardwareAddr,
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return it, &PlatformError{Op: "list addresses", Interface: ifi.Name, Err: fmt.Errorf("read addresses: %w", err)}
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			it.Addresses = append(it.Addresses, *n)
		}
	}
	return it, nil
}
