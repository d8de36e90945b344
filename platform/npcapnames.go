package platform

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/pkttap/pkttap/pcapio"
)

// npfPrefix starts every Npcap device name: \Device\NPF_{GUID}.
const npfPrefix = `\Device\NPF_`

// adapterInfo is what Windows' GetAdaptersAddresses says about an adapter.
type adapterInfo struct {
	guid         string // AdapterName, "{...}"
	friendlyName string // "Ethernet", "Wi-Fi"
	index        int
	mac          net.HardwareAddr
	up           bool
}

// guidOf returns the "{GUID}" part of an Npcap device name, or "".
func guidOf(device string) string {
	if len(device) < len(npfPrefix) || !strings.EqualFold(device[:len(npfPrefix)], npfPrefix) {
		return ""
	}
	g := device[len(npfPrefix):]
	if strings.HasPrefix(g, "{") && strings.HasSuffix(g, "}") {
		return g
	}
	return ""
}

// resolveDeviceName maps what a user typed to an Npcap device name: a
// \Device\NPF_... name is taken as is, a bare "{GUID}" gets the prefix, and
// anything else is looked up, case-insensitively, among the adapters'
// friendly names and then the devices' descriptions.
func resolveDeviceName(name string, devs []npcapDevice, adapters []adapterInfo) (string, error) {
	if strings.HasPrefix(strings.ToLower(name), strings.ToLower(npfPrefix)) {
		return name, nil
	}
	if strings.HasPrefix(name, "{") && strings.HasSuffix(name, "}") {
		return npfPrefix + name, nil
	}
	for _, a := range adapters {
		if !strings.EqualFold(a.friendlyName, name) {
			continue
		}
		for _, d := range devs {
			if strings.EqualFold(guidOf(d.name), a.guid) {
				return d.name, nil // Npcap's own spelling of the GUID
			}
		}
		return npfPrefix + a.guid, nil
	}
	for _, d := range devs {
		if strings.EqualFold(d.description, name) {
			return d.name, nil
		}
	}
	var names []string
	for _, d := range devs {
		if fn := friendlyOf(d.name, adapters); fn != "" {
			names = append(names, fmt.Sprintf("%q", fn))
		}
	}
	sort.Strings(names)
	hint := "list them with Interfaces"
	if len(names) > 0 {
		hint = "try " + strings.Join(names, ", ")
	}
	return "", fmt.Errorf("no such interface (%s): %w", hint, errNoSuchDevice)
}

// errNoSuchDevice is wrapped when a name matches no device.
var errNoSuchDevice = errors.New("not found among Npcap's devices")

// friendlyOf returns the friendly name of the adapter behind a device.
func friendlyOf(device string, adapters []adapterInfo) string {
	g := guidOf(device)
	for _, a := range adapters {
		if g != "" && strings.EqualFold(a.guid, g) {
			return a.friendlyName
		}
	}
	return ""
}

// buildInterfaces joins Npcap's devices with Windows' adapter information:
// the name and description are Npcap's, the friendly name, index, hardware
// address and state Windows'.
func buildInterfaces(devs []npcapDevice, adapters []adapterInfo) []Interface {
	out := make([]Interface, 0, len(devs))
	for _, d := range devs {
		it := Interface{
			Name:        d.name,
			Description: d.description,
			Addresses:   d.addrs,
			Up:          d.flags&pcapIfUp != 0,
			Loopback:    d.flags&pcapIfLoopback != 0,
			LinkType:    pcapio.LinkTypeEthernet,
		}
		if it.Loopback {
			it.LinkType = pcapio.LinkTypeNull // Npcap's loopback adapter
		}
		g := guidOf(d.name)
		for _, a := range adapters {
			if g == "" || !strings.EqualFold(a.guid, g) {
				continue
			}
			it.Index, it.HardwareAddr = a.index, a.mac
			it.Up = it.Up || a.up
			it.FriendlyName = a.friendlyName
		}
		out = append(out, it)
	}
	return out
}
