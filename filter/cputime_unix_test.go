//go:build unix

package filter

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) the test process has
// used, which a loaded machine does not inflate as it does wall time.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
