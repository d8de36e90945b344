package store

import (
	"context"
	"strings"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// Language is the language a filter expression is written in.
type Language string

const (
	// Display is Wireshark's display-filter language (package dfilter):
	// "tcp.port == 443 && http".
	Display Language = "display"
	// BPF is tcpdump's filter language (package filter): "tcp port 443".
	BPF Language = "bpf"
)

// ChooseLanguage decides which language expr is written in, as a user
// who types either into one filter bar expects: a display filter when it
// compiles as one, else BPF when bpf (which compiles expr as BPF and
// returns the error) accepts it. Expressions valid in both mostly name a
// protocol ("tcp", "arp", "not ip"), which both languages take to mean
// the same packets, and are display filters; except that one with a
// bracket ("tcp[13] & 2 != 0", "ip[8] < 64") is BPF, since a tcpdump user
// wrote it (as a display filter it would compare bytes, not numbers).
// When neither compiles, the error is that of the language expr looks
// like (see looksLikeDisplay). It returns the display filter when the
// language is Display.
func ChooseLanguage(expr string, bpf func() error) (Language, *dfilter.Filter, error) {
	df, derr := dfilter.Compile(expr)
	if derr == nil && !strings.Contains(expr, "[") {
		return Display, df, nil
	}
	berr := bpf()
	switch {
	case berr == nil:
		return BPF, nil, nil
	case derr == nil:
		return Display, df, nil
	case looksLikeDisplay(expr):
		return Display, nil, derr
	default:
		return BPF, nil, berr
	}
}

// bpfOnly are the words of tcpdump's language that Wireshark's does not
// have (as fields or operators).
var bpfOnly = map[string]bool{
	"port": true, "portrange": true, "host": true, "net": true, "src": true, "dst": true,
	"ether": true, "proto": true, "protochain": true, "less": true, "greater": true,
	"broadcast": true, "multicast": true, "gateway": true, "mask": true,
	"inbound": true, "outbound": true, "ifindex": true, "ip6": true, "len": true,
	"tcpflags": true, "icmptype": true, "icmpcode": true,
}

// displayOnly are the words of Wireshark's language that tcpdump's does
// not have.
var displayOnly = map[string]bool{
	"contains": true, "matches": true, "eq": true, "ne": true, "gt": true, "lt": true,
	"ge": true, "le": true, "in": true, "all_eq": true, "any_ne": true,
}

// looksLikeDisplay reports whether an expression that compiles in neither
// language reads as a display filter: it names a field of a known
// protocol ("tcp.prot"), uses a word or operator only Wireshark has
// (contains, matches, ~, ===, a quoted string, a set), or has == && ||
// and none of tcpdump's own words (port, host, net, src, dst, ...).
// Otherwise it reads as tcpdump's, the language pkttap-web always took.
func looksLikeDisplay(expr string) bool {
	if strings.ContainsAny(expr, "\"~{") || strings.Contains(expr, "===") || strings.Contains(expr, "!==") {
		return true
	}
	words := strings.FieldsFunc(expr, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-')
	})
	bpfWord := false
	for _, w := range words {
		if displayOnly[w] {
			return true
		}
		if proto, _, dotted := strings.Cut(w, "."); dotted {
			if f, ok := dissect.LookupField(proto); ok && f.IsProtocol() {
				return true
			}
		}
		bpfWord = bpfWord || bpfOnly[w]
	}
	return !bpfWord && (strings.Contains(expr, "==") || strings.Contains(expr, "&&") || strings.Contains(expr, "||"))
}

// matcher is what a filter job runs on every packet: a BPF program or a
// display filter. Implementations are safe for concurrent use, as the
// scan of a turn runs on several goroutines.
type matcher interface {
	// Match reports whether the packet at 0-based index i, with link type
	// lt, captured bytes data and on-wire length wireLen, passes.
	Match(i int, lt pcapio.LinkType, data []byte, wireLen int) bool
	// Expr returns the expression.
	Expr() string
	// Language returns the expression's language.
	Language() Language
	// Bytes returns the memory the compiled filter holds.
	Bytes() int
}

// bpfMatcher runs a tcpdump expression, compiled once per link type.
type bpfMatcher struct{ m *filter.Matcher }

func (b bpfMatcher) Match(_ int, lt pcapio.LinkType, data []byte, wireLen int) bool {
	return b.m.Match(lt, data, wireLen)
}
func (b bpfMatcher) Expr() string       { return b.m.Expr() }
func (b bpfMatcher) Language() Language { return BPF }
func (b bpfMatcher) Bytes() int         { return b.m.Instructions() * vmBytesPerInsn }

// displayMatcher runs a display filter. dfilter.Filter keeps a pool of
// evaluation states, so goroutines scanning at once each get their own.
type displayMatcher struct {
	f *dfilter.Filter
	s *Store // whose stream records the filter reads; nil when it needs none
	r *Store // whose reassembled datagrams the packets have
}

func (d displayMatcher) Match(i int, lt pcapio.LinkType, data []byte, wireLen int) bool {
	return d.f.Match(dfilter.Packet{LinkType: lt, Data: data, Length: wireLen, Number: i + 1, Stream: d.s.streamFor(i), Reassembled: d.r.reassembledFor(i)})
}
func (d displayMatcher) Expr() string       { return d.f.String() }
func (d displayMatcher) Language() Language { return Display }

// Bytes counts a display filter as a BPF program of one instruction per
// byte of its expression (its closures and pooled states are of that
// order).
func (d displayMatcher) Bytes() int { return len(d.f.String()) * vmBytesPerInsn }

// compileFilter returns the matcher for expr on s's packets, in the
// language ChooseLanguage decides: a display filter, or a BPF matcher
// checked for s's first link type (in the compile slot the caller holds)
// whose other link types compile in the pool's slots while ctx lasts. A
// bad expression fails with a *dfilter.Error or a *filter.Error.
func (s *Store) compileFilter(ctx context.Context, expr string) (matcher, error) {
	bm := s.newMatcher(ctx, expr)
	lang, df, err := ChooseLanguage(expr, func() error { return bm.Check(s.FilterOptions().LinkType) })
	switch {
	case err != nil:
		return nil, err
	case lang == Display:
		return displayMatcher{f: df, s: s.ifStreams(df), r: s}, nil
	default:
		return bpfMatcher{bm}, nil
	}
}
