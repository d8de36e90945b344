package dissect_test

import (
	"fmt"
	"strings"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/pcapio"
)

// A DNS query for example.com over UDP/IPv4/Ethernet.
var dnsQueryFrame = []byte{
	0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x00, // Ethernet
	0x45, 0x00, 0x00, 0x39, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11, 0x92, 0x46, // IPv4
	198, 18, 0, 1, 198, 18, 0, 2,
	0xcf, 0x08, 0x00, 0x35, 0x00, 0x25, 0x00, 0x00, // UDP, no checksum
	0x1a, 0x2b, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // DNS
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0x01, 0x00, 0x01,
}

func ExampleSummarize() {
	s := dissect.Summarize(pcapio.LinkTypeEthernet, dnsQueryFrame, len(dnsQueryFrame))
	fmt.Println(s.Source, "→", s.Destination, s.Protocol, s.Info, s.Tags)
	// Output: 198.18.0.1 → 198.18.0.2 DNS Standard query 0x1a2b A example.com [dns]
}

func ExampleDissect() {
	t := dissect.Dissect(pcapio.LinkTypeEthernet, dnsQueryFrame, len(dnsQueryFrame))
	t.Walk(func(n *dissect.Node, depth int) bool {
		if depth == 0 || n.Field == "udp.srcport" || n.Field == "dns.qry.name" {
			fmt.Printf("%s%s [%d,+%d]\n", strings.Repeat("  ", depth), n.Label, n.Offset, n.Length)
		}
		return true
	})
	// The byte under offset 34 belongs to the UDP source port.
	fmt.Println(t.FieldAt(34).Field)
	// Output:
	// Frame: 71 bytes on wire (568 bits), 71 bytes captured (568 bits) [0,+71]
	// Ethernet II, Src: 00:11:22:33:44:55, Dst: 66:77:88:99:aa:bb [0,+14]
	// Internet Protocol Version 4, Src: 198.18.0.1, Dst: 198.18.0.2 [14,+20]
	// User Datagram Protocol, Src Port: 53000, Dst Port: 53 [34,+8]
	//   Source Port: 53000 [34,+2]
	// Domain Name System (query) [42,+29]
	//       Name: example.com [54,+13]
	// udp.srcport
}
