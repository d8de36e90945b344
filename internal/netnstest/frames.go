package netnstest

// Ether types for test frames: IEEE 802 local experimental, which no stack
// in the namespaces answers.
const (
	EtherTypeTest      = 0x88b5
	EtherTypeTestOther = 0x88b6
)

// EthFrame builds an Ethernet II frame; each tag is a 4-byte 802.1Q tag
// (TPID and TCI, see VLANTag) put between the addresses and the type.
func EthFrame(dst, src []byte, etherType uint16, payload []byte, tags ...[4]byte) []byte {
	b := make([]byte, 0, 14+4*len(tags)+len(payload))
	b = append(append(b, dst...), src...)
	for _, tag := range tags {
		b = append(b, tag[:]...)
	}
	b = append(b, byte(etherType>>8), byte(etherType))
	return append(b, payload...)
}

// VLANTag returns the 802.1Q tag (TPID 0x8100) with the given tag control
// information: priority in the top 3 bits, VLAN id in the low 12.
func VLANTag(tci uint16) [4]byte {
	return [4]byte{0x81, 0x00, byte(tci >> 8), byte(tci)}
}
