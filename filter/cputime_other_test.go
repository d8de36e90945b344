//go:build !unix

package filter

import "time"

// processCPU is not measured here: the tests bound wall time only.
func processCPU() (time.Duration, bool) { return 0, false }
