package web

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pkttap/pkttap/store"
)

// spbCapture returns a little-endian pcapng file of one Ethernet interface
// whose packets are Simple Packet Blocks, which carry no timestamp.
func spbCapture(frames [][]byte) []byte { return mixedCapture(frames, nil) }

// mixedCapture returns a little-endian pcapng file of one Ethernet
// interface (microsecond timestamps) whose packet i is an Enhanced Packet
// Block at times[i] when that is not zero, else a Simple Packet Block.
func mixedCapture(frames [][]byte, times []time.Time) []byte {
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
	for i, f := range frames {
		if i < len(times) && !times[i].IsZero() {
			us := uint64(times[i].UnixMicro())
			epb := le.AppendUint32(nil, 0) // interface 0
			epb = le.AppendUint32(epb, uint32(us>>32))
			epb = le.AppendUint32(epb, uint32(us))
			epb = le.AppendUint32(epb, uint32(len(f)))
			epb = le.AppendUint32(epb, uint32(len(f)))
			b = block(b, 6, append(epb, f...))
			continue
		}
		spb := le.AppendUint32(nil, uint32(len(f)))
		b = block(b, 3, append(spb, f...))
	}
	return b
}

// TestSimplePacketBlocks checks that packets without a timestamp (pcapng
// Simple Packet Blocks) are shown as having none: "noTime" in their rows
// and packet, "no timestamp" as the packet's time, no delta to or from
// them, and a capture's first and last times and span from the packets
// that have one. Downloads write them at the epoch (pcap has no way to say
// "no time").
func TestSimplePacketBlocks(t *testing.T) {
	var frames [][]byte
	for i := range 4 {
		f := make([]byte, 60+i)
		copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, byte(i), 0x08, 0x06})
		f[len(f)-1] = byte(i)
		frames = append(frames, f)
	}
	_, ts := newTestServer(t, Config{})
	t.Run("only SPBs", func(t *testing.T) {
		info := waitIndexed(t, ts, upload(t, ts, "spb.pcapng", spbCapture(frames[:3])).ID)
		if info.State != store.StateReady || info.Packets != 3 {
			t.Fatalf("capture %+v", info)
		}
		if info.First != "" || info.Last != "" || info.FirstSec != 0 || info.SpanSeconds != 0 {
			t.Errorf("first %q last %q (%d s), span %v s: want none", info.First, info.Last, info.FirstSec, info.SpanSeconds)
		}
		base := ts.URL + "/api/captures/" + info.ID
		var r RowsResponse
		do(t, "GET", base+"/rows", nil, &r)
		if len(r.Rows) != 3 {
			t.Fatalf("%d rows", len(r.Rows))
		}
		for _, row := range r.Rows {
			if !row.NoTime || row.Sec != 0 || row.Nsec != 0 || row.Delta != 0 {
				t.Errorf("row %d: noTime %v, time %d.%09d delta %d: want no time", row.No, row.NoTime, row.Sec, row.Nsec, row.Delta)
			}
		}
		var p PacketResponse
		do(t, "GET", base+"/packets/2", nil, &p)
		if p.Time != "no timestamp" || !p.NoTime {
			t.Errorf("packet 2 time %q, noTime %v: want no timestamp", p.Time, p.NoTime)
		}
		for _, format := range []string{"pcap", "pcapng"} {
			res := do(t, "GET", base+"/download?format="+format, nil, nil)
			data, err := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK || err != nil {
				t.Fatalf("%s download: status %d, %v", format, res.StatusCode, err)
			}
			pkts := readCapture(t, data)
			if len(pkts) != 3 {
				t.Fatalf("%s download: %d packets, want 3", format, len(pkts))
			}
			for i, pkt := range pkts {
				if !pkt.Timestamp.Equal(time.Unix(0, 0)) || !bytes.Equal(pkt.Data, frames[i]) || pkt.Length != len(frames[i]) {
					t.Errorf("%s packet %d: %v %d bytes (%d on the wire), want the epoch and %d bytes", format, i+1, pkt.Timestamp, len(pkt.Data), pkt.Length, len(frames[i]))
				}
			}
		}
	})
	t.Run("SPBs among timed packets", func(t *testing.T) {
		t1 := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
		t3 := t1.Add(1500 * time.Millisecond)
		info := waitIndexed(t, ts, upload(t, ts, "mixed.pcapng", mixedCapture(frames, []time.Time{{}, t1, {}, t3})).ID)
		if info.State != store.StateReady || info.Packets != 4 {
			t.Fatalf("capture %+v", info)
		}
		if info.First != t1.Format(time.RFC3339Nano) || info.Last != t3.Format(time.RFC3339Nano) || info.FirstSec != t1.Unix() || info.SpanSeconds != 1.5 {
			t.Errorf("first %q last %q (%d s), span %v s: want those of packets 2 and 4", info.First, info.Last, info.FirstSec, info.SpanSeconds)
		}
		var r RowsResponse
		do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/rows", nil, &r)
		want := []struct {
			noTime bool
			sec    int64
			delta  int64
		}{{true, 0, 0}, {false, t1.Unix(), 0}, {true, 0, 0}, {false, t3.Unix(), 0}}
		for i, row := range r.Rows {
			if row.NoTime != want[i].noTime || row.Sec != want[i].sec || row.Delta != want[i].delta {
				t.Errorf("row %d: noTime %v sec %d delta %d, want %+v", row.No, row.NoTime, row.Sec, row.Delta, want[i])
			}
		}
		var p PacketResponse
		do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/packets/2", nil, &p)
		if p.NoTime || !strings.HasPrefix(p.Time, "2024-05-06 07:08:09") {
			t.Errorf("packet 2: time %q noTime %v", p.Time, p.NoTime)
		}
	})
}

// TestBrowserNoTimestamp checks that the packet list shows "no timestamp"
// in the Time column of packets that have none, in every time mode, and
// the time of the others.
func TestBrowserNoTimestamp(t *testing.T) {
	ctx := newBrowser(t)
	_, ts := newTestServer(t, Config{})
	var frames [][]byte
	for i := range 3 {
		f := make([]byte, 60)
		copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, byte(i), 0x08, 0x06})
		frames = append(frames, f)
	}
	t1 := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	info := waitIndexed(t, ts, upload(t, ts, "mixed.pcapng", mixedCapture(frames, []time.Time{t1, {}, t1.Add(time.Second)})).ID)
	do1(t, ctx, chromedp.Navigate(ts.URL+"/c/"+info.ID))
	cells := `Array.from(document.querySelectorAll('#list-rows .row:not(.loading) .c-time')).map(e => e.textContent).join('|')`
	for mode, want := range map[string]string{
		"relative": "0.000000|no timestamp|1.000000",
		"absolute": "07:08:09.000000|no timestamp|07:08:10.000000",
		"delta":    "0.000000|no timestamp|0.000000",
	} {
		evalJS[bool](t, ctx, `(() => { const s = document.getElementById('time-mode'); s.value = '`+mode+`'; s.dispatchEvent(new Event('change')); return true; })()`)
		waitJS(t, ctx, mode+" times", cells+` === '`+want+`'`)
	}
}
