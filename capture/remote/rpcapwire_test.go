package remote

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

func TestParseRPCAPSockaddr(t *testing.T) {
	v4 := func(family uint16) []byte {
		b := make([]byte, rpcapSockaddrLen)
		binary.BigEndian.PutUint16(b, family)
		copy(b[4:], []byte{198, 18, 0, 9})
		return b
	}
	v6 := func(family uint16) []byte {
		b := make([]byte, rpcapSockaddrLen)
		binary.BigEndian.PutUint16(b, family)
		b[8], b[9], b[23] = 0x20, 0x01, 0x42
		return b
	}
	a4 := netip.MustParseAddr("198.18.0.9")
	a6 := netip.MustParseAddr("2001::42")
	for _, tc := range []struct {
		name string
		b    []byte
		want netip.Addr
		ok   bool
	}{
		{"rpcap AF_INET", v4(2), a4, true},
		{"BSD sockaddr_in, big-endian", v4(0x1002), a4, true},
		{"BSD sockaddr_in, little-endian", v4(0x1000), a4, true},
		{"rpcap AF_INET6 (Windows' 23)", v6(23), a6, true},
		{"Linux AF_INET6", v6(10), a6, true},
		{"macOS sockaddr_in6", v6(0x1c1e), a6, true},
		{"FreeBSD sockaddr_in6", v6(0x1c1c), a6, true},
		{"empty slot", make([]byte, rpcapSockaddrLen), netip.Addr{}, false},
		{"AF_PACKET", v4(17), netip.Addr{}, false},
	} {
		got, ok := parseRPCAPSockaddr(tc.b)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMaskBits(t *testing.T) {
	for _, tc := range []struct {
		mask string
		want int
	}{{"255.255.255.0", 24}, {"255.255.254.0", 23}, {"0.0.0.0", 0}, {"255.255.255.255", 32}, {"ffff:ffff:ffff:ffff::", 64}} {
		if got := maskBits(netip.MustParseAddr(tc.mask)); got != tc.want {
			t.Errorf("maskBits(%s) = %d, want %d", tc.mask, got, tc.want)
		}
	}
}
