//go:build darwin

package platform

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pkttap/pkttap/pcapio"
)

// fdSetSize is the number of descriptors a unix.FdSet holds.
const fdSetSize = int(unsafe.Sizeof(unix.FdSet{})) * 8

// bpfSource reads packets from a macOS /dev/bpf device.
type bpfSource struct {
	mu     sync.Mutex // held by NextZeroCopy; Close takes it before closing the device
	closed atomic.Bool

	fd       int
	wakeR    int // read end of the pipe Close writes to
	wakeW    int
	buf      []byte
	recs     bpfBuffer
	lt       pcapio.LinkType
	snaplen  int
	ifindex  int
	ifname   string
	statsMu  sync.Mutex
	final    Stats
	isClosed bool
}

var _ Source = (*bpfSource)(nil)

func open(cfg Config) (src Source, err error) {
	name := cfg.Interface
	if name == "" {
		return nil, &PlatformError{Op: "open", Err: errors.New("no interface given (list them with Interfaces)")}
	}
	s := &bpfSource{fd: -1, wakeR: -1, wakeW: -1, ifname: name, snaplen: cfg.snaplen()}
	defer func() {
		if err != nil {
			s.release()
		}
	}()
	if ifi, err := net.InterfaceByName(name); err == nil {
		s.ifindex = ifi.Index
	}
	if s.fd, err = openBPFDevice(name); err != nil {
		return nil, err
	}
	size, err := bindBPF(s.fd, name)
	if err != nil {
		return nil, err
	}
	s.buf = make([]byte, size)
	for _, opt := range []struct {
		req  uint
		what string
		on   bool
	}{
		{unix.BIOCIMMEDIATE, "BIOCIMMEDIATE", true},
		{unix.BIOCSHDRCMPLT, "BIOCSHDRCMPLT", true},
	} {
		if err = unix.IoctlSetPointerInt(s.fd, opt.req, 1); err != nil {
			return nil, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("ioctl %s: %w", opt.what, err)}
		}
	}
	if cfg.Promiscuous {
		if err = unix.IoctlSetInt(s.fd, unix.BIOCPROMISC, 0); err != nil {
			return nil, &PlatformError{Op: "set promiscuous mode", Interface: name, Err: fmt.Errorf("ioctl BIOCPROMISC: %w", err)}
		}
	}
	dlt, err := unix.IoctlGetInt(s.fd, unix.BIOCGDLT)
	if err != nil {
		return nil, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("ioctl BIOCGDLT: %w", err)}
	}
	s.lt = pcapio.LinkTypeFromDLT(uint32(dlt))
	// BIOCSETF also drops whatever was buffered before it, so nothing
	// captured before the filter can be read.
	if err = setBPFFilter(s.fd, name, s.lt, cfg.FilterFor, s.snaplen); err != nil {
		return nil, err
	}
	var p [2]int
	if err = unix.Pipe(p[:]); err != nil {
		return nil, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("pipe: %w", err)}
	}
	s.wakeR, s.wakeW = p[0], p[1]
	unix.CloseOnExec(p[0])
	unix.CloseOnExec(p[1])
	if max(s.fd, s.wakeR) >= fdSetSize {
		return nil, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("file descriptor %d is beyond select's limit of %d (close some files)", max(s.fd, s.wakeR), fdSetSize)}
	}
	return s, nil
}

// release closes whatever a failed open managed to set up.
func (s *bpfSource) release() {
	for _, fd := range []int{s.fd, s.wakeR, s.wakeW} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// LinkType returns the link type of every packet (BIOCGDLT).
func (s *bpfSource) LinkType() pcapio.LinkType { return s.lt }

// NextZeroCopy returns the next record of the current read buffer, reading
// (and waiting for) a new buffer when it is exhausted. The buffer is Go
// memory that only the reader's next call overwrites, so Close may come at
// any time.
func (s *bpfSource) NextZeroCopy() (pcapio.Packet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextRecord()
}

// NextInto returns the next record with its data copied to buf[:0].
func (s *bpfSource) NextInto(buf []byte) (pcapio.Packet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.nextRecord()
	if err == nil {
		p.Data = append(buf[:0], p.Data...)
	}
	return p, err
}

// nextRecord returns the next record, with mu held.
func (s *bpfSource) nextRecord() (p pcapio.Packet, err error) {
	for {
		if s.closed.Load() {
			return p, ErrClosed
		}
		rec, ok, err := s.recs.next()
		if err != nil {
			return p, &PlatformError{Op: "read", Interface: s.ifname, Err: err}
		}
		if ok {
			data := rec.data
			if len(data) > s.snaplen {
				data = data[:s.snaplen]
			}
			p.Timestamp = time.Unix(int64(rec.sec), int64(rec.usec)*1000)
			p.Data = data
			p.Length = rec.datalen
			p.LinkType = s.lt
			p.InterfaceIndex = s.ifindex
			return p, nil
		}
		if err := s.fill(); err != nil {
			return pcapio.Packet{}, err
		}
	}
}

// fill waits until the device or the wake-up pipe is readable and reads
// the next buffer of records.
func (s *bpfSource) fill() error {
	for {
		var rset unix.FdSet
		rset.Set(s.fd)
		rset.Set(s.wakeR)
		_, err := unix.Select(max(s.fd, s.wakeR)+1, &rset, nil, nil, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return &PlatformError{Op: "select", Interface: s.ifname, Err: err}
		}
		if rset.IsSet(s.wakeR) || s.closed.Load() {
			return ErrClosed
		}
		n, err := unix.Read(s.fd, s.buf)
		switch {
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
			continue
		case errors.Is(err, unix.ENXIO):
			return &PlatformError{Op: "read", Interface: s.ifname, Err: fmt.Errorf("the interface went away: %w", err)}
		case err != nil:
			return &PlatformError{Op: "read", Interface: s.ifname, Err: err}
		}
		s.recs.reset(s.buf, n)
		return nil
	}
}

// Stats reads BIOCGSTATS, whose counters are cumulative: Received counts
// every packet the device saw (before filtering, as libpcap's ps_recv on
// BSD), Dropped those lost for lack of buffer space.
func (s *bpfSource) Stats() (Stats, error) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.isClosed {
		return s.final, nil
	}
	st, err := bpfStats(s.fd)
	if err != nil {
		return Stats{}, &PlatformError{Op: "stats", Interface: s.ifname, Err: fmt.Errorf("ioctl BIOCGSTATS: %w", err)}
	}
	return Stats{Received: uint64(st.Recv), Dropped: uint64(st.Drop)}, nil
}

// Close wakes a blocked reader, waits for it to leave, and closes the
// device.
func (s *bpfSource) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	_, werr := unix.Write(s.wakeW, []byte{1})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if st, err := bpfStats(s.fd); err == nil {
		s.final = Stats{Received: uint64(st.Recv), Dropped: uint64(st.Drop)}
	}
	s.isClosed = true
	err := unix.Close(s.fd)
	unix.Close(s.wakeR)
	unix.Close(s.wakeW)
	if err == nil && werr != nil {
		err = fmt.Errorf("wake reader: %w", werr)
	}
	if err != nil {
		return &PlatformError{Op: "close", Interface: s.ifname, Err: err}
	}
	return nil
}
