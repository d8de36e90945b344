package web

import (
	"io"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// diskReadTime reads path once with O_DIRECT, bypassing the page cache, to
// measure what the disk itself delivers: the anchor for "index at disk-read
// speed". ok is false when the file system refuses O_DIRECT.
func diskReadTime(path string) (d time.Duration, ok bool) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	const align, size = 4096, 1 << 20
	raw := make([]byte, size+align)
	off := int(uintptr(unsafe.Pointer(&raw[0])) & (align - 1))
	buf := raw[align-off : align-off+size]
	if off == 0 {
		buf = raw[:size]
	}
	start := time.Now()
	for {
		_, err := f.Read(buf)
		if err == io.EOF {
			return time.Since(start), true
		}
		if err != nil {
			return 0, false
		}
	}
}
