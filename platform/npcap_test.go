package platform

import (
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/pkttap/pkttap/pcapio"
)

// TestNpcapLayouts checks the Go mirrors of Npcap's structures against the
// C layouts on a 64-bit Windows (LLP64), the only Windows pkttap builds for
// besides 386, where the pointer-sized fields shrink accordingly.
func TestNpcapLayouts(t *testing.T) {
	ptr := unsafe.Sizeof(uintptr(0))
	tests := []struct {
		name      string
		size      uintptr
		want      uintptr
		offsets   []uintptr
		wantOffst []uintptr
	}{
		{"pcap_pkthdr", unsafe.Sizeof(pcapPkthdr{}), 16,
			[]uintptr{unsafe.Offsetof(pcapPkthdr{}.usec), unsafe.Offsetof(pcapPkthdr{}.caplen), unsafe.Offsetof(pcapPkthdr{}.len)},
			[]uintptr{4, 8, 12}},
		{"pcap_stat", unsafe.Sizeof(pcapStat{}), 24,
			[]uintptr{unsafe.Offsetof(pcapStat{}.drop), unsafe.Offsetof(pcapStat{}.ifdrop)},
			[]uintptr{4, 8}},
		{"bpf_insn", unsafe.Sizeof(bpfInsn{}), 8,
			[]uintptr{unsafe.Offsetof(bpfInsn{}.jt), unsafe.Offsetof(bpfInsn{}.jf), unsafe.Offsetof(bpfInsn{}.k)},
			[]uintptr{2, 3, 4}},
		{"bpf_program", unsafe.Sizeof(bpfProgram{}), 2 * ptr,
			[]uintptr{unsafe.Offsetof(bpfProgram{}.insns)},
			[]uintptr{ptr}},
		{"pcap_if_t", unsafe.Sizeof(pcapIf{}), 5 * ptr,
			[]uintptr{unsafe.Offsetof(pcapIf{}.name), unsafe.Offsetof(pcapIf{}.description), unsafe.Offsetof(pcapIf{}.addresses), unsafe.Offsetof(pcapIf{}.flags)},
			[]uintptr{ptr, 2 * ptr, 3 * ptr, 4 * ptr}},
		{"pcap_addr", unsafe.Sizeof(pcapAddr{}), 5 * ptr,
			[]uintptr{unsafe.Offsetof(pcapAddr{}.addr), unsafe.Offsetof(pcapAddr{}.netmask), unsafe.Offsetof(pcapAddr{}.broadaddr), unsafe.Offsetof(pcapAddr{}.dstaddr)},
			[]uintptr{ptr, 2 * ptr, 3 * ptr, 4 * ptr}},
		{"sockaddr", unsafe.Sizeof(sockaddrHdr{}), 16, nil, nil},
		{"sockaddr_in6", unsafe.Sizeof(sockaddrIn6{}), 28,
			[]uintptr{unsafe.Offsetof(sockaddrIn6{}.addr), unsafe.Offsetof(sockaddrIn6{}.scopeID)},
			[]uintptr{8, 24}},
	}
	for _, tc := range tests {
		if tc.size != tc.want {
			t.Errorf("sizeof(%s) = %d, want %d", tc.name, tc.size, tc.want)
		}
		if !reflect.DeepEqual(tc.offsets, tc.wantOffst) {
			t.Errorf("%s field offsets = %v, want %v", tc.name, tc.offsets, tc.wantOffst)
		}
	}
}

func cBytes(s string) *byte {
	b := append([]byte(s), 0)
	return &b[0]
}

