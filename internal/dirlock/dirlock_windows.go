package dirlock

import (
	"os"

	"golang.org/x/sys/windows"
)

// errWouldBlock is lockFile's error when another process holds the lock.
var errWouldBlock = windows.ERROR_LOCK_VIOLATION

// lockFile takes an exclusive lock on f without waiting.
func lockFile(f *os.File) error {
	ol := new(windows.Overlapped)
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if err != nil {
		return os.NewSyscallError("LockFileEx", err)
	}
	return nil
}
