package filter

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The scanner's token shapes, as libpcap's flex scanner defines them. Each
// is anchored; the scanner takes the longest match at the current position
// and, on a tie, the rule listed first (keywords before names, numbers
// before names, and so on), exactly like flex.
var (
	reMAC   = longest(`^(?:[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5}|[0-9A-Fa-f]{1,2}(?:-[0-9A-Fa-f]{1,2}){5}|[0-9A-Fa-f]{1,2}(?:\.[0-9A-Fa-f]{1,2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}|[0-9A-Fa-f]{12})`)
	reNum   = longest(`^(?:0[xX][0-9A-Fa-f]+|[0-9]+)`)
	reHID   = longest(`^(?:0[xX][0-9A-Fa-f]+|[0-9]+)(?:\.(?:0[xX][0-9A-Fa-f]+|[0-9]+)){1,3}`)
	reBogus = longest(`^[0-9A-Fa-f]{1,2}:+(?:[0-9A-Fa-f]{1,2}:+)+`)
	reBSID  = longest(`^\\[^ !()\n\t]+`)
	reAID   = longest(`^\$[0-9A-Fa-f]{1,2}`)
)

func longest(expr string) *regexp.Regexp {
	re := regexp.MustCompile(expr)
	re.Longest()
	return re
}

// lex splits an expression into tokens. It never fails: malformed input
// becomes a tokError (or an address token carrying an error) that the
// parser reports with its column.
func lex(s string) []token {
	var toks []token
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
		if i >= len(s) {
			toks = append(toks, token{kind: tokEOF, pos: i, end: i})
			return toks
		}
		t, n := scanOne(s[i:])
		t.pos, t.end = i, i+n
		toks = append(toks, t)
		i += n
	}
}

func matchLen(re *regexp.Regexp, s string) int {
	if loc := re.FindStringIndex(s); loc != nil {
		return loc[1]
	}
	return 0
}

// v6Len returns the length of the longest prefix of s that is an IPv6
// address in one of the textual forms libpcap's scanner accepts.
func v6Len(s string) int {
	run := runLen(s, isV6Char)
	if strings.IndexByte(s[:run], ':') < 0 {
		return 0 // no prefix of the run has a colon (the common case: a name)
	}
	for l := run; l >= 2; l-- {
		c := s[:l]
		if !strings.Contains(c, ":") {
			return 0
		}
		if a, err := netip.ParseAddr(c); err == nil && a.Is6() && a.Zone() == "" {
			return l
		}
	}
	return 0
}

var twoCharOps = []string{">=", "<=", "!=", "==", "<<", ">>", "&&", "||"}

// opKinds are the operators, in words or symbols, that have a token kind of
// their own; every other operator is a tokOp.
var opKinds = map[string]tokKind{
	"and": tokAnd, "&&": tokAnd,
	"or": tokOr, "||": tokOr,
	"not": tokNot, "!": tokNot,
	">=": tokGEQ, "<=": tokLEQ, "!=": tokNEQ,
	"<<": tokLSH, ">>": tokRSH,
}

// scanOne scans the token at the start of s (s is not empty and does not
// start with white space) and returns it with its length in s.
func scanOne(s string) (token, int) {
	lens := candidates(s)
	best := max(lens.op, lens.aid, lens.mac, lens.num, lens.hid, lens.v6, lens.bogus, lens.id, lens.bsid)
	if best == 0 {
		// Name the character as typed: a whole UTF-8 sequence, not its
		// first byte.
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n <= 1 {
			return token{kind: tokError, text: s[:1], err: fmt.Sprintf("unexpected byte %#02x (not UTF-8)", s[0])}, 1
		}
		return token{kind: tokError, text: s[:n], err: "unexpected character '" + s[:n] + "'"}, n
	}
	text := s[:best]
	// Keywords and named constants are exact words; they win ties with names.
	if kw, ok := keywords[text]; ok && best == lens.id {
		return token{kind: tokKeyword, text: kw}, best
	}
	if k, ok := opKinds[text]; ok {
		return token{kind: k, text: text}, best
	}
	switch best {
	case lens.op:
		if text == "==" {
			return token{kind: tokOp, text: "="}, best
		}
		return token{kind: tokOp, text: text}, best
	case lens.aid:
		return token{kind: tokAID, text: text}, best
	case lens.mac:
		return token{kind: tokEID, text: text}, best
	case lens.num:
		return scanNumber(text), best
	case lens.hid:
		return token{kind: tokHID, text: text}, best
	case lens.v6:
		return token{kind: tokHID6, text: text}, best
	case lens.bogus:
		return token{kind: tokEID, text: text, err: "bogus ethernet address " + text}, best
	}
	if n, ok := namedNumbers[text]; ok && best == lens.id {
		return token{kind: tokNum, text: text, num: n}, best
	}
	if best == lens.id {
		return token{kind: tokID, text: text}, best
	}
	return token{kind: tokID, text: text[1:]}, best // \name
}

