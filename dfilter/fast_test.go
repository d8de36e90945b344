package dfilter

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// readCapture returns the packets of the shared display-filter capture.
func readCapture(t testing.TB) []pcapio.Packet {
	t.Helper()
	path := filepath.Join(testenv.SharedDir(t), "dfilters", "capture.pcapng")
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, err := pcapio.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	var pkts []pcapio.Packet
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		pkts = append(pkts, p)
	}
	return pkts
}

// TestFastEqualsTree checks the fast path against the tree: for every
// packet of the shared capture that dissect.Quick calls plain, every
// fast field has the same values (type, number, bytes) as the nodes of
// that name in the packet's tree, and a protocol is present in both or
// in neither.
func TestFastEqualsTree(t *testing.T) {
	pkts := readCapture(t)
	names := make([]string, 0, len(fastFields))
	for name := range fastFields {
		names = append(names, name)
	}
	sort.Strings(names)
	plain, bad := 0, map[string]int{}
	var h dissect.Headers
	for i, p := range pkts {
		if !dissect.Quick(p.LinkType, p.Data, p.Length, &h) {
			continue
		}
		plain++
		tree := dissect.Dissect(p.LinkType, p.Data, p.Length)
		slow := FieldValues(tree, i+1, names)
		for j, name := range names {
			fast := fastFields[name](&h, nil)
			if !sameValues(fast, slow[j], name) {
				if bad[name] == 0 {
					t.Errorf("packet %d, %s: fast path %v, tree %v", i+1, name, fast, slow[j])
				}
				bad[name]++
			}
		}
	}
	t.Logf("%d of %d packets plain enough for the fast path", plain, len(pkts))
	if plain < len(pkts)/4 {
		t.Errorf("only %d of %d packets took the fast path", plain, len(pkts))
	}
}

func sameValues(a, b []dissect.Value, name string) bool {
	if len(a) != len(b) {
		return false
	}
	f, _ := dissect.LookupField(name)
	for i := range a {
		if f.IsProtocol() {
			continue // presence only
		}
		if a[i].Type != b[i].Type || a[i].N != b[i].N || a[i].S != b[i].S || !bytes.Equal(a[i].B, b[i].B) {
			return false
		}
	}
	return true
}

// TestFastFilters checks that filters on fast fields take the fast path
// and give the verdicts the tree gives, packet by packet.
func TestFastFilters(t *testing.T) {
	pkts := readCapture(t)
	for _, expr := range []string{"tcp.port == 443", "ip.addr == 192.168.0.0/16 && udp", "tcp.flags.syn == 1 and !tcp.flags.ack",
		"ipv6 && udp.port in {53, 5353}", "frame.len > 1000 or eth.dst[0] & 1", "tcp.len > 0 && ip.ttl < 64", "eth.addr == ff:ff:ff:ff:ff:ff"} {
		f, err := Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Fast() && expr != "frame.len > 1000 or eth.dst[0] & 1" {
			t.Errorf("%q does not take the fast path", expr)
		}
		for i, p := range pkts {
			tree := dissect.Dissect(p.LinkType, p.Data, p.Length)
			fast := f.Match(Packet{LinkType: p.LinkType, Data: p.Data, Length: p.Length, Number: i + 1})
			if slow := f.MatchTree(tree, i+1); fast != slow {
				t.Errorf("%q on packet %d: fast path %v, tree %v", expr, i+1, fast, slow)
				break
			}
		}
	}
}
