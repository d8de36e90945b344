//go:build linux

package platform

import (
	"fmt"
	"os"
)

// ifDropCounter reads an interface's receive-drop counter from the
// network namespace the capture was opened in. The file is opened once, at
// Open, because /proc/thread-self/net belongs to the calling thread's
// namespace, which may not be the one Stats is later called from.
type ifDropCounter struct {
	name string
	f    *os.File
	base uint64
	buf  []byte
}

// newIfDropCounter returns a counter for the named interface, or nil when
// the kernel's table cannot be read (IfDropped then stays zero).
func newIfDropCounter(name string) *ifDropCounter {
	f, err := os.Open("/proc/thread-self/net/dev")
	if err != nil {
		return nil
	}
	c := &ifDropCounter{name: name, f: f, buf: make([]byte, 64<<10)}
	n, err := c.read()
	if err != nil {
		f.Close()
		return nil
	}
	c.base = n
	return c
}

// dropped returns the drops counted since the counter was created.
func (c *ifDropCounter) dropped() (uint64, error) {
	n, err := c.read()
	if err != nil {
		return 0, err
	}
	return n - c.base, nil
}

func (c *ifDropCounter) read() (uint64, error) {
	n, err := c.f.ReadAt(c.buf, 0)
	if n == 0 && err != nil {
		return 0, fmt.Errorf("read interface counters: %w", err)
	}
	drops, ok := parseProcNetDevDrops(c.buf[:n], c.name)
	if !ok {
		return 0, fmt.Errorf("interface %s not in the kernel's counters", c.name)
	}
	return drops, nil
}

func (c *ifDropCounter) close() { c.f.Close() }
