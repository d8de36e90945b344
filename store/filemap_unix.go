//go:build linux || darwin

package store

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// canMap says whether fileMap maps files: on 64-bit systems only, where
// address space is plentiful (a 32-bit one reads with pread).
const canMap = unsafe.Sizeof(uintptr(0)) == 8

// mapFile maps length bytes of f from off (a multiple of the page size)
// read-only and shared, so that bytes written to f later show through.
func mapFile(f *os.File, off int64, length int) ([]byte, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	var b []byte
	var merr error
	if err := rc.Control(func(fd uintptr) {
		b, merr = unix.Mmap(int(fd), off, length, unix.PROT_READ, unix.MAP_SHARED)
	}); err != nil {
		return nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	if merr != nil {
		return nil, fmt.Errorf("map %s at %d: %w", f.Name(), off, os.NewSyscallError("mmap", merr))
	}
	return b, nil
}

// unmapFile unmaps a mapping made by mapFile.
func unmapFile(b []byte) error {
	if err := unix.Munmap(b); err != nil {
		return os.NewSyscallError("munmap", err)
	}
	return nil
}
