package dfilter

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a token.
type tokKind uint8

const (
	tEOF      tokKind = iota
	tWord             // a field name or an unquoted value: tcp.port, 10.0.0.0/8, 00:11:22
	tString           // a quoted string; its text is the unescaped value
	tChar             // a character constant 'a'; its text is the character
	tLParen           // (
	tRParen           // )
	tLBrace           // {
	tRBrace           // }
	tLBracket         // [
	tRBracket         // ]
	tComma            // ,
	tRange            // ..
	tColon            // : inside a slice
	tMinus            // -
	tPlus             // +
	tStar             // *
	tSlash            // /
	tPercent          // %
	tBitAnd           // & or bitand
	tAnd              // && or and
	tOr               // || or or
	tNot              // ! or not
	tCmp              // a comparison; its text is the canonical operator
	tIn               // in
)

// token is one lexeme with its byte range in the expression.
type token struct {
	kind     tokKind
	text     string
	pos, end int
}

// cmpWords are the comparison operators written as words, with their
// canonical symbols.
var cmpWords = map[string]string{
	"eq": "==", "any_eq": "==", "ne": "!=", "all_ne": "!=", "all_eq": "===", "any_ne": "~=",
	"gt": ">", "lt": "<", "ge": ">=", "le": "<=", "contains": "contains", "matches": "matches",
}

// lexer splits an expression into tokens. Inside brackets it reads a
// slice's ranges: numbers, ':' and '-' are tokens of their own there.
type lexer struct {
	src     string
	pos     int
	bracket bool
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == ':' || c == '/' || c == '-'
}

// next returns the next token; it fails on a character that begins none.
func (l *lexer) next() token {
	for l.pos < len(l.src) && strings.IndexByte(" \t\r\n", l.src[l.pos]) >= 0 {
		l.pos++
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start, end: start}
	}
	tok := func(k tokKind, n int, text string) token {
		l.pos += n
		return token{kind: k, text: text, pos: start, end: l.pos}
	}
	s := l.src[l.pos:]
	c := s[0]
	if l.bracket {
		switch {
		case c == ':':
			return tok(tColon, 1, ":")
		case c == '-':
			return tok(tMinus, 1, "-")
		case c == ',':
			return tok(tComma, 1, ",")
		case c == ']':
			l.bracket = false
			return tok(tRBracket, 1, "]")
		case '0' <= c && c <= '9':
			n := 1
			for n < len(s) && ('0' <= s[n] && s[n] <= '9' || 'a' <= s[n] && s[n] <= 'f' || 'A' <= s[n] && s[n] <= 'F' || s[n] == 'x' || s[n] == 'X') {
				n++
			}
			return tok(tWord, n, s[:n])
		}
	}
	switch {
	case strings.HasPrefix(s, "==="):
		return tok(tCmp, 3, "===")
	case strings.HasPrefix(s, "!=="):
		return tok(tCmp, 3, "!==")
	case strings.HasPrefix(s, "=="):
		return tok(tCmp, 2, "==")
	case strings.HasPrefix(s, "!="):
		return tok(tCmp, 2, "!=")
	case strings.HasPrefix(s, "~="):
		return tok(tCmp, 2, "~=")
	case strings.HasPrefix(s, ">="):
		return tok(tCmp, 2, ">=")
	case strings.HasPrefix(s, "<="):
		return tok(tCmp, 2, "<=")
	case strings.HasPrefix(s, "&&"):
		return tok(tAnd, 2, "&&")
	case strings.HasPrefix(s, "||"):
		return tok(tOr, 2, "||")
	case strings.HasPrefix(s, ".."):
		return tok(tRange, 2, "..")
	}
	switch c {
	case '>':
		return tok(tCmp, 1, ">")
	case '<':
		return tok(tCmp, 1, "<")
	case '~':
		return tok(tCmp, 1, "matches")
	case '!':
		return tok(tNot, 1, "!")
	case '&':
		return tok(tBitAnd, 1, "&")
	case '(':
		return tok(tLParen, 1, "(")
	case ')':
		return tok(tRParen, 1, ")")
	case '{':
		return tok(tLBrace, 1, "{")
	case '}':
		return tok(tRBrace, 1, "}")
	case '[':
		l.bracket = true
		return tok(tLBracket, 1, "[")
	case ']':
		return tok(tRBracket, 1, "]")
	case ',':
		return tok(tComma, 1, ",")
	case '+':
		return tok(tPlus, 1, "+")
	case '-':
		return tok(tMinus, 1, "-")
	case '*':
		return tok(tStar, 1, "*")
	case '%':
		return tok(tPercent, 1, "%")
	case '"':
		return l.quoted()
	case '\'':
		return l.char()
	}
	if isWordByte(c) && c != '-' && c != '/' {
		n := 1
		for n < len(s) && isWordByte(s[n]) && !strings.HasPrefix(s[n:], "..") {
			n++
		}
		w := s[:n]
		switch w {
		case "and":
			return tok(tAnd, n, w)
		case "or":
			return tok(tOr, n, w)
		case "not":
			return tok(tNot, n, w)
		case "in":
			return tok(tIn, n, w)
		case "bitand", "bitwise_and":
			return tok(tBitAnd, n, w)
		}
		if op, ok := cmpWords[w]; ok {
			return tok(tCmp, n, op)
		}
		return tok(tWord, n, w)
	}
	if c == '/' {
		return tok(tSlash, 1, "/")
	}
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size <= 1 {
		fail(start, start+1, "invalid byte 0x%02x", c)
	}
	fail(start, start+size, "%q was unexpected in this context.", s[:size])
	panic("unreachable")
}

