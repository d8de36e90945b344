package explain

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

var update = flag.Bool("update", false, "rewrite testdata/explain.golden")

// goldenCases are the filter examples of the README and the design notes
// on corpus packets: matches, no matches, and a truncated packet (a
// packet cut as a snap length of cut would).
var goldenCases = []corpusCase{
	{"kday2.pcap", 4, 0, "tcp port 443"},
	{"kday2.pcap", 5, 0, "tcp port 443"},
	{"kday2.pcap", 4, 36, "tcp port 443"},
	{"dns_udp.pcap", 1, 0, "udp port 53"},
	{"dns_udp.pcap", 2, 0, "udp port 53"},
	{"kday2.pcap", 4, 0, "udp port 53"},
	{"accecn_handshake.pcap", 1, 0, "tcp[tcpflags] & tcp-syn != 0"},
	{"accecn_handshake.pcap", 3, 0, "tcp[tcpflags] & tcp-syn != 0"},
	{"dns_udp.pcap", 1, 0, "tcp port 443 or not udp port 53"},
}

// TestExplainGolden compares the explanations of goldenCases, in words and
// as JSON, with testdata/explain.golden (go test -update rewrites it; read
// the diff against the packets' bytes before committing it). Each verdict
// must also be the VM's and the terms' recombination.
func TestExplainGolden(t *testing.T) {
	var out bytes.Buffer
	for _, gc := range goldenCases {
		p, opts := corpusPacket(t, gc.file, gc.no, gc.cut)
		data, wire := p.Data, p.Length
		x, err := New(gc.expr, opts)
		if err != nil {
			t.Fatal(err)
		}
		e := x.Explain(data, wire, nil)
		prog, err := filter.Compile(gc.expr, opts)
		if err != nil {
			t.Fatal(err)
		}
		v, err := vm.New(prog.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if want := v.Run(data, wire); e.Result != want {
			t.Errorf("%s #%d %q: explanation returns %d, VM %d", gc.file, gc.no, gc.expr, e.Result, want)
		}
		if got, err := e.Verdict(); err != nil || got != e.Match {
			t.Errorf("%s #%d %q: terms give %v (%v), verdict %v", gc.file, gc.no, gc.expr, got, err, e.Match)
		}
		js, err := json.MarshalIndent(e, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "== %s packet %d (%d of %d bytes) %q\n%s%s\n\n", gc.file, gc.no, len(data), wire, gc.expr, e, js)
	}
	checkGolden(t, "explain.golden", out.Bytes())
}

// corpusCase is an expression to explain on a corpus packet.
type corpusCase struct {
	file string
	no   int // 1-based
	cut  int // keep only this many bytes (0: all)
	expr string
}

// corpusPacket returns packet no (from 1) of a corpus capture, cut to
// its first cut bytes when cut is not 0, and the capture's filter
// options.
func corpusPacket(t *testing.T, file string, no, cut int) (pcapio.Packet, filter.Options) {
	t.Helper()
	c, err := capture.FromFile(filepath.Join(testenv.SharedDir(t), "corpus", file)).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var p pcapio.Packet
	for i := 1; i <= no; i++ {
		if p, err = c.Next(); err != nil {
			t.Fatalf("%s packet %d: %v", file, i, err)
		}
	}
	if cut > 0 {
		p.Data = p.Data[:cut]
	}
	return p, c.FilterOptions()
}

// checkGolden compares out with testdata/name (go test -update writes
// it).
func checkGolden(t *testing.T, name string, out []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("explanations differ from %s (go test -update rewrites it):\n%s", path, out)
	}
}
