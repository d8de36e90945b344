package main

import (
	"bytes"
	"net"
	"testing"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/pcapio"
)

// TestWriteInterfaces pins -l's lines: on Windows the friendly name comes
// first, then the device path (the escape hatch -i also takes) and Npcap's
// description; elsewhere the name and description as before.
func TestWriteInterfaces(t *testing.T) {
	ifs := []capture.Interface{
		{Name: `\Device\NPF_{11111111-2222-3333-4444-555555555555}`, FriendlyName: "Ethernet", Description: "Intel(R) Ethernet Connection",
			Up: true, LinkType: pcapio.LinkTypeEthernet, Addresses: []net.IPNet{{IP: net.IP{198, 18, 0, 7}, Mask: net.CIDRMask(24, 32)}}},
		{Name: `\Device\NPF_Loopback`, Description: "Adapter for loopback traffic capture", Up: true, Loopback: true, LinkType: pcapio.LinkTypeNull},
		{Name: `\Device\NPF_{AAAAAAAA-2222-3333-4444-555555555555}`, FriendlyName: "Wi-Fi", LinkType: pcapio.LinkTypeEthernet},
		{Name: "eth0", Up: true, LinkType: pcapio.LinkTypeEthernet},
	}
	var out bytes.Buffer
	if err := writeInterfaces(&out, ifs); err != nil {
		t.Fatal(err)
	}
	want := `1.Ethernet (\Device\NPF_{11111111-2222-3333-4444-555555555555}, Intel(R) Ethernet Connection) [Up] EN10MB 198.18.0.7/24
2.\Device\NPF_Loopback (Adapter for loopback traffic capture) [Up, Loopback] NULL
3.Wi-Fi (\Device\NPF_{AAAAAAAA-2222-3333-4444-555555555555}) EN10MB
4.eth0 [Up] EN10MB
`
	if out.String() != want {
		t.Errorf("-l printed\n%s\nwant\n%s", out.String(), want)
	}
}
