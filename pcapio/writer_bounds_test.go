package pcapio

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestWriterBounds writes packets at the edges of what a record holds and
// reads them back: the last second of pcap's 32-bit clock (2106-02-07
// 06:28:15 UTC), an on-wire length of 2^32-1, and a pcapng comment of
// 65535 bytes, the most an option holds; one more is refused in each.
func TestWriterBounds(t *testing.T) {
	last := time.Unix(0xffffffff, 0)
	comment := strings.Repeat("c", 0xffff)
	tests := []struct {
		name   string
		format Format
		p      Packet
		ok     bool
	}{
		{"pcap, last second", FormatPcap, Packet{Timestamp: last, Data: []byte("x"), Length: 1}, true},
		{"pcap, a second later", FormatPcap, Packet{Timestamp: last.Add(time.Second), Data: []byte("x"), Length: 1}, false},
		{"pcap, the epoch", FormatPcapNano, Packet{Timestamp: time.Unix(0, 1), Data: []byte("x"), Length: 1}, true},
		{"pcap, a second before the epoch", FormatPcapNano, Packet{Timestamp: time.Unix(-1, 0), Data: []byte("x"), Length: 1}, false},
		{"pcap, on-wire 2^32-1", FormatPcap, Packet{Timestamp: time.Unix(1, 0), Data: []byte("x"), Length: 0xffffffff}, true},
		{"pcap, on-wire 2^32", FormatPcap, Packet{Timestamp: time.Unix(1, 0), Data: []byte("x"), Length: 0x100000000}, false},
		{"pcapng, on-wire 2^32-1", FormatPcapNg, Packet{Timestamp: time.Unix(1, 0), Data: []byte("x"), Length: 0xffffffff}, true},
		{"pcapng, comment of 65535 bytes", FormatPcapNg, Packet{Timestamp: time.Unix(1, 0), Data: []byte("x"), Length: 1, Comment: comment}, true},
		{"pcapng, comment of 65536 bytes", FormatPcapNg, Packet{Timestamp: time.Unix(1, 0), Data: []byte("x"), Length: 1, Comment: comment + "c"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, WriterOptions{Format: tt.format, LinkType: LinkTypeEthernet})
			if err != nil {
				t.Fatal(err)
			}
			err = w.WritePacket(&tt.p)
			if !tt.ok {
				if err == nil {
					t.Fatal("WritePacket accepted the packet")
				}
				return
			}
			if err != nil {
				t.Fatalf("WritePacket: %v", err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			_, got := readAll(t, buf.Bytes())
			if len(got) != 1 {
				t.Fatalf("read %d packets back, want 1", len(got))
			}
			g := got[0]
			if !g.Timestamp.Equal(tt.p.Timestamp) || g.Length != tt.p.Length || string(g.Data) != string(tt.p.Data) || g.Comment != tt.p.Comment {
				t.Errorf("read back %v, length %d, data %q, comment of %d bytes; want %v, %d, %q, %d",
					g.Timestamp, g.Length, g.Data, len(g.Comment), tt.p.Timestamp, tt.p.Length, tt.p.Data, len(tt.p.Comment))
			}
		})
	}
}
