package follow

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

var (
	cli = Endpoint{Addr: netip.MustParseAddr("198.18.0.1"), Port: 40000}
	srv = Endpoint{Addr: netip.MustParseAddr("198.18.0.2"), Port: 80}
)

// seg is a test segment: from the client (or the server), relative seq
// and ack, flags and payload.
func seg(frame uint32, fromServer bool, seq, ack uint32, flags uint16, payload string) Segment {
	s := Segment{Frame: frame, Src: cli, Dst: srv, Seq: seq, Ack: ack, Flags: flags, SegLen: uint32(len(payload)), Len: uint32(len(payload)), Data: []byte(payload)}
	if fromServer {
		s.Src, s.Dst = srv, cli
	}
	return s
}

// shown follows segs and returns the chunks as "dir:frame:text".
func shown(p Proto, segs []Segment) []string {
	var out []string
	f := New(p, func(c *Chunk) { out = append(out, fmt.Sprintf("%d:%d:%s", c.Dir, c.Frame, c.Data)) })
	for i := range segs {
		f.Add(&segs[i])
	}
	return out
}

// TestFollowerOrder checks which segments tshark's follow keeps, and in
// which order, case by case.
func TestFollowerOrder(t *testing.T) {
	const syn, ack = FlagSYN, 0x10
	tests := []struct {
		name string
		segs []Segment
		want []string
	}{
		{"in order, both ways", []Segment{
			seg(1, false, 0, 0, syn, ""), seg(2, true, 0, 1, syn|ack, ""),
			seg(3, false, 1, 1, ack, "GET /"), seg(4, true, 1, 6, ack, "200 OK"), seg(5, false, 6, 7, ack, "bye"),
		}, []string{"0:3:GET /", "1:4:200 OK", "0:5:bye"}},
		{"a retransmission is shown once", []Segment{
			seg(1, false, 1, 1, ack, "abc"), seg(2, false, 1, 1, ack, "abc"), seg(3, false, 4, 1, ack, "def"),
		}, []string{"0:1:abc", "0:3:def"}},
		{"a retransmission with more data: the new part", []Segment{
			seg(1, false, 1, 1, ack, "abc"), seg(2, false, 1, 1, ack, "abcdef"),
		}, []string{"0:1:abc", "0:2:def"}},
		{"out of order: placed when the gap fills", []Segment{
			seg(1, false, 1, 1, ack, "abc"), seg(2, false, 7, 1, ack, "ghi"), seg(3, false, 4, 1, ack, "def"),
		}, []string{"0:1:abc", "0:3:def", "0:2:ghi"}},
		{"a waiting segment that overlaps what filled the gap", []Segment{
			seg(1, false, 1, 1, ack, "abc"), seg(2, false, 5, 1, ack, "efgh"), seg(3, false, 4, 1, ack, "de"),
		}, []string{"0:1:abc", "0:3:de", "0:2:fgh"}},
		{"a gap never filled nor acknowledged: what follows is never shown", []Segment{
			seg(1, false, 1, 1, ack, "abc"), seg(2, false, 7, 1, ack, "ghi"), seg(3, true, 1, 4, ack, "ok"),
		}, []string{"0:1:abc", "1:3:ok"}},
		{"a gap the other side acknowledged", []Segment{
			seg(1, false, 1, 1, ack, "abc"), seg(2, false, 7, 1, ack, "ghi"), seg(3, true, 1, 10, ack, "ok"),
		}, []string{"0:1:abc", "0:3:[3 bytes missing in capture file]\x00", "0:2:ghi", "1:3:ok"}},
		{"data on a SYN starts after it", []Segment{
			seg(1, false, 0, 0, syn, "fast"), seg(2, false, 5, 0, ack, "open"),
		}, []string{"0:1:fast", "0:2:open"}},
		{"the first packet's source is the client", []Segment{
			seg(1, true, 1, 1, ack, "banner"), seg(2, false, 1, 7, ack, "hello"),
		}, []string{"0:1:banner", "1:2:hello"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shown(TCP, tt.segs)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestFollowerUDP: every datagram as it is, in capture order.
func TestFollowerUDP(t *testing.T) {
	got := shown(UDP, []Segment{seg(1, false, 0, 0, 0, "q"), seg(2, true, 0, 0, 0, "a"), seg(3, false, 0, 0, 0, "q")})
	if want := "0:1:q|1:2:a|0:3:q"; strings.Join(got, "|") != want {
		t.Errorf("got %q, want %s", got, want)
	}
}

// TestFollowerRefs: without bytes, chunks name the part of each payload.
func TestFollowerRefs(t *testing.T) {
	segs := []Segment{seg(1, false, 1, 1, 0x10, "abc"), seg(2, false, 1, 1, 0x10, "abcdef")}
	var got []Chunk
	f := New(TCP, func(c *Chunk) { got = append(got, *c) })
	for i := range segs {
		segs[i].Data = nil
		f.Add(&segs[i])
	}
	if len(got) != 2 || got[1].Frame != 2 || got[1].Off != 3 || got[1].Len != 3 || got[1].Data != nil {
		t.Errorf("chunks %+v, want frame 2's bytes 3..6 without data", got)
	}
}

// TestTextWriter checks tshark's layouts: the header, a server chunk's
// tab, the hex dump's offsets per direction, its trailing space dropped.
func TestTextWriter(t *testing.T) {
	for _, tt := range []struct {
		mode Mode
		want string
	}{
		{ASCII, "5\nab\r\n.\n\t3\nok \n"},
		{Raw, "61620d0a01\n\t6f6b20\n"},
		{Hex, "00000000  61 62 0d 0a 01                                    ab...\n\t00000000  6f 6b 20                                          ok\n"},
	} {
		var b bytes.Buffer
		w := NewTextWriter(&b, TCP, tt.mode, "tcp.stream eq 0", cli, Endpoint{Addr: netip.MustParseAddr("2001:db8::1"), Port: 80})
		w.Chunk(0, []byte("ab\r\n\x01"))
		w.Chunk(1, []byte("ok "))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		head := "\n" + separator + "Follow: tcp," + tt.mode.String() + "\nFilter: tcp.stream eq 0\nNode 0: 198.18.0.1:40000\nNode 1: [2001:db8::1]:80\n"
		if want := head + tt.want + separator; b.String() != want {
			t.Errorf("%v:\n got %q\nwant %q", tt.mode, b.String(), want)
		}
	}
	var b []byte
	b = appendHexDump(b, "", 16, []byte("0123456789abcdef0"))
	if want := "00000010  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  01234567 89abcdef\n00000020  30                                                0\n"; string(b) != want {
		t.Errorf("hex dump:\n got %q\nwant %q", b, want)
	}
}

// TestFormats checks the web formats of a piece.
func TestFormats(t *testing.T) {
	p := &Piece{Dir: 1, DirOff: 0, Frame: 7, Index: 2, Data: []byte("hi\x00\xff\n")}
	for f, want := range map[Format]string{
		FormatASCII:  "hi..\n",
		FormatRaw:    "686900ff0a",
		FormatUTF8:   "hi\x00\ufffd\n",
		FormatCArray: "char peer1_2[] = { /* Packet 7 */\n0x68, 0x69, 0x00, 0xff, 0x0a };\n",
	} {
		if got := string(AppendFormat(nil, f, p)); got != want {
			t.Errorf("%v: got %q, want %q", f, got, want)
		}
		if g, err := ParseFormat(f.String()); err != nil || g != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f, g, err)
		}
	}
	if _, err := ParseFormat("pdf"); err == nil {
		t.Error("ParseFormat(pdf): no error")
	}
}
