//go:build unix

package capture_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user + system) the process has used, which
// on a busy machine measures a benchmark's own work better than the wall
// clock does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
