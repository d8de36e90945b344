//go:build !linux

package dissect

import "time"

// threadCPU is not available here: the benchmarks report wall-clock rates only.
func threadCPU() (time.Duration, bool) { return 0, false }

func lockThread()   {}
func unlockThread() {}
