package web

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// spbCapture returns a little-endian pcapng file of one Ethernet interface
// whose packets are Simple Packet Blocks, which carry no timestamp.
func spbCapture(frames [][]byte) []byte {
	le := binary.LittleEndian
	block := func(b []byte, typ uint32, body []byte) []byte {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		n := uint32(12 + len(body))
		b = le.AppendUint32(b, typ)
		b = le.AppendUint32(b, n)
		b = append(b, body...)
		return le.AppendUint32(b, n)
	}
	var shb []byte
	shb = le.AppendUint32(shb, 0x1a2b3c4d)
	shb = le.AppendUint16(shb, 1)
	shb = le.AppendUint16(shb, 0)
	shb = le.AppendUint64(shb, ^uint64(0)) // section length unknown
	var idb []byte
	idb = le.AppendUint16(idb, 1) // LINKTYPE_ETHERNET
	idb = le.AppendUint16(idb, 0)
	idb = le.AppendUint32(idb, 0) // no snaplen
	b := block(nil, 0x0a0d0d0a, shb)
	b = block(b, 1, idb)
	for _, f := range frames {
		spb := le.AppendUint32(nil, uint32(len(f)))
		b = block(b, 3, append(spb, f...))
	}
	return b
}

// TestSimplePacketBlocks checks that packets without a timestamp (pcapng
// Simple Packet Blocks) are indexed at the epoch, shown so, and downloaded.
func TestSimplePacketBlocks(t *testing.T) {
	var frames [][]byte
	for i := range 3 {
		f := make([]byte, 60+i)
		copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, byte(i), 0x08, 0x06})
		f[len(f)-1] = byte(i)
		frames = append(frames, f)
	}
	_, ts := newTestServer(t, Config{})
	info := waitIndexed(t, ts, upload(t, ts, "spb.pcapng", spbCapture(frames)).ID)
	if info.State != stateReady || info.Packets != 3 {
		t.Fatalf("capture %+v", info)
	}
	if !strings.HasPrefix(info.First, "1970-01-01T00:00:00") || info.FirstSec != 0 || info.SpanSeconds != 0 {
		t.Errorf("first %q (%d s), span %v s: want the epoch", info.First, info.FirstSec, info.SpanSeconds)
	}
	base := ts.URL + "/api/captures/" + info.ID
	var r RowsResponse
	do(t, "GET", base+"/rows", nil, &r)
	if len(r.Rows) != 3 {
		t.Fatalf("%d rows", len(r.Rows))
	}
	for _, row := range r.Rows {
		if row.Sec != 0 || row.Nsec != 0 || row.Delta != 0 {
			t.Errorf("row %d: time %d.%09d delta %d, want 0", row.No, row.Sec, row.Nsec, row.Delta)
		}
	}
	var p PacketResponse
	do(t, "GET", base+"/packets/2", nil, &p)
	if !strings.HasPrefix(p.Time, "1970-01-01 00:00:00") {
		t.Errorf("packet 2 time %q, want the epoch", p.Time)
	}
	for _, format := range []string{"pcap", "pcapng"} {
		res := do(t, "GET", base+"/download?format="+format, nil, nil)
		data, err := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("%s download: status %d, %v", format, res.StatusCode, err)
		}
		pkts := readCapture(t, data)
		if len(pkts) != len(frames) {
			t.Fatalf("%s download: %d packets, want %d", format, len(pkts), len(frames))
		}
		for i, pkt := range pkts {
			if !pkt.Timestamp.Equal(time.Unix(0, 0)) || !bytes.Equal(pkt.Data, frames[i]) || pkt.Length != len(frames[i]) {
				t.Errorf("%s packet %d: %v %d bytes (%d on the wire), want the epoch and %d bytes", format, i+1, pkt.Timestamp, len(pkt.Data), pkt.Length, len(frames[i]))
			}
		}
	}
}
