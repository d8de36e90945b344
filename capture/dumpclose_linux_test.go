package capture_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pkttap/pkttap/capture"
)

// TestDumpCloseReportsCloseError makes the close of a dump's file fail
// after everything was written (its descriptor is closed underneath the
// Dump, found through /proc/self/fd; the tests of this package do not run
// in parallel, so no other file takes the number meanwhile): Close must
// report it. (Kills the mutant of Dump.Close that reports a close error
// only when the flush failed too.)
func TestDumpCloseReportsCloseError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.pcap")
	d, err := capture.ToFile(path).Open()
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == path {
			fd, _ = strconv.Atoi(e.Name())
		}
	}
	if fd < 0 {
		t.Fatalf("no descriptor of %s in /proc/self/fd", path)
	}
	if err := syscall.Close(fd); err != nil {
		t.Fatal(err)
	}
	err = d.Close()
	if err == nil || !strings.Contains(err.Error(), "capture: close "+path) {
		t.Errorf("Close with the file's descriptor gone = %v, want the close error", err)
	}
}
