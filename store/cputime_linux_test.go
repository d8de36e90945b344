package store

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time the process has used (every thread), so
// a benchmark on a shared machine can compare two runs by the work they
// did rather than by the time the scheduler gave them.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
