// Tests of how capture closes its files, through the descriptors
// /proc/self/fd lists.

package capture_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/pcapio"
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
	fds := openFDs(t, path)
	if len(fds) != 1 {
		t.Fatalf("descriptors of %s in /proc/self/fd: %v, want one", path, fds)
	}
	if err := syscall.Close(fds[0]); err != nil {
		t.Fatal(err)
	}
	err = d.Close()
	if err == nil || !strings.Contains(err.Error(), "capture: close "+path) {
		t.Errorf("Close with the file's descriptor gone = %v, want the close error", err)
	}
}

// openFDs returns the descriptors of the process open on path.
func openFDs(t *testing.T, path string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []int
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == path {
			fd, _ := strconv.Atoi(e.Name())
			fds = append(fds, fd)
		}
	}
	return fds
}

// TestCloseClosesTheFile checks that closing a file capture closes its
// file, whatever became of the reading. (Kills the mutant of newFileSource
// that keeps the file to close for standard input only.)
func TestCloseClosesTheFile(t *testing.T) {
	path := writeFile(t, "t.pcap", pcapio.LinkTypeEthernet, ethernetPackets())
	c, err := capture.FromFile(path).Open()
	if err != nil {
		t.Fatal(err)
	}
	if fds := openFDs(t, path); len(fds) != 1 {
		t.Fatalf("an open capture of %s has descriptors %v, want one", path, fds)
	}
	if _, err := c.Next(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if fds := openFDs(t, path); len(fds) != 0 {
		t.Errorf("after Close %s is still open as descriptors %v", path, fds)
	}
}