// TestWalkDevices builds a pcap_findalldevs list in memory as wpcap.dll
// returns it and walks it.
func TestWalkDevices(t *testing.T) {
	in4 := &sockaddrHdr{family: winAFInet}
	copy(in4.data[2:], []byte{198, 18, 0, 7})
	mask4 := &sockaddrHdr{family: winAFInet}
	copy(mask4.data[2:], []byte{255, 255, 254, 0})
	in6 := &sockaddrIn6{family: winAFInet6, addr: [16]byte{0xfe, 0x80, 15: 1}}
	mask6 := &sockaddrIn6{family: winAFInet6, addr: [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	other := &sockaddrHdr{family: 17}
	addrs := &pcapAddr{
		addr: in4, netmask: mask4,
		next: &pcapAddr{
			addr: (*sockaddrHdr)(unsafe.Pointer(in6)), netmask: (*sockaddrHdr)(unsafe.Pointer(mask6)),
			next: &pcapAddr{addr: other, next: &pcapAddr{addr: nil}},
		},
	}
	list := &pcapIf{
		name: cBytes(`\Device\NPF_{11111111-2222-3333-4444-555555555555}`), description: cBytes("Intel(R) Ethernet"),
		addresses: addrs, flags: pcapIfUp | 0x4,
		next: &pcapIf{name: cBytes(`\Device\NPF_Loopback`), description: nil, flags: pcapIfLoopback | pcapIfUp},
	}
	got := walkDevices(list)
	want := []npcapDevice{
		{name: `\Device\NPF_{11111111-2222-3333-4444-555555555555}`, description: "Intel(R) Ethernet", flags: pcapIfUp | 0x4,
			addrs: []net.IPNet{
				{IP: net.IP{198, 18, 0, 7}, Mask: net.IPMask{255, 255, 254, 0}},
				{IP: net.IP{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, Mask: net.CIDRMask(64, 128)},
			}},
		{name: `\Device\NPF_Loopback`, flags: pcapIfLoopback | pcapIfUp},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("walkDevices =\n%+v\nwant\n%+v", got, want)
	}
	if walkDevices(nil) != nil {
		t.Error("walkDevices(nil) is not empty")
	}
}

func TestResolveDeviceName(t *testing.T) {
	const guid = "{11111111-2222-3333-4444-555555555555}"
	const wifi = "{AAAAAAAA-2222-3333-4444-555555555555}"
	devs := []npcapDevice{
		{name: npfPrefix + guid, description: "Intel(R) Ethernet", flags: pcapIfUp},
		{name: npfPrefix + wifi, description: "Killer Wi-Fi 6"},
		{name: npfPrefix + "Loopback", description: "Adapter for loopback traffic capture", flags: pcapIfLoopback | pcapIfUp},
	}
	adapters := []adapterInfo{
		{guid: guid, friendlyName: "Ethernet", index: 7, mac: net.HardwareAddr{2, 0, 0, 0, 0, 7}, up: true},
		{guid: strings.ToLower(wifi), friendlyName: "Wi-Fi", index: 9},
	}
	tests := []struct {
		in, want string
	}{
		{"Ethernet", npfPrefix + guid},
		{"ethernet", npfPrefix + guid},
		{"Wi-Fi", npfPrefix + wifi},
		{npfPrefix + guid, npfPrefix + guid},
		{`\device\npf_` + guid, `\device\npf_` + guid},
		{guid, npfPrefix + guid},
		{"Adapter for loopback traffic capture", npfPrefix + "Loopback"},
	}
	for _, tc := range tests {
		got, err := resolveDeviceName(tc.in, devs, adapters)
		if err != nil || got != tc.want {
			t.Errorf("resolveDeviceName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	_, err := resolveDeviceName("eth0", devs, adapters)
	if !errors.Is(err, errNoSuchDevice) || err == nil {
		t.Fatalf("resolveDeviceName(eth0) = %v, want errNoSuchDevice", err)
	}
	if msg := err.Error(); msg != `no such interface (try "Ethernet", "Wi-Fi"): not found among Npcap's devices` {
		t.Errorf("message %q", msg)
	}

	ifs := buildInterfaces(devs, adapters)
	wantIfs := []Interface{
		{Name: npfPrefix + guid, FriendlyName: "Ethernet", Description: "Intel(R) Ethernet", Index: 7, Up: true, HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 7}, LinkType: pcapio.LinkTypeEthernet},
		{Name: npfPrefix + wifi, FriendlyName: "Wi-Fi", Description: "Killer Wi-Fi 6", Index: 9, LinkType: pcapio.LinkTypeEthernet},
		{Name: npfPrefix + "Loopback", Description: "Adapter for loopback traffic capture", Up: true, Loopback: true, LinkType: pcapio.LinkTypeNull},
	}
	if !reflect.DeepEqual(ifs, wantIfs) {
		t.Errorf("buildInterfaces =\n%+v\nwant\n%+v", ifs, wantIfs)
	}
}
