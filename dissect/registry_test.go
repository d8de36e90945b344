package dissect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// TestRegistryCoversTree dissects every packet of the display-filter
// capture (the corpus and real HTTP/TLS traffic) and checks that every
// field node's name is registered and that its value has the registered
// type, in the form that type promises.
func TestRegistryCoversTree(t *testing.T) {
	bad := map[string]string{}
	eachSharedPacket(t, func(_ int, p pcapio.Packet) {
		Dissect(p.LinkType, p.Data, p.Length).Walk(func(n *Node, _ int) bool {
			if msg := checkNodeValue(n); msg != "" && bad[n.Field] == "" {
				bad[n.Field] = msg
			}
			return true
		})
	})
	for name, msg := range bad {
		t.Errorf("%s: %s", name, msg)
	}
}

// checkNodeValue returns what is wrong with a node's value, or "".
func checkNodeValue(n *Node) string {
	if n.Field == "" {
		if n.Value.Type != TypeNone {
			return "a text line with a value"
		}
		return ""
	}
	f, ok := LookupField(n.Field)
	if !ok {
		return "not in the registry"
	}
	v := n.Value
	if v.Type != f.Type {
		return "value of type " + v.Type.String() + ", registered as " + f.Type.String()
	}
	switch {
	case v.Type == TypeIPv4 && len(v.B) != 4, v.Type == TypeIPv6 && len(v.B) != 16, v.Type == TypeEther && len(v.B) != 6:
		return "an address of " + itoaBytes(len(v.B))
	case v.Type == TypeBool && v.N > 1:
		return "a boolean that is neither 0 nor 1"
	case v.Type.IsUint() && v.Type.Bits() < 64 && v.N>>v.Type.Bits() != 0:
		return "a value wider than its type"
	}
	return ""
}

// carriedByProtocols reports whether a name prefix that is no protocol's
// (Wireshark's openflow_1_0.type is OpenFlow 1.0's) is carried by
// registered protocols.
func carriedByProtocols(prefix string) bool {
	cs, ok := carriers[prefix]
	for _, c := range cs {
		if p, found := LookupField(c); !found || !p.IsProtocol() {
			return false
		}
	}
	return ok && len(cs) > 0
}

// TestRegistryNames checks the registry itself: names are unique, each
// field's protocol is registered as one, and aliases name registered
// fields of the alias's type.
func TestRegistryNames(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Fields() {
		if seen[f.Name] {
			t.Errorf("%s registered twice", f.Name)
		}
		seen[f.Name] = true
		if f.Description == "" || f.Description == f.Name || strings.ContainsAny(f.Description, "\t\r\n") {
			t.Errorf("%s: description %q is empty, its name, or spans lines", f.Name, f.Description)
		}
		if p, ok := LookupField(f.Parent()); (!ok || !p.IsProtocol()) && !carriedByProtocols(f.Parent()) {
			t.Errorf("%s: its protocol %q is not registered as a protocol", f.Name, f.Parent())
		}
		for _, a := range f.Alias {
			if af, ok := LookupField(a); !ok || af.Type != f.Type {
				t.Errorf("%s: alias of %s, which is not a registered field of type %s", f.Name, a, f.Type)
			}
		}
	}
}

// TestCarriers checks what display filters rely on to skip packets: every
// field node of every packet of the shared capture lies in a packet whose
// Layers include one of the field's Carriers.
func TestCarriers(t *testing.T) {
	bad := map[string]bool{}
	eachSharedPacket(t, func(i int, p pcapio.Packet) {
		layers := map[string]bool{}
		for _, l := range Layers(p.LinkType, p.Data, p.Length, nil) {
			layers[l] = true
		}
		Dissect(p.LinkType, p.Data, p.Length).Walk(func(n *Node, _ int) bool {
			fd, ok := LookupField(n.Field)
			if !ok || bad[n.Field] {
				return true
			}
			cs := fd.Carriers()
			found := cs == nil
			for _, c := range cs {
				found = found || layers[c]
			}
			if !found {
				bad[n.Field] = true
				t.Errorf("packet %d: %s found, but none of its carriers %v among its layers %v", i, n.Field, cs, layers)
			}
			return true
		})
	})
}

// eachSharedPacket calls fn with every packet of the shared display-filter
// capture (the corpus and real HTTP/TLS traffic), numbered from 1.
func eachSharedPacket(t *testing.T, fn func(n int, p pcapio.Packet)) {
	t.Helper()
	path := filepath.Join(testenv.SharedDir(t), "dfilters", "capture.pcapng")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapio.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; ; n++ {
		p, err := r.Next()
		if err != nil {
			return
		}
		fn(n, p)
	}
}
