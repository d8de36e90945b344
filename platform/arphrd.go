package platform

import "github.com/pkttap/pkttap/pcapio"

// Linux ARPHRD_ interface types (include/uapi/linux/if_arp.h) that decide
// how an interface is captured. Kept here, not in a _linux.go file, so the
// mapping is tested on every OS.
const (
	arphrdEther          = 1
	arphrdLoopback       = 772
	arphrdNone           = 0xfffe
	arphrdRawIP          = 519
	arphrdTunnel         = 768
	arphrdTunnel6        = 769
	arphrdSit            = 776
	arphrdIEEE80211      = 801
	arphrdIEEE80211Radio = 803
	arphrdNetlink        = 824
)

// linkTypeForARPHRD returns the link type a Linux interface of the given
// ARPHRD type is captured with, and whether it is captured cooked (SOCK_DGRAM
// with a synthesized LINUX_SLL header), following libpcap's
// map_arphrd_to_dlt: Ethernet and loopback are EN10MB, interfaces without a
// link-layer header are RAW, 802.11 keeps its headers, and everything else
// is cooked.
func linkTypeForARPHRD(arphrd uint16) (lt pcapio.LinkType, cooked bool) {
	switch arphrd {
	case arphrdEther, arphrdLoopback:
		return pcapio.LinkTypeEthernet, false
	case arphrdNone, arphrdRawIP, arphrdTunnel, arphrdTunnel6, arphrdSit:
		return pcapio.LinkTypeRaw, false
	case arphrdIEEE80211:
		return pcapio.LinkTypeIEEE802_11, false
	case arphrdIEEE80211Radio:
		return pcapio.LinkTypeIEEE802_11Radio, false
	case arphrdNetlink:
		return pcapio.LinkTypeNetlink, false
	}
	return pcapio.LinkTypeLinuxSLL, true
}
