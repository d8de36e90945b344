//go:build unix

package platform

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pkttap/pkttap/pcapio"
)

// bpfReader is the read side of a BSD BPF device, driven by its file
// descriptor alone: waiting for a buffer (poll(2), which has no limit on
// descriptor numbers, unlike select's FD_SETSIZE of 1024), reading it,
// walking its records, the counters, and Close waking a blocked reader.
// It is platform-neutral (for Unix systems) so that tests run it on any
// descriptor that returns BPF buffers one read at a time, such as a
// datagram socket; on macOS it reads a /dev/bpf device.
//
// The descriptor is put in non-blocking mode, and each wait is bounded by
// the read timeout: when poll says nothing, the read is tried all the same,
// as libpcap advises for BPF devices whose poll does not report a timeout
// that expired. A non-blocking read of a BPF device hands over whatever
// the store buffer holds, so a packet waits at most about one timeout.
type bpfReader struct {
	mu     sync.Mutex // held by NextZeroCopy; Close takes it before closing the descriptor
	closed atomic.Bool

	fd      int
	wakeR   int // read end of the pipe Close writes to
	wakeW   int
	timeout int // poll's timeout in milliseconds
	buf     []byte
	recs    bpfBuffer
	lt      pcapio.LinkType
	snaplen int
	ifindex int
	ifname  string
	// readStats reads the device's counters (BIOCGSTATS on macOS).
	readStats func(fd int) (Stats, error)

	statsMu  sync.Mutex
	final    Stats
	isClosed bool

	openWarnings
}

var _ Source = (*bpfReader)(nil)

// bpfReaderConfig describes the descriptor a bpfReader reads.
type bpfReaderConfig struct {
	fd        int             // the device, owned by the reader from now on
	bufSize   int             // the device's buffer size: every read asks for this many bytes
	timeout   time.Duration   // the longest wait before a read is tried (rounded up to ms)
	lt        pcapio.LinkType // the link type of every packet
	snaplen   int             // packets are cut to this many bytes
	ifindex   int             // Packet.InterfaceIndex
	ifname    string          // for error messages
	readStats func(fd int) (Stats, error)
}

// newBPFReader takes over cfg.fd: it puts it in non-blocking mode and
// creates the pipe Close wakes a reader with. On error the caller still
// owns the descriptor.
func newBPFReader(cfg bpfReaderConfig) (*bpfReader, error) {
	r := &bpfReader{
		fd: cfg.fd, wakeR: -1, wakeW: -1,
		timeout: int((cfg.timeout + time.Millisecond - 1) / time.Millisecond),
		buf:     make([]byte, cfg.bufSize),
		lt:      cfg.lt, snaplen: cfg.snaplen, ifindex: cfg.ifindex, ifname: cfg.ifname,
		readStats: cfg.readStats,
	}
	if r.timeout <= 0 {
		r.timeout = -1 // wait without a bound
	}
	if err := unix.SetNonblock(r.fd, true); err != nil {
		return nil, &PlatformError{Op: "open", Interface: r.ifname, Err: fmt.Errorf("set non-blocking mode: %w", err)}
	}
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return nil, &PlatformError{Op: "open", Interface: r.ifname, Err: fmt.Errorf("pipe: %w", err)}
	}
	unix.CloseOnExec(p[0])
	unix.CloseOnExec(p[1])
	r.wakeR, r.wakeW = p[0], p[1]
	return r, nil
}

// LinkType returns the link type of every packet.
func (r *bpfReader) LinkType() pcapio.LinkType { return r.lt }

// NextZeroCopy returns the next record of the current read buffer, reading
// (and waiting for) a new buffer when it is exhausted. The buffer is Go
// memory that only the reader's next call overwrites, so Close may come at
// any time.
func (r *bpfReader) NextZeroCopy() (pcapio.Packet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nextRecord()
}

// NextInto returns the next record with its data copied to buf[:0].
func (r *bpfReader) NextInto(buf []byte) (pcapio.Packet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.nextRecord()
	if err == nil {
		p.Data = append(buf[:0], p.Data...)
	}
	return p, err
}

// nextRecord returns the next record, with mu held.
func (r *bpfReader) nextRecord() (p pcapio.Packet, err error) {
	for {
		if r.closed.Load() {
			return p, ErrClosed
		}
		rec, ok, err := r.recs.next()
		if err != nil {
			return p, &PlatformError{Op: "read", Interface: r.ifname, Err: err}
		}
		if ok {
			data := rec.data
			if len(data) > r.snaplen {
				data = data[:r.snaplen]
			}
			p.Timestamp = time.Unix(int64(rec.sec), int64(rec.usec)*1000)
			p.Data = data
			p.Length = rec.datalen
			p.LinkType = r.lt
			p.InterfaceIndex = r.ifindex
			return p, nil
		}
		if err := r.fill(); err != nil {
			return pcapio.Packet{}, err
		}
	}
}

// fill waits until the device or the wake-up pipe is readable, or the
// timeout passes, and reads the next buffer of records.
func (r *bpfReader) fill() error {
	fds := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}, {Fd: int32(r.wakeR), Events: unix.POLLIN}}
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		_, err := unix.Poll(fds, r.timeout)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return &PlatformError{Op: "poll", Interface: r.ifname, Err: err}
		}
		if fds[1].Revents != 0 || r.closed.Load() {
			return ErrClosed
		}
		if fds[0].Revents&unix.POLLNVAL != 0 {
			return &PlatformError{Op: "poll", Interface: r.ifname, Err: errors.New("the descriptor is not open")}
		}
		n, err := unix.Read(r.fd, r.buf)
		switch {
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
			continue
		case errors.Is(err, unix.ENXIO):
			return &PlatformError{Op: "read", Interface: r.ifname, Err: fmt.Errorf("the interface went away: %w", err)}
		case err != nil:
			return &PlatformError{Op: "read", Interface: r.ifname, Err: err}
		case n == 0:
			// End of file: a BPF device gives none while its interface
			// exists; a detached device reads 0 bytes forever.
			return &PlatformError{Op: "read", Interface: r.ifname, Err: errors.New("the device returned end of file (did the interface go away?)")}
		}
		r.recs.reset(r.buf, n)
		return nil
	}
}

// Stats returns the device's counters; after Close, those read at Close.
func (r *bpfReader) Stats() (Stats, error) {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	if r.isClosed {
		return r.final, nil
	}
	st, err := r.readStats(r.fd)
	if err != nil {
		return Stats{}, &PlatformError{Op: "stats", Interface: r.ifname, Err: err}
	}
	return st, nil
}

// Close wakes a blocked reader, waits for it to leave, keeps the final
// counters and closes the device.
func (r *bpfReader) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		return nil
	}
	_, werr := unix.Write(r.wakeW, []byte{1})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	if st, err := r.readStats(r.fd); err == nil {
		r.final = st
	}
	r.isClosed = true
	err := unix.Close(r.fd)
	unix.Close(r.wakeR)
	unix.Close(r.wakeW)
	if err == nil && werr != nil {
		err = fmt.Errorf("wake reader: %w", werr)
	}
	if err != nil {
		return &PlatformError{Op: "close", Interface: r.ifname, Err: err}
	}
	return nil
}

// release closes the pipe of a reader that never took over its device
// (an open that failed after newBPFReader).
func (r *bpfReader) release() {
	unix.Close(r.wakeR)
	unix.Close(r.wakeW)
}
