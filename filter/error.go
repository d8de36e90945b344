package filter

import "fmt"

// Error is a filter expression that cannot be compiled: a syntax error, a
// value out of range, or a primitive the link type does not support.
type Error struct {
	Expr   string // the expression as given
	Column int    // 1-based byte column of the fault
	Msg    string // what is wrong, and what would be right
}

// Error returns "column N: msg".
func (e *Error) Error() string {
	return fmt.Sprintf("column %d: %s", e.Column, e.Msg)
}

// semError is the panic value the code generator raises; Compile turns it
// into an *Error.
type semError struct {
	pos int
	msg string
}

// fail aborts code generation with an error at byte offset pos.
func fail(pos int, format string, args ...any) {
	panic(semError{pos: pos, msg: fmt.Sprintf(format, args...)})
}
