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
	pcapHeader := func(order binary.ByteOrder) []byte {
		h := make([]byte, 24)
		order.PutUint32(h[0:], 0xa1b2c3d4)
		order.PutUint16(h[4:], 2)
		order.PutUint16(h[6:], 4)
		order.PutUint32(h[16:], 65535)
		order.PutUint32(h[20:], uint32(LinkTypeNull))
		return h
	}
	shb := func(order binary.ByteOrder) []byte {
		b := make([]byte, 28)
		order.PutUint32(b[0:], 0x0a0d0d0a)
		order.PutUint32(b[4:], 28)
		order.PutUint32(b[8:], 0x1a2b3c4d)
		order.PutUint16(b[12:], 1)
		order.PutUint64(b[16:], ^uint64(0))
		order.PutUint32(b[24:], 28)
		return b
	}
	tests := []struct {
		name string
		file []byte
		want binary.ByteOrder
	}{
		{"pcap little-endian", pcapHeader(binary.LittleEndian), binary.LittleEndian},
		{"pcap big-endian", pcapHeader(binary.BigEndian), binary.BigEndian},
		{"pcapng little-endian", shb(binary.LittleEndian), binary.LittleEndian},
		{"pcapng big-endian", shb(binary.BigEndian), binary.BigEndian},
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
