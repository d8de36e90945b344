//go:build linux || darwin

package store

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// freeSpace returns the bytes an unprivileged user may still write on the
// file system that holds dir.
func freeSpace(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return int64(uint64(st.Bavail) * uint64(st.Bsize)), nil
}
