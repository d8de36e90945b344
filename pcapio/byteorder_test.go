package pcapio

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// TestReaderByteOrder checks that ByteOrder reports the order of the pcap
// header and of the current pcapng section, as filters compiled for a file
// need it.
func TestReaderByteOrder(t *testing.T) {
	pcapHeader := func(bo byteOrder) []byte {
		return newPcapGen(bo, magicMicro, 2, 4, 65535, uint32(LinkTypeNull)).buf
	}
	shb := func(bo byteOrder) []byte { return (&ngGen{}).shb(bo).buf }
	tests := []struct {
		name string
		file []byte
		want binary.ByteOrder
	}{
		{"pcap little-endian", pcapHeader(le), binary.LittleEndian},
		{"pcap big-endian", pcapHeader(be), binary.BigEndian},
		{"pcapng little-endian", shb(le), binary.LittleEndian},
		{"pcapng big-endian", shb(be), binary.BigEndian},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			if got := r.ByteOrder(); got != tt.want {
				t.Errorf("ByteOrder() = %v, want %v", got, tt.want)
			}
		})
	}
}