// quoted reads a string in double quotes with C-like escapes.
func (l *lexer) quoted() token {
	start := l.pos
	var b []byte
	i := l.pos + 1
	for {
		if i >= len(l.src) {
			fail(len(l.src), len(l.src)+1, "The final quote was missing from a quoted string.")
		}
		c := l.src[i]
		if c == '"' {
			l.pos = i + 1
			return token{kind: tString, text: string(b), pos: start, end: l.pos}
		}
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(l.src) {
			fail(len(l.src), len(l.src)+1, "The final quote was missing from a quoted string.")
		}
		e := l.src[i+1]
		i += 2
		switch e {
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case 'r':
			b = append(b, '\r')
		case 'a':
			b = append(b, '\a')
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'v':
			b = append(b, '\v')
		case 'x':
			n := 0
			for n < 2 && i+n < len(l.src) && isHex(l.src[i+n]) {
				n++
			}
			if n == 0 {
				fail(i-2, i, "\\x has no following hex digits")
			}
			v, _ := strconv.ParseUint(l.src[i:i+n], 16, 8)
			b = append(b, byte(v))
			i += n
		case '0', '1', '2', '3', '4', '5', '6', '7':
			n := 1
			for n < 3 && i-1+n < len(l.src) && '0' <= l.src[i-1+n] && l.src[i-1+n] <= '7' {
				n++
			}
			v, err := strconv.ParseUint(l.src[i-1:i-1+n], 8, 8)
			if err != nil {
				fail(i-2, i-1+n, "%s is not a valid octal escape", l.src[i-2:i-1+n])
			}
			b = append(b, byte(v))
			i += n - 1
		default:
			b = append(b, e) // \\, \", and any other character as itself
		}
	}
}

// char reads a character constant: 'a', '\n', '\x41'.
func (l *lexer) char() token {
	start := l.pos
	end := strings.IndexByte(l.src[start+1:], '\'')
	if end < 0 {
		fail(start, len(l.src), "The final quote was missing from a character constant.")
	}
	body := l.src[start+1 : start+1+end]
	if body == "\\" && start+2+end < len(l.src) && l.src[start+2+end] == '\'' {
		body, end = "\\'", end+1
	}
	l.pos = start + end + 2
	v, _, tail, err := strconv.UnquoteChar(body, '\'')
	if err != nil || tail != "" || v > 255 {
		fail(start, l.pos, "%s is not a valid character constant.", l.src[start:l.pos])
	}
	return token{kind: tChar, text: string([]byte{byte(v)}), pos: start, end: l.pos}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
