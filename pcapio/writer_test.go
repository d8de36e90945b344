package pcapio

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// writeFile writes pkts with a Writer of the given format.
func writeFile(t testing.TB, f Format, pkts []Packet, ifaces []Interface) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Format: f, LinkType: LinkTypeEthernet, Interfaces: ifaces})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		if err := w.WritePacket(&pkts[i]); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriterRoundTrip(t *testing.T) {
	pkts := testPackets(500, 5)
	pkts[3].Comment = "a comment"
	pkts[4].Comment = "odd length comment!"
	tests := []struct {
		format Format
		prec   time.Duration
		ngOnly bool
	}{
		{FormatPcap, time.Microsecond, false},
		{FormatPcapNano, 1, false},
		{FormatPcapNg, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.format.String(), func(t *testing.T) {
			r, got := readAll(t, writeFile(t, tt.format, pkts, nil))
			if r.Format() != tt.format || r.LinkType() != LinkTypeEthernet {
				t.Errorf("read back as %v %v", r.Format(), r.LinkType())
			}
			if len(got) != len(pkts) {
				t.Fatalf("%d packets, want %d", len(got), len(pkts))
			}
			for i, p := range pkts {
				g := got[i]
				comment := ""
				if tt.ngOnly {
					comment = p.Comment
				}
				if !bytes.Equal(g.Data, p.Data) || g.Length != p.Length || !g.Timestamp.Equal(p.Timestamp.Truncate(tt.prec)) || g.Comment != comment || g.LinkType != LinkTypeEthernet {
					t.Fatalf("packet %d: got %v len %d %q, want %v len %d %q", i, g.Timestamp, g.Length, g.Comment, p.Timestamp, p.Length, comment)
				}
			}
		})
	}
}

func TestWriterInterfaces(t *testing.T) {
	ifaces := []Interface{
		{LinkType: LinkTypeEthernet, Name: "eth0", Description: "uplink", TSResolution: TSResolutionMicro, Snaplen: 65535, FCSLen: 4, Speed: 1e9, OS: "Linux", Hardware: "nic", Filter: "tcp", Comment: "c"},
		{LinkType: LinkTypeRaw, Name: "tun0"},
		{LinkType: LinkTypeLinuxSLL, Name: "any", TSResolution: 0x80 | 32, TSOffset: -3600},
	}
	t0 := time.Unix(1_600_000_000, 987_654_321).UTC()
	pkts := []Packet{
		{Timestamp: t0, Data: []byte("eth"), Length: 3, InterfaceIndex: 0},
		{Timestamp: t0, Data: []byte("raw"), Length: 1000, InterfaceIndex: 1, Comment: "truncated"},
		{Timestamp: t0, Data: []byte("sll!"), Length: 4, InterfaceIndex: 2},
	}
	r, got := readAll(t, writeFile(t, FormatPcapNg, pkts, ifaces))
	wantTS := []time.Time{t0.Truncate(time.Microsecond), t0, t0.Add(-1)} // 2^-32 s units round down
	for i, g := range got {
		if g.LinkType != ifaces[i].LinkType || g.InterfaceIndex != i || !g.Timestamp.Equal(wantTS[i]) || g.Length != pkts[i].Length || g.Comment != pkts[i].Comment {
			t.Errorf("packet %d = %+v", i, g)
		}
	}
	if got := r.SectionInfo(); got != (SectionInfo{Application: "pkttap"}) {
		t.Errorf("section info %+v, want the writer's application name", got)
	}
	gotIf := r.Interfaces()
	if len(gotIf) != 3 {
		t.Fatalf("%d interfaces", len(gotIf))
	}
	if gotIf[0] != ifaces[0] {
		t.Errorf("interface 0 = %+v, want %+v", gotIf[0], ifaces[0])
	}
	if gotIf[1].TSResolution != TSResolutionNano || gotIf[1].Snaplen != MaxSnaplen || gotIf[1].Name != "tun0" {
		t.Errorf("interface 1 defaults = %+v", gotIf[1])
	}
	if gotIf[2].TSOffset != -3600 || gotIf[2].TSResolution != 0x80|32 {
		t.Errorf("interface 2 = %+v", gotIf[2])
	}
}

