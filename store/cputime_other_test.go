//go:build !linux

package store

import "time"

// processCPU is not available here: the benchmarks report wall-clock times only.
func processCPU() (time.Duration, bool) { return 0, false }
