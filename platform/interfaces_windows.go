//go:build windows

package platform

// interfaces lists Npcap's devices, with their Windows friendly
// names where the adapter has one.
func interfaces() ([]Interface, error) {
	_, devs, ads, err := npcapDevices()
	if err != nil {
		return nil, err
	}
	return buildInterfaces(devs, ads), nil
}

// npcapDevices loads wpcap.dll and returns Npcap's devices with Windows'
// adapter list beside them. The adapters are a convenience (friendly names,
// indexes): when Windows cannot list them, Npcap's names still work.
func npcapDevices() (*wpcap, []npcapDevice, []adapterInfo, error) {
	w, err := loadWpcap()
	if err != nil {
		return nil, nil, nil, err
	}
	devs, err := w.findAllDevs()
	if err != nil {
		return nil, nil, nil, err
	}
	ads, err := adapters()
	if err != nil {
		ads = nil
	}
	return w, devs, ads, nil
}
