package dfilter

import (
	"fmt"
	"strings"
)

// Error is an expression that cannot be compiled: what is wrong and
// where, as tshark reports it.
type Error struct {
	Expr   string // the expression as given
	Column int    // 1-based byte column of the fault
	Len    int    // how many bytes the fault spans (at least 1)
	Msg    string // what is wrong
}

// Error returns "column N: msg".
func (e *Error) Error() string {
	return fmt.Sprintf("column %d: %s", e.Column, e.Msg)
}

// Caret returns the expression and, under it, a line marking the fault
// ("^~~~"), as tshark prints them.
func (e *Error) Caret() string {
	n := e.Len
	if n < 1 {
		n = 1
	}
	col := e.Column - 1
	if col < 0 {
		col = 0
	}
	return e.Expr + "\n" + strings.Repeat(" ", col) + "^" + strings.Repeat("~", n-1)
}

// failure is the panic value the parser and the checker raise; Compile
// turns it into an *Error.
type failure struct {
	pos, end int
	msg      string
}

// fail aborts compilation with an error spanning [pos, end).
func fail(pos, end int, format string, args ...any) {
	panic(failure{pos: pos, end: end, msg: fmt.Sprintf(format, args...)})
}
