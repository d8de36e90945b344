//go:build linux

package platform

import "net"

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
