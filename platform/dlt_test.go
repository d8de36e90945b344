package platform

import (
	"strings"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

// TestLinkTypeFromDLT checks the DLT_ tables of macOS and Windows against
// libpcap's dlt_to_linktype with each system's <pcap/dlt.h>.
func TestLinkTypeFromDLT(t *testing.T) {
	tests := []struct {
		goos string
		dlt  uint32
		want pcapio.LinkType // 0 with bad: no link type
		bad  bool
	}{
		{"darwin", 0, pcapio.LinkTypeNull, false},
		{"darwin", 1, pcapio.LinkTypeEthernet, false},
		{"darwin", 11, pcapio.LinkTypeATMRFC1483, false},
		{"darwin", 12, pcapio.LinkTypeRaw, false},
		{"darwin", 13, 0, true},
		{"darwin", 14, 0, true}, // DLT_RAW on OpenBSD, DLT_PPP_BSDOS on FreeBSD and NetBSD; nothing on macOS
		{"darwin", 15, 102, false},
		{"darwin", 16, 103, false},
		{"darwin", 18, 246, false},
		{"darwin", 19, 106, false},
		{"darwin", 105, pcapio.LinkTypeIEEE802_11, false},
		{"darwin", 127, pcapio.LinkTypeIEEE802_11Radio, false},
		{"darwin", 149, 258, false}, // Apple's DLT_PKTAP is DLT_USER2
		{"darwin", 304, 304, false},
		{"darwin", 305, 0, true},
		{"windows", 0, pcapio.LinkTypeNull, false},
		{"windows", 1, pcapio.LinkTypeEthernet, false},
		{"windows", 12, pcapio.LinkTypeRaw, false},
		{"windows", 14, 0, true},
		{"windows", 16, 103, false},
		{"windows", 18, 0, true},
		{"windows", 149, 149, false},
		{"windows", 246, 246, false},
		{"windows", 51, pcapio.LinkTypePPPEther, false},
	}
	for _, tc := range tests {
		got, err := linkTypeFromDLT(tc.goos, tc.dlt)
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "has no link type on "+tc.goos) {
				t.Errorf("%s DLT %d = %d, %v; want an error", tc.goos, tc.dlt, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s DLT %d = %d, %v; want %d", tc.goos, tc.dlt, got, err, tc.want)
		}
	}
}
