//go:build !linux

package web

import "time"

// diskReadTime is not measurable without O_DIRECT: ok is false.
func diskReadTime(path string) (time.Duration, bool) { return 0, false }
