package capture

import "errors"

// ErrClosed is returned by Next, NextInto and NextZeroCopy once the capture
// is closed, including to a call that was blocked when Close was called.
var ErrClosed = errors.New("capture: the capture is closed")
