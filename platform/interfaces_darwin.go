//go:build darwin

package platform

import "net"

// interfaces lists the system's interfaces with their addresses.
func interfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, &PlatformError{Op: "list interfaces", Err: err}
	}
	out := make([]Interface, 0, len(ifs))
	for _, ifi := range ifs {
		it, err := fromNetInterface(ifi)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}
