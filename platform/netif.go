package platform

import (
	"fmt"
	"net"

	"github.com/pkttap/pkttap/pcapio"
)

// fromNetInterface converts a net.Interface with its addresses.
func fromNetInterface(ifi net.Interface) (Interface, error) {
	it := Interface{
		Name:         ifi.Name,
		Index:        ifi.Index,
		Up:           ifi.Flags&net.FlagUp != 0,
		Loopback:     ifi.Flags&net.FlagLoopback != 0,
		HardwareAddr: ifi.HardwareAddr,
		LinkType:     usualLinkType(ifi.HardwareAddr),
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

// usualLinkType is the link type macOS usually captures an interface
// with, known for certain only once a BPF device is bound to it: EN10MB
// when it has an Ethernet hardware address (Wi-Fi too, outside monitor
// mode), NULL for the rest (loopback, utun, gif and stf tunnels).
func usualLinkType(mac net.HardwareAddr) pcapio.LinkType {
	if len(mac) == 6 {
		return pcapio.LinkTypeEthernet
	}
	return pcapio.LinkTypeNull
}
