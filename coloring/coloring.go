// Package coloring holds pkttap-web's coloring rules: Wireshark's default
// rules (its colorfilters file, in its order, with its names and colours)
// and a compiled rule set that tells which rule a packet matches first.
//
// A rule is a display filter (package dfilter). A rule naming a field or
// protocol pkttap's dissector does not have is kept in the set, marked
// unavailable with the compile error, and matches nothing; the others work
// as usual. The same text compiles once a dissector provides the field.
package coloring

import (
	"container/list"
	"strconv"
	"strings"
	"sync"

	"github.com/pkttap/pkttap/dfilter"
)

// Rule is one coloring rule: packets matching Filter are shown in the
// colours Fg (text) and Bg (background), "#rrggbb".
type Rule struct {
	Name   string `json:"name"`
	Filter string `json:"filter"`
	Fg     string `json:"fg"`
	Bg     string `json:"bg"`
}

// defaults are the rules of Wireshark 4's default colorfilters file, in
// its order. Wireshark writes colours as 16-bit components
// "[background][foreground]"; here they are 8-bit (each component / 257,
// rounded), foreground first. The name "Spanning Tree Topology  Change"
// has Wireshark's two spaces.
var defaults = []Rule{
	{"Bad TCP", "tcp.analysis.flags && !tcp.analysis.window_update && !tcp.analysis.keep_alive && !tcp.analysis.keep_alive_ack", "#f78787", "#12272e"},
	{"HSRP State Change", "hsrp.state != 8 && hsrp.state != 16", "#fffc9c", "#12272e"},
	{"Spanning Tree Topology  Change", "stp.type == 0x80", "#fffc9c", "#12272e"},
	{"OSPF State Change", "ospf.msg != 1", "#fffc9c", "#12272e"},
	{"ICMP errors", "icmp.type in { 3..5, 11 } || icmpv6.type in { 1..4 }", "#b7f774", "#12272e"},
	{"ARP", "arp", "#12272e", "#faf0d7"},
	{"ICMP", "icmp || icmpv6", "#12272e", "#fce0ff"},
	{"TCP RST", "tcp.flags.reset eq 1", "#fffc9c", "#a40000"},
	{"SCTP ABORT", "sctp.chunk_type eq ABORT", "#fffc9c", "#a40000"},
	{"TTL low or unexpected", "(ip.dst != 224.0.0.0/4 && ip.ttl < 5 && !pim && !ospf) || (ip.dst == 224.0.0.0/24 && ip.dst != 224.0.0.251 && ip.ttl != 1 && !(vrrp || carp))", "#ecf0eb", "#a40000"},
	{"Checksum Errors", `eth.fcs.status=="Bad" || ip.checksum.status=="Bad" || tcp.checksum.status=="Bad" || udp.checksum.status=="Bad" || sctp.checksum.status=="Bad" || mstp.checksum.status=="Bad" || cdp.checksum.status=="Bad" || edp.checksum.status=="Bad" || wlan.fcs.status=="Bad" || stt.checksum.status=="Bad"`, "#f78787", "#12272e"},
	{"SMB", "smb || nbss || nbns || netbios", "#12272e", "#feffd0"},
	{"HTTP", "http || tcp.port == 80 || http2", "#12272e", "#e4ffc7"},
	{"DCERPC", "dcerpc", "#12272e", "#c797ff"},
	{"Routing", "hsrp || eigrp || ospf || bgp || cdp || vrrp || carp || gvrp || igmp || ismp", "#12272e", "#fff3d5"},
	{"TCP SYN/FIN", "tcp.flags & 0x02 || tcp.flags.fin == 1", "#12272e", "#a0a0a0"},
	{"TCP", "tcp", "#12272e", "#e7e5ff"},
	{"UDP", "udp", "#12272e", "#daeeff"},
	{"Broadcast", "eth[0] & 1", "#babdb6", "#ffffff"},
	{"System Event", "systemd_journal || sysdig", "#2d6f9a", "#e6e6e6"},
}

// Defaults returns Wireshark's default coloring rules, in its order.
func Defaults() []Rule { return append([]Rule(nil), defaults...) }

// Compiled is one rule of a Set: its filter, or why it is unavailable.
type Compiled struct {
	Expr   string
	Filter *dfilter.Filter // nil when the rule is unavailable
	Err    error           // the compile error (a *dfilter.Error) when unavailable
}

// Set is a compiled list of coloring rules, in order. It is safe for
// concurrent use.
type Set struct {
	Rules []Compiled
	key   string
}

// MaxRules is the most rules a Set holds; MaxRuleLen the longest rule text.
const (
	MaxRules   = 64
	MaxRuleLen = 4096
)

// Compile compiles the rules' display filters, in order. A rule that does
// not compile is kept, unavailable, with its error.
func Compile(exprs []string) *Set {
	s := &Set{Rules: make([]Compiled, len(exprs)), key: Key(exprs)}
	for i, e := range exprs {
		f, err := dfilter.Compile(e)
		s.Rules[i] = Compiled{Expr: e, Filter: f, Err: err}
	}
	return s
}

// Key is the cache key of a list of rules: their texts, each after its
// length.
func Key(exprs []string) string {
	var b strings.Builder
	for _, e := range exprs {
		b.WriteString(strconv.Itoa(len(e)))
		b.WriteByte(':')
		b.WriteString(e)
	}
	return b.String()
}

// First returns the index of the first available rule for which match
// reports true, or -1 when none does. match is asked about rules in order
// and no further than the first that matches.
func (s *Set) First(match func(f *dfilter.Filter) bool) int {
	for i, r := range s.Rules {
		if r.Filter != nil && match(r.Filter) {
			return i
		}
	}
	return -1
}

// Match returns the index of the first available rule the packet matches,
// or -1.
func (s *Set) Match(p dfilter.Packet) int {
	return s.First(func(f *dfilter.Filter) bool { return f.Match(p) })
}

// Cache keeps the most recently used compiled rule sets, so that each set
// of rules a page sends is compiled once, not per request. It is safe for
// concurrent use.
type Cache struct {
	mu    sync.Mutex
	max   int
	order *list.List               // of *Set, most recently used first
	byKey map[string]*list.Element // Set.key -> its element
}

// NewCache returns a cache holding at most max sets.
func NewCache(max int) *Cache {
	return &Cache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

// Get returns the compiled set of exprs, compiling it on a miss (and
// forgetting the least recently used set when the cache is full).
func (c *Cache) Get(exprs []string) *Set {
	key := Key(exprs)
	c.mu.Lock()
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		c.mu.Unlock()
		return e.Value.(*Set)
	}
	c.mu.Unlock()
	s := Compile(exprs) // outside the lock: compiling may take a while
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		return e.Value.(*Set)
	}
	c.byKey[key] = c.order.PushFront(s)
	for c.order.Len() > c.max {
		old := c.order.Remove(c.order.Back()).(*Set)
		delete(c.byKey, old.key)
	}
	return s
}

// Len returns the number of sets cached.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
