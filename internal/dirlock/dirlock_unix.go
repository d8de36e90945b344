//go:build unix

package dirlock

import (
	"os"

	"golang.org/x/sys/unix"
)

// errWouldBlock is lockFile's error when another process holds the lock.
var errWouldBlock = unix.EWOULDBLOCK

// lockFile takes an exclusive lock on f without waiting.
func lockFile(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			if err != nil {
				return os.NewSyscallError("flock", err)
			}
			return nil
		}
	}
}
