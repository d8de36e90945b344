package platform

import (
	"fmt"

	"github.com/pkttap/pkttap/pcapio"
)

// linkTypeFromDLT maps the DLT_ value a capture device reports on the
// system goos (BIOCGDLT on macOS, pcap_datalink on Windows) to its
// LINKTYPE_ value, as libpcap's dlt_to_linktype does with that system's
// DLT_ table. Values 0 to 10 and the "matching" range 104 to 304 are the
// same everywhere; the rest differ between systems. On macOS and Windows
// (libpcap's own table) DLT_RAW is 12, DLT_SLIP_BSDOS 15 and DLT_PPP_BSDOS
// 16, and 13 and 14 are nothing: 14 is DLT_RAW only on OpenBSD and
// DLT_PPP_BSDOS on FreeBSD and NetBSD. A value without a link type is an
// error, where libpcap's mapping fails too.
func linkTypeFromDLT(goos string, dlt uint32) (pcapio.LinkType, error) {
	switch {
	case dlt <= 10: // DLT_LOW_MATCHING_MIN to DLT_LOW_MATCHING_MAX
		return pcapio.LinkType(dlt), nil
	case goos == "darwin" && dlt == 149: // DLT_PKTAP is DLT_USER2 on Darwin
		return linkTypePKTAP, nil
	case dlt >= 104 && dlt <= 304: // DLT_HIGH_MATCHING_MIN to DLT_HIGH_MATCHING_MAX
		return pcapio.LinkType(dlt), nil
	}
	switch dlt {
	case 11: // DLT_ATM_RFC1483
		return pcapio.LinkTypeATMRFC1483, nil
	case 12: // DLT_RAW
		return pcapio.LinkTypeRaw, nil
	case 15: // DLT_SLIP_BSDOS
		return linkTypeSLIPBSDOS, nil
	case 16: // DLT_PPP_BSDOS
		return linkTypePPPBSDOS, nil
	case 19: // DLT_ATM_CLIP
		return linkTypeATMCLIP, nil
	case 32, 50, 51, 99: // DLT_REDBACK_SMARTEDGE, DLT_PPP_SERIAL, DLT_PPP_ETHER, DLT_SYMANTEC_FIREWALL
		return pcapio.LinkType(dlt), nil
	}
	if goos == "darwin" && dlt == 18 { // DLT_PFSYNC
		return linkTypePFSYNC, nil
	}
	return 0, fmt.Errorf("the device reports DLT %d, which has no link type on %s (libpcap maps it to none either)", dlt, goos)
}

// LINKTYPE_ values of DLT_ values that differ between systems, which
// pcapio has no names for.
const (
	linkTypeSLIPBSDOS pcapio.LinkType = 102
	linkTypePPPBSDOS  pcapio.LinkType = 103
	linkTypeATMCLIP   pcapio.LinkType = 106
	linkTypePFSYNC    pcapio.LinkType = 246
	linkTypePKTAP     pcapio.LinkType = 258
)
