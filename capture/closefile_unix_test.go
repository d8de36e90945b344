//go:build linux || darwin

package capture_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/pcapio"
)

// TestCloseWakesFileReader closes a file capture while its reader is
// blocked reading a named pipe that a writer keeps open without writing:
// closing the file wakes the read with an error, and because the capture
// was closed the reader must get ErrClosed, not that read error. (Kills
// the mutant of Capture.next that keeps ErrClosed for io.EOF only.)
func TestCloseWakesFileReader(t *testing.T) {
	pkts := ethernetPackets()
	data, err := os.ReadFile(writeFile(t, "t.pcap", pcapio.LinkTypeEthernet, pkts[:1]))
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	writer := make(chan *os.File, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // waits for the reader to open
		if err != nil {
			t.Error(err)
			writer <- nil
			return
		}
		if _, err := w.Write(data); err != nil {
			t.Error(err)
		}
		writer <- w // kept open: the reader then waits for more
	}()
	c, err := capture.FromFile(fifo).Open()
	if err != nil {
		t.Fatal(err)
	}
	w := <-writer
	if w == nil {
		c.Close()
		return
	}
	defer w.Close()
	if _, err := c.Next(); err != nil {
		t.Fatalf("first packet: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Next()
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Next returned %v with the pipe open and empty, want it to wait", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, capture.ErrClosed) {
			t.Errorf("Next blocked when Close was called returned %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake the reader within 5s")
	}
}