// tokenLens are the lengths of the token each scanner rule matches at
// the start of a string (0: none), in flex's priority order.
type tokenLens struct{ op, aid, mac, num, hid, v6, bogus, id, bsid int }

// candidates returns what each rule matches at the start of s. Only a
// hex digit (or ':') can start a number or an address.
func candidates(s string) tokenLens {
	lens := tokenLens{id: idLen(s)}
	// The regular expressions run only where they can match: a cheap
	// look at the first bytes rules most of them out for names and
	// keywords (the scanner's time went mostly to them).
	switch c := s[0]; {
	case isHex(c) || c == ':':
		if runLen(s, isMACChar) >= minMACLen {
			lens.mac = matchLen(reMAC, s)
		}
		if c >= '0' && c <= '9' {
			lens.num, lens.hid = matchLen(reNum, s), matchLen(reHID, s)
		}
		lens.v6 = v6Len(s)
		if len(s) > 2 && (s[1] == ':' || s[2] == ':') {
			lens.bogus = matchLen(reBogus, s)
		}
	case c == '$':
		lens.aid = matchLen(reAID, s)
	case c == '\\':
		lens.bsid = matchLen(reBSID, s)
	}
	for _, op := range twoCharOps {
		if strings.HasPrefix(s, op) {
			lens.op = 2
			break
		}
	}
	if lens.op == 0 && strings.IndexByte("+-*/%:[]!<>()&|^=", s[0]) >= 0 {
		lens.op = 1
	}
	return lens
}

// scanNumber converts a decimal, 0x-hex or 0-octal number as libpcap does.
func scanNumber(text string) token {
	t := token{kind: tokNum, text: text}
	var (
		v   uint64
		err error
	)
	switch {
	case strings.HasPrefix(text, "0x") || strings.HasPrefix(text, "0X"):
		v, err = strconv.ParseUint(text[2:], 16, 32)
	case len(text) > 1 && text[0] == '0':
		if strings.ContainsAny(text, "89") {
			t.kind, t.err = tokError, "number "+text+" contains non-octal digit"
			return t
		}
		v, err = strconv.ParseUint(text[1:], 8, 32)
	default:
		v, err = strconv.ParseUint(text, 10, 32)
	}
	if err != nil {
		t.kind, t.err = tokError, "number "+text+" overflows 32 bits"
		return t
	}
	t.num = uint32(v)
	return t
}

// minMACLen is the shortest text reMAC matches ("0:1:2:3:4:5").
const minMACLen = 11

// runLen returns the length of the prefix of s whose bytes all satisfy in.
func runLen(s string, in func(byte) bool) int {
	n := 0
	for n < len(s) && in(s[n]) {
		n++
	}
	return n
}

// isMACChar reports whether c may be part of what reMAC matches.
func isMACChar(c byte) bool { return isHex(c) || c == ':' || c == '-' || c == '.' }

// isV6Char reports whether c may be part of an IPv6 address as the
// scanner's [0-9A-Fa-f:.]+ matches it.
func isV6Char(c byte) bool { return isHex(c) || c == ':' || c == '.' }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// idLen is the length of the name at the start of s, as the scanner's
// [A-Za-z0-9]([-_.A-Za-z0-9]*[.A-Za-z0-9])? matches it (0 for none).
func idLen(s string) int {
	if len(s) == 0 || !isAlnum(s[0]) {
		return 0
	}
	n := 1
	for n < len(s) && (isAlnum(s[n]) || s[n] == '-' || s[n] == '_' || s[n] == '.') {
		n++
	}
	for n > 1 && (s[n-1] == '-' || s[n-1] == '_') {
		n--
	}
	return n
}
