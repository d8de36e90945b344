package platform

import (
	"encoding/binary"

	"github.com/pkttap/pkttap/pcapio"
)

// Sizes of the headers the Linux source rebuilds in front of a packet.
const (
	vlanTagLen    = 4  // TPID + TCI
	sllHdrLen     = 16 // LINUX_SLL header
	sllAddrLen    = 8  // address bytes in a LINUX_SLL header
	etherTypeVLAN = 0x8100
)

// vlanOffset returns where libpcap re-inserts a VLAN tag that the kernel
// moved into packet metadata, or -1 for link types that get no tag: after
// the two MAC addresses for Ethernet, before the protocol field for
// LINUX_SLL.
func vlanOffset(lt pcapio.LinkType) int {
	switch lt {
	case pcapio.LinkTypeEthernet:
		return 12
	case pcapio.LinkTypeLinuxSLL:
		return sllHdrLen - 2
	}
	return -1
}

// insertVLAN puts a 4-byte VLAN tag (tpid, tci) back at offset off of the
// packet that starts at buf[start], using the 4 bytes of headroom at
// buf[start-4:start]: the first off bytes move down by 4 and the tag goes in
// after them. It returns the new start. The caller makes sure start >= 4 and
// that the packet holds at least off bytes.
func insertVLAN(buf []byte, start, off int, tpid, tci uint16) int {
	ns := start - vlanTagLen
	copy(buf[ns:ns+off], buf[start:start+off])
	binary.BigEndian.PutUint16(buf[ns+off:], tpid)
	binary.BigEndian.PutUint16(buf[ns+off+2:], tci)
	return ns
}

// putSLLHeader writes a LINUX_SLL header into dst[:16] as libpcap builds it
// from a packet's sockaddr_ll: packet type, ARPHRD type, address length (all
// big-endian), 8 address bytes, and the protocol as the kernel gave it
// (already in network byte order in sll_protocol, passed here as the two raw
// bytes proto).
func putSLLHeader(dst []byte, pktType uint8, hatype uint16, halen uint8, addr []byte, proto [2]byte) {
	_ = dst[sllHdrLen-1]
	binary.BigEndian.PutUint16(dst[0:], uint16(pktType))
	binary.BigEndian.PutUint16(dst[2:], hatype)
	binary.BigEndian.PutUint16(dst[4:], uint16(halen))
	copy(dst[6:6+sllAddrLen], addr)
	dst[14] = proto[0]
	dst[15] = proto[1]
}
