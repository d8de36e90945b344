package platform

import (
	"fmt"
	"net"
)

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
