//go:build !linux && !darwin && !windows

package store

import (
	"errors"
	"fmt"
)

// freeSpace is not implemented on this system: the disk budget has no
// default there.
func freeSpace(dir string) (int64, error) {
	return 0, fmt.Errorf("free space of %s: %w", dir, errors.ErrUnsupported)
}
