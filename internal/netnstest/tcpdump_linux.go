//go:build linux

package netnstest

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// Tcpdump starts tcpdump on side B of the pair (the "remote host" of the
// remote-capture tests), writing the packets expr matches to a file, as a
// reference for what a capture through a server there should see. It
// returns a function that waits (a few seconds at most) for n packets in
// the file, stops tcpdump and returns the file.
func (p *Pair) Tcpdump(t testing.TB, expr string) func(n int) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "local.pcap")
	cmd := exec.Command("ip", "netns", "exec", p.NSB, "tcpdump", "--immediate-mode", "-U", "-p", "-i", p.IfB, "-w", file, expr)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 4096)
	var got []byte
	for !bytes.Contains(got, []byte("listening on")) {
		n, err := stderr.Read(buf)
		if err != nil {
			t.Fatalf("local tcpdump: %v: %s", err, got)
		}
		got = append(got, buf[:n]...)
	}
	go io.Copy(io.Discard, stderr)
	return func(n int) string {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if CountPackets(file) >= n {
				break
			}
		}
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		return file
	}
}

// CountPackets counts the whole packets in a capture file being written.
func CountPackets(file string) int {
	f, err := os.Open(file)
	if err != nil {
		return 0
	}
	defer f.Close()
	r, err := pcapio.NewReader(f)
	if err != nil {
		return 0
	}
	n := 0
	for ; ; n++ {
		if _, err := r.NextZeroCopy(); err != nil {
			return n
		}
	}
}
