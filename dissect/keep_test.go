package dissect

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

// keptValues lists, in tree order, the fields of the tree found only
// under the layers keep names (by [Field.Carriers]) with their values and
// byte ranges.
func keptValues(t *Tree, keep []string) []string {
	var out []string
	t.Walk(func(n *Node, _ int) bool {
		fd, ok := LookupField(n.Field)
		if !ok || n.Field == "frame.protocols" || fd.Carriers() == nil {
			return true
		}
		for _, c := range fd.Carriers() {
			if !slices.Contains(keep, c) {
				return true
			}
		}
		v := n.Value
		out = append(out, fmt.Sprintf("%s=%v/%d/%q/%x@%d+%d", n.Field, v.Type, v.N, v.S, v.B, n.Offset, n.Length))
		return true
	})
	return out
}

// TestDissectLayersKeepsFields checks DissectLayers against Dissect on
// every packet of the shared capture (the corpus and real traffic): for
// each layer a packet has, a tree that keeps only that layer holds the
// same fields that layer carries, with the same values and ranges, in the
// same order, as the whole tree. A display filter reads its fields from
// such trees.
func TestDissectLayersKeepsFields(t *testing.T) {
	bad := map[string]int{}
	eachSharedPacket(t, func(i int, p pcapio.Packet) {
		full := Dissect(p.LinkType, p.Data, p.Length)
		seen := map[string]bool{}
		for _, l := range Layers(p.LinkType, p.Data, p.Length, nil) {
			if seen[l] {
				continue
			}
			seen[l] = true
			keep := []string{l}
			if fd, ok := LookupField(l); ok && fd.Carriers() != nil {
				keep = fd.Carriers() // ip's fields are found under ipv6 too
			}
			want := keptValues(full, keep)
			got := keptValues(Options{}.DissectLayers(p.LinkType, p.Data, p.Length, keep), keep)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				if bad[l] < 3 {
					t.Errorf("packet %d, layer %s kept alone:\n got %v\nwant %v", i, l, got, want)
				}
				bad[l]++
			}
		}
	})
	if len(bad) > 0 {
		t.Errorf("packets differing, by layer: %v", bad)
	}
}

// TestDissectLayersNone checks that a packet with none of the kept layers
// gives no tree, and one with them a tree of those alone.
func TestDissectLayersNone(t *testing.T) {
	data := bytes.Repeat([]byte{0}, 60)
	data[12], data[13] = 0x08, 0x06 // ARP
	if tr := (Options{}).DissectLayers(pcapio.LinkTypeEthernet, data, len(data), []string{"tcp"}); tr != nil {
		t.Errorf("ARP frame kept for tcp: %d layers", len(tr.Layers))
	}
	if tr := (Options{}).DissectLayers(pcapio.LinkTypeEthernet, data, len(data), []string{"arp"}); len(tr.Layers) != 1 || tr.Layers[0].Field != "arp" {
		t.Errorf("ARP frame kept for arp: %v", tr.Layers)
	}
}
