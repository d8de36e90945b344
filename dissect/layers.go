package dissect

import "github.com/pkttap/pkttap/pcapio"

// MaxLayers is the most layer names [Layers] reports for a packet.
const MaxLayers = 32

const maxSeen = MaxLayers

// layerSet records the names of the layers a decoder made, in order.
type layerSet struct {
	n     int
	names [maxSeen]string
}

func (s *layerSet) add(name string) {
	if s.n < maxSeen {
		s.names[s.n] = name
		s.n++
	}
}

// Layers appends to dst the names of the protocol layers a packet holds,
// outermost first ("frame", "eth", "ip", "udp", "dns"; a tunnelled
// packet's layers too), as [Dissect] would make them but at the cost of
// [Summarize]: no tree is built. A field of the registry is found in a
// tree only under one of the layers its [Field.Carriers] names, so a
// display filter can tell from the layers alone that a packet lacks its
// fields.
func Layers(lt pcapio.LinkType, data []byte, wireLen int, dst []string) []string {
	d := getDecoder(lt, data, wireLen, false, Options{})
	dst = append(dst, "frame")
	dst = append(dst, d.seen.names[:d.seen.n]...)
	putDecoder(d)
	return dst
}

// carriers lists, for the protocols whose fields other layers carry too,
// those layers: SSDP messages have HTTP's header fields, mDNS and LLMNR
// DNS's, 802.1ad tags VLAN's, PPPoE discovery and session PPPoE's, IPv6
// headers IPv4's ip.version, PPP's control protocols PPP's code,
// identifier and length, OpenFlow 1.0's messages openflow.* and
// openflow_1_0.* fields.
var carriers = map[string][]string{
	"http":  {"http", "ssdp"},
	"ip":    {"ip", "ipv6"}, // ip.version
	"dns":   {"dns", "mdns", "llmnr"},
	"vlan":  {"vlan", "ieee8021ad"},
	"pppoe": {"pppoed", "pppoes"},
	"ppp":   {"ppp", "lcp", "ipcp", "ipv6cp", "pap", "chap"}, // ppp.code and friends
	// OpenFlow 1.0's fields are named openflow.* and openflow_1_0.*.
	"openflow":     {"openflow_v1"},
	"openflow_1_0": {"openflow_v1"},
}

// Carriers returns the layers under which the field can be found in a
// tree: the protocol its name begins with ("tcp" for tcp.options.sack),
// or the protocols that share its decoder; nil means any layer (the data
// protocol's fields, and the marks of a cut or malformed packet).
func (f *Field) Carriers() []string {
	p := f.Name
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			p = p[:i]
			break
		}
	}
	if p == "data" || p == "_ws" {
		return nil
	}
	if c, ok := carriers[p]; ok {
		return c
	}
	return []string{p}
}
