package filter_test

import (
	"testing"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/explain"
	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/pcapio"
)

// TestExplainRandomExpressions is the explanation's property test: for
// random expressions of the differential tests and the corpus's Ethernet
// packets (PKTTAP_RANDOM_SEED varies them), the terms' outcomes recombined by the expression's structure
// (Explanation.Verdict) give the VM's verdict on the optimized program.
func TestExplainRandomExpressions(t *testing.T) {
	pkts := filter.CorpusPackets(t, pcapio.LinkTypeEthernet)
	if len(pkts) == 0 {
		t.Fatal("no Ethernet packets in the corpus")
	}
	// a spread of packets: every 25th, about 280
	var sample []filter.CorpusPacket
	for i := 0; i < len(pkts); i += 25 {
		sample = append(sample, pkts[i])
	}
	exprs := filter.RandomExprs(uint64(filter.RandomSeed(t)), 100)
	explained, matched := 0, 0
	for _, expr := range exprs {
		opts := filter.Options{LinkType: pcapio.LinkTypeEthernet}
		prog, err := filter.Compile(expr, opts)
		if err != nil {
			continue
		}
		x, err := explain.New(expr, opts)
		if err != nil {
			t.Fatalf("%q compiles but explain.New fails: %v", expr, err)
		}
		v, err := vm.New(prog.Raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range sample {
			want := v.Run(p.Data, p.WireLen)
			e := x.Explain(p.Data, p.WireLen, nil)
			if e.Result != want {
				t.Fatalf("%q on a packet of %s: explanation's result %d, VM %d", expr, p.File, e.Result, want)
			}
			if e.Note != "" {
				continue // the optimizer's documented exception
			}
			got, err := e.Verdict()
			if err != nil || got != (want != 0) {
				t.Fatalf("%q on a packet of %s (% x): terms give %v (%v), VM returns %d\n%s", expr, p.File, p.Data, got, err, want, e)
			}
			explained++
			if want != 0 {
				matched++
			}
		}
	}
	if explained < 10000 || matched < 500 {
		t.Fatalf("only %d explanations (%d matches)", explained, matched)
	}
	t.Logf("%d explanations checked, %d matches", explained, matched)
}
