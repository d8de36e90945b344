package capture

import (
	"encoding/binary"
	"testing"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// TestLiveFilterOptionsAFInet6 compiles "ip6" and "tcp port 443" with each
// OS's live options for NULL (the loopback of macOS and Npcap) and runs
// them on NULL frames whose family word (host byte order: little-endian on
// every machine pkttap captures on) holds each system's AF_INET6: only the
// capturing system's value may match, as libpcap's live path compiles it
// (macOS 30, Npcap 24 rather than Windows' 23, Linux 10).
func TestLiveFilterOptionsAFInet6(t *testing.T) {
	tcp6 := testpkt.IPv6(6, testpkt.IPv6A, testpkt.IPv6B, testpkt.TCP(40000, 443, 1, 0x02, 65535, nil))
	null := func(family uint32) []byte {
		return binary.LittleEndian.AppendUint32(nil, family)
	}
	tests := []struct {
		goos   string
		family uint32 // the family of IPv6 in the OS's NULL headers
	}{
		{"darwin", 30},
		{"windows", 24},
		{"linux", 10},
	}
	for _, tc := range tests {
		opts := liveFilterOptions(tc.goos, pcapio.LinkTypeNull, 0)
		for _, expr := range []string{"ip6", "tcp port 443"} {
			prog, err := filter.Compile(expr, opts)
			if err != nil {
				t.Fatalf("%s: compile %q: %v", tc.goos, expr, err)
			}
			m, err := vm.New(prog.Raw)
			if err != nil {
				t.Fatal(err)
			}
			for _, family := range []uint32{10, 24, 28, 30} {
				pkt := append(null(family), tcp6...)
				got := m.Run(pkt, len(pkt)) != 0
				if want := family == tc.family; got != want {
					t.Errorf("%s: %q on a NULL frame with family %d: match %v, want %v", tc.goos, expr, family, got, want)
				}
			}
		}
	}
}
