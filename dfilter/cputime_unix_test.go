//go:build unix

package dfilter

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) the test process has
// used, garbage collection included: on a shared machine, packets per
// CPU-second is the one-core rate whatever the load.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
