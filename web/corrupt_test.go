package web

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// TestCorruptCaptures checks that a damaged file ends its index pass with a
// clear error while the packets before the fault stay viewable.
func TestCorruptCaptures(t *testing.T) {
	const n = 50
	pcap := synthetic(t, pcapio.FormatPcap, n)
	pcapng := synthetic(t, pcapio.FormatPcapNg, n)
	// Offsets of record 10 in each file.
	rec10 := func(data []byte, ng bool) int {
		off := 24
		if ng {
			off = int(binary.LittleEndian.Uint32(data[4:])) // SHB
			off += int(binary.LittleEndian.Uint32(data[off+4:]))
		}
		for range 10 {
			if ng {
				off += int(binary.LittleEndian.Uint32(data[off+4:]))
			} else {
				off += 16 + int(binary.LittleEndian.Uint32(data[off+8:]))
			}
		}
		return off
	}
	cutPcap := pcap[:rec10(pcap, false)+20]
	hugePcap := bytes.Clone(pcap)
	binary.LittleEndian.PutUint32(hugePcap[rec10(pcap, false)+8:], 0x7fffffff)
	badBlock := bytes.Clone(pcapng)
	binary.LittleEndian.PutUint32(badBlock[rec10(pcapng, true)+4:], 7) // block length not a multiple of 4
	cutGzip := gzipped(t, pcap)
	cutGzip = cutGzip[:len(cutGzip)/2]
	tests := []struct {
		name    string
		data    []byte
		packets int64 // packets kept before the fault (at least, for the cut gzip)
	}{
		{"pcap cut mid-record", cutPcap, 10},
		{"pcap record of 2 GiB", hugePcap, 10},
		{"pcapng bad block length", badBlock, 10},
		{"gzip cut in half", cutGzip, 1},
	}
	_, ts := newTestServer(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := waitIndexed(t, ts, upload(t, ts, "bad.pcap", tt.data).ID)
			if info.State != store.StateError || info.Error == "" {
				t.Fatalf("state %s error %q, want an error", info.State, info.Error)
			}
			t.Logf("error shown: %s", info.Error)
			if info.Packets < tt.packets || (tt.name != "gzip cut in half" && info.Packets != tt.packets) {
				t.Fatalf("%d packets kept, want %d", info.Packets, tt.packets)
			}
			if info.Packets == 0 {
				return
			}
			var r RowsResponse
			do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/rows?count=100", nil, &r)
			if int64(len(r.Rows)) != info.Packets {
				t.Errorf("%d rows, want %d", len(r.Rows), info.Packets)
			}
			var p PacketResponse
			res := do(t, "GET", fmt.Sprintf("%s/api/captures/%s/packets/%d", ts.URL, info.ID, info.Packets), nil, &p)
			if res.StatusCode != http.StatusOK || len(p.Data) == 0 {
				t.Errorf("last good packet: status %d, %d bytes", res.StatusCode, len(p.Data))
			}
			st := waitFilter(t, ts, info.ID, "tcp")
			if st.Error != "" || int64(st.Scanned) != info.Packets {
				t.Errorf("filter over a damaged capture: %+v", st)
			}
		})
	}
}
