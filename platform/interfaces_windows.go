//go:build windows

package platform

// interfaces lists Npcap's devices, described by their Windows friendly
// names where the adapter has one.
func interfaces() ([]Interface, error) {
	w, err := loadWpcap()
	if err != nil {
		return nil, err
	}
	devs, err := w.findAllDevs()
	if err != nil {
		return nil, err
	}
	ads, err := adapters()
	if err != nil {
		ads = nil // friendly names are a convenience; Npcap's names still work
	}
	return buildInterfaces(devs, ads), nil
}
