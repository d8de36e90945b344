//go:build !unix

package web

import "time"

// processCPU is not measured on this system: ok is false.
func processCPU() (time.Duration, bool) { return 0, false }
