package testpkt

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/netnstest"
)

// fromHex decodes hex written in groups separated by spaces.
func fromHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBuilders(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{{
		// The IPv4 header checksum example of Wikipedia's "Internet
		// checksum" (c0a8:0001 to c0a8:00c7, UDP, 0x73 bytes long,
		// checksum b861) without its DF flag: the checksum grows by 0x4000.
		name: "IPv4 known header",
		got:  IPv4(ProtoUDP, []byte{192, 168, 0, 1}, []byte{192, 168, 0, 199}, make([]byte, 0x73-20))[:20],
		want: "4500 0073 0000 0000 4011 f861 c0a8 0001 c0a8 00c7",
	}, {
		name: "IPv4 UDP",
		got:  IPv4(ProtoUDP, IPv4A, IPv4B, UDP(40000, 53, []byte("hi"))),
		want: "4500 001e 0000 0000 4011 eea7 c612 0001 c612 0002" + "9c40 0035 000a 0000" + "6869",
	}, {
		name: "Ethernet frame",
		got:  netnstest.EthFrame(MACB, MACA, EtherTypeIPv4, IPv4(ProtoUDP, IPv4A, IPv4B, UDP(40000, 53, []byte("hi")))),
		want: "0200 0000 000b 0200 0000 000a 0800" + "4500 001e 0000 0000 4011 eea7 c612 0001 c612 0002" + "9c40 0035 000a 0000" + "6869",
	}, {
		name: "IPv6 TCP",
		got:  IPv6(ProtoTCP, IPv6B, IPv6A, TCP(22, 60000, 1000, 0x04, 65535, nil)),
		want: "6000 0000 0014 0640" + "2001 0db8 0000 0000 0000 0000 0000 0002" + "2001 0db8 0000 0000 0000 0000 0000 0001" +
			"0016 ea60 0000 03e8 0000 0000 5004 ffff 0000 0000",
	}, {
		name: "TCP with payload",
		got:  TCP(50000, 80, 1, 0x18, 64240, []byte("GET")),
		want: "c350 0050 0000 0001 0000 0000 5018 faf0 0000 0000" + "474554",
	}, {
		name: "ARP request",
		got:  ARPRequest(MACA, IPv4A, IPv4B),
		want: "0001 0800 0604 0001" + "0200 0000 000a c612 0001" + "0000 0000 0000 c612 0002",
	}}
	for _, tt := range tests {
		if want := fromHex(t, tt.want); !bytes.Equal(tt.got, want) {
			t.Errorf("%s:\n got % x\nwant % x", tt.name, tt.got, want)
		}
	}
}

// TestIPv4Checksum recomputes the header checksum of IPv4 headers whose
// sums carry: the one's complement sum of a header with a valid checksum is
// 0xffff.
func TestIPv4Checksum(t *testing.T) {
	for _, n := range []int{0, 1, 8, 1400, 65515} {
		for _, proto := range []byte{ProtoTCP, ProtoUDP, 0xff} {
			h := IPv4(proto, []byte{255, 255, 255, 255}, IPv6B[12:], make([]byte, n))[:20]
			var sum uint32
			for i := 0; i < len(h); i += 2 {
				sum += uint32(binary.BigEndian.Uint16(h[i:]))
			}
			sum = sum&0xffff + sum>>16
			sum = sum&0xffff + sum>>16
			if sum != 0xffff {
				t.Errorf("IPv4(%d, %d-byte payload) header % x: one's complement sum %#04x, want 0xffff", proto, n, h, sum)
			}
		}
	}
}
