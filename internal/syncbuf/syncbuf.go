// Package syncbuf provides Buffer, a bytes.Buffer that a test can read
// while a server goroutine or a child process writes to it.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is an io.Writer whose content can be read at any time, from any
// goroutine. The zero Buffer is empty and ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what has been written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
