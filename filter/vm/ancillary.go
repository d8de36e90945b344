package vm

import "github.com/pkttap/pkttap/filter/internal/bpfop"

// Metadata is what the kernel knows about a live packet beyond its bytes;
// RunWithMetadata answers Linux ancillary loads (SKF_AD_*) from it.
type Metadata struct {
	// VLANPresent says the kernel stripped a VLAN tag from the frame
	// (SKF_AD_VLAN_TAG_PRESENT).
	VLANPresent bool
	// VLANTCI is the stripped tag's control information: priority, DEI
	// and VLAN ID (SKF_AD_VLAN_TAG).
	VLANTCI uint16
	// VLANTPID is the stripped tag's protocol identifier, e.g. 0x8100
	// (SKF_AD_VLAN_TPID).
	VLANTPID uint16
	// Protocol is the packet's ethertype in host byte order
	// (SKF_AD_PROTOCOL).
	Protocol uint16
	// PktType is the Linux packet type: 0 host, 1 broadcast, 2 multicast,
	// 3 other host, 4 outgoing (SKF_AD_PKTTYPE).
	PktType uint8
	// IfIndex is the OS index of the capturing interface (SKF_AD_IFINDEX).
	IfIndex int32
}

// isAncillary reports whether an absolute load at k reads ancillary data.
func isAncillary(k uint32) bool {
	return k >= bpfop.SKFAdOff && k < bpfop.SKFAdOff+bpfop.SKFAdMax
}

// ancillary returns the value of ancillary field f (an offset from
// SKF_AD_OFF) and whether the packet has it. A nil md has nothing, as in
// libpcap's bpf_filter.
func ancillary(md *Metadata, f uint32) (uint32, bool) {
	if md == nil {
		return 0, false
	}
	switch f {
	case bpfop.SKFAdProtocol:
		return uint32(md.Protocol), true
	case bpfop.SKFAdPktType:
		return uint32(md.PktType), true
	case bpfop.SKFAdIfIndex:
		return uint32(md.IfIndex), true
	case bpfop.SKFAdVLANTag:
		return uint32(md.VLANTCI), true
	case bpfop.SKFAdVLANTagPresent:
		if md.VLANPresent {
			return 1, true
		}
		return 0, true
	case bpfop.SKFAdVLANTPID:
		return uint32(md.VLANTPID), true
	}
	return 0, false
}
