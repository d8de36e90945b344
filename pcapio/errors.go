package pcapio

import "fmt"

// FormatError reports malformed capture data: a bad magic number, a block or
// record whose lengths do not add up, a cut-off file. Offset is the byte
// offset in the stream of the header, block or field at fault.
//
// When the input simply ends in the middle of a header, record or block,
// Err is io.ErrUnexpectedEOF, so errors.Is(err, io.ErrUnexpectedEOF) tells a
// truncated capture from a corrupt one.
type FormatError struct {
	// Offset is the byte offset in the stream where the fault was found.
	Offset int64
	// Msg says what is wrong.
	Msg string
	// Err is the underlying cause, if any (io.ErrUnexpectedEOF for a
	// truncated input).
	Err error
}

// Error returns "pcapio: offset N: msg".
func (e *FormatError) Error() string {
	return fmt.Sprintf("pcapio: offset %d: %s", e.Offset, e.Msg)
}

// Unwrap returns the underlying cause.
func (e *FormatError) Unwrap() error { return e.Err }

func formatErrorf(off int64, format string, args ...any) *FormatError {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}