func TestWriterErrors(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Format: FormatPcapNg, LinkType: LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(&Packet{Timestamp: time.Unix(1, 0), InterfaceIndex: 1}); err == nil {
		t.Error("packet for a missing interface accepted")
	}
	if err := w.WritePacket(&Packet{Timestamp: time.Unix(-1, 0)}); err == nil {
		t.Error("timestamp before 1970 accepted")
	}
	for _, f := range []Format{FormatPcap, FormatPcapNano, FormatPcapNg} {
		var out bytes.Buffer
		zw, err := NewWriter(&out, WriterOptions{Format: f})
		if err != nil {
			t.Fatal(err)
		}
		if err := zw.WritePacket(&Packet{Data: []byte("spb")}); err != nil {
			t.Errorf("%v: packet with a zero (unknown) timestamp: %v", f, err)
		}
		zw.Flush()
		if _, got := readAll(t, out.Bytes()); len(got) != 1 || got[0].Timestamp.Unix() != 0 {
			t.Errorf("%v: zero timestamp read back as %v, want the epoch", f, got)
		}
	}
	if _, err := NewWriter(&buf, WriterOptions{Format: Format(9)}); err == nil {
		t.Error("unknown format accepted")
	}
	pw, err := NewWriter(&buf, WriterOptions{Format: FormatPcap})
	if err != nil {
		t.Fatal(err)
	}
	if err := pw.WritePacket(&Packet{Timestamp: time.Unix(1<<33, 0)}); err == nil {
		t.Error("pcap timestamp past 2106 accepted")
	}
	boom := errors.New("disk full")
	fw, err := NewWriter(failWriter{boom}, WriterOptions{Format: FormatPcap})
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Flush(); !errors.Is(err, boom) {
		t.Errorf("Flush = %v, want the writer's error", err)
	}
	if err := fw.WritePacket(&Packet{}); !errors.Is(err, boom) {
		t.Errorf("WritePacket after a failed Flush = %v", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

var _ io.Writer = failWriter{}

// TestWriterVerbatimLengths: with VerbatimLengths a record's on-wire length
// is written as given, even 0 or less than the captured bytes (a damaged
// file's record, copied as it is); without it, it is at least len(Data).
func TestWriterVerbatimLengths(t *testing.T) {
	for _, f := range []Format{FormatPcap, FormatPcapNg} {
		for _, verbatim := range []bool{false, true} {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, WriterOptions{Format: f, LinkType: LinkTypeEthernet, VerbatimLengths: verbatim})
			if err != nil {
				t.Fatal(err)
			}
			lengths := []int{0, 3, 47, 100}
			for _, n := range lengths {
				if err := w.WritePacket(&Packet{Timestamp: time.Unix(1, 0), Data: make([]byte, 47), Length: n}); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range lengths {
				p, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				want := n
				if !verbatim {
					want = max(n, 47)
				}
				if p.Length != want || len(p.Data) != 47 {
					t.Errorf("%v, VerbatimLengths %v: Length %d written as %d (%d bytes), want %d", f, verbatim, n, p.Length, len(p.Data), want)
				}
			}
		}
	}
}

// TestWriterNoAllocs checks that writing a packet allocates nothing, in
// either format (pkttap-web spools every live packet through WritePacket).
func TestWriterNoAllocs(t *testing.T) {
	for _, f := range []Format{FormatPcap, FormatPcapNano, FormatPcapNg} {
		w, err := NewWriter(io.Discard, WriterOptions{Format: f, LinkType: LinkTypeEthernet})
		if err != nil {
			t.Fatal(err)
		}
		p := &Packet{Timestamp: time.Unix(1_700_000_000, 123456789), Data: make([]byte, 61), Length: 100}
		if n := testing.AllocsPerRun(100, func() { w.WritePacket(p) }); n != 0 {
			t.Errorf("format %v: %v allocations per packet, want 0", f, n)
		}
	}
}
