//go:build !linux && !darwin

package store

import (
	"errors"
	"os"
)

// canMap says whether fileMap maps files: not here (Windows and others
// read with pread).
const canMap = false

var errNoMap = errors.New("memory-mapped reads are not supported on this system")

// mapFile is not supported here.
func mapFile(*os.File, int64, int) ([]byte, error) { return nil, errNoMap }

// unmapFile is not supported here.
func unmapFile([]byte) error { return errNoMap }
