package explain

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/internal/testenv"
)

// displayCases are display filters on corpus packets: matches, no
// matches, a field that occurs twice (ip.addr: the source and the
// destination) under each quantifier, a set, a slice, a function, a
// field compared with a field, a short-circuit, and a truncated packet.
// kday2.pcap's packet 4 is TCP from 204.9.64.80:55936 to
// 204.9.40.10:443 (IPv4, TTL 64, flags ACK); dns_udp.pcap's 1 and 2 a DNS
// query for www.tcpdump.org and its answer (four A records).
var displayCases = []corpusCase{
	{"kday2.pcap", 4, 0, "tcp.port == 443"},
	{"kday2.pcap", 4, 0, "tcp.port == 80 || udp"},
	{"kday2.pcap", 4, 0, "ip.addr == 204.9.40.10"},
	{"kday2.pcap", 4, 0, "ip.addr != 204.9.40.10"},
	{"kday2.pcap", 4, 0, "ip.addr === 204.9.40.10"},
	{"kday2.pcap", 4, 0, "ip.addr ~= 204.9.40.10"},
	{"kday2.pcap", 4, 0, "tcp.port not in {80, 8000..8080} && tcp.flags & 0x02"},
	{"kday2.pcap", 4, 0, "eth.src[0:3] == 00:0c:29 or ip.src == ip.dst"},
	{"kday2.pcap", 4, 36, "tcp.port == 443 || ip.ttl >= 64"},
	{"dns_udp.pcap", 1, 0, `udp and dns.qry.name matches "^www" and len(dns.qry.name) > 3`},
	{"dns_udp.pcap", 2, 0, "!dns.flags.response || count(dns.a) > 1"},
}

// TestDisplayGolden compares the explanations of displayCases, in words
// and as JSON, with testdata/display.golden (go test -update rewrites
// it; read the diff against the packets' bytes, -V's tree, before
// committing it). Each verdict must also be Match's, and the terms'
// recombination through the tree.
func TestDisplayGolden(t *testing.T) {
	var out bytes.Buffer
	for _, gc := range displayCases {
		p, _ := corpusPacket(t, gc.file, gc.no, gc.cut)
		d, err := NewDisplay(gc.expr)
		if err != nil {
			t.Fatal(err)
		}
		f, err := dfilter.Compile(gc.expr)
		if err != nil {
			t.Fatal(err)
		}
		dp := dfilter.Packet{LinkType: p.LinkType, Data: p.Data, Length: p.Length, Number: gc.no}
		e := d.Explain(dp)
		if want := f.Match(dp); e.Match != want {
			t.Errorf("%s #%d %q: explanation says %v, Match %v", gc.file, gc.no, gc.expr, e.Match, want)
		}
		if got, err := e.Verdict(); err != nil || got != e.Match {
			t.Errorf("%s #%d %q: terms give %v (%v), verdict %v", gc.file, gc.no, gc.expr, got, err, e.Match)
		}
		js, err := json.MarshalIndent(e, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "== %s packet %d (%d of %d bytes) %q\n%s%s\n\n", gc.file, gc.no, len(p.Data), p.Length, gc.expr, e, js)
	}
	checkGolden(t, "display.golden", out.Bytes())
}

// TestDisplayVerdicts explains every display filter of the shared public
// set on a sample of the shared capture's packets: each explanation's
// verdict is Match's, it has no note but a truncated packet's, and its
// terms, recombined through its tree with their checks under their
// quantifiers, give it.
func TestDisplayVerdicts(t *testing.T) {
	shared := testenv.SharedDir(t)
	fh, err := os.Open(filepath.Join(shared, "dfilters", "public.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var ds []*Display
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if d, err := NewDisplay(strings.TrimSpace(sc.Text())); err == nil {
			ds = append(ds, d)
		}
	}
	fh.Close()
	c, err := capture.FromFile(filepath.Join(shared, "dfilters", "capture.pcapng")).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n, explained, matched := 0, 0, 0
	for {
		p, err := c.Next()
		if err != nil {
			break
		}
		n++
		if n%23 != 0 {
			continue
		}
		dp := dfilter.Packet{LinkType: p.LinkType, Data: p.Data, Length: p.Length, Number: n}
		for _, d := range ds {
			e := d.Explain(dp)
			explained++
			if e.Match {
				matched++
			}
			if e.Note != "" && len(p.Data) == p.Length {
				t.Errorf("%q on packet %d: %s", e.Expr, n, e.Note)
			}
			if got, err := e.Verdict(); err != nil || got != e.Match {
				t.Errorf("%q on packet %d: terms give %v (%v), verdict %v", e.Expr, n, got, err, e.Match)
			}
		}
	}
	t.Logf("%d explanations of %d filters, %d matches", explained, len(ds), matched)
	if matched == 0 || len(ds) < 150 {
		t.Errorf("%d filters, %d matches", len(ds), matched)
	}
}
