//go:build windows

package platform

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/windows"

	"github.com/pkttap/pkttap/pcapio"
)

// pcap_activate and pcap_next_ex results.
const (
	pcapErrorBreak           = -2
	pcapErrorNoSuchDevice    = -5
	pcapErrorPermDenied      = -8
	pcapErrorIfaceNotUp      = -9
	pcapErrorPromiscPermDeny = -11
)

// npcapSource reads packets through Npcap's wpcap.dll.
type npcapSource struct {
	// mu is held by NextZeroCopy and NextInto for the whole call, and by
	// Close around pcap_close: the handle and its buffer are closed only
	// once the reader is out of them (and nothing of them is lent out).
	mu     sync.Mutex
	closed atomic.Bool
	buf    []byte // NextZeroCopy's copy of the current packet, guarded by mu

	w       *wpcap
	p       uintptr // pcap_t*
	event   windows.Handle
	lt      pcapio.LinkType
	snaplen int
	ifindex int // the adapter's Windows interface index, 0 if unknown
	device  string
	name    string

	statsMu  sync.Mutex
	final    Stats
	isClosed bool
}

var _ Source = (*npcapSource)(nil)

func open(cfg Config) (src Source, err error) {
	name := cfg.Interface
	if name == "" {
		return nil, &PlatformError{Op: "open", Err: errors.New("no interface given (list them with Interfaces)")}
	}
	w, devs, ads, err := npcapDevices()
	if err != nil {
		return nil, err
	}
	device, err := resolveDeviceName(name, devs, ads)
	if err != nil {
		return nil, &PlatformError{Op: "open", Interface: name, Err: err}
	}
	s := &npcapSource{w: w, snaplen: cfg.snaplen(), device: device, name: name}
	for _, it := range buildInterfaces(devs, ads) {
		if it.Name == device {
			s.ifindex = it.Index
		}
	}
	cdev, err := cstr(device)
	if err != nil {
		return nil, &PlatformError{Op: "open", Interface: name, Err: err}
	}
	errbuf := make([]byte, pcapErrbufSize)
	s.p = call(w.create, uintptr(unsafe.Pointer(cdev)), uintptr(unsafe.Pointer(&errbuf[0])))
	runtime.KeepAlive(cdev)
	if s.p == 0 {
		return nil, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("pcap_create %s: %s", device, errbufString(errbuf))}
	}
	defer func() {
		if err != nil {
			call(w.close, s.p)
		}
	}()
	timeout := cfg.BlockTimeout
	if timeout <= 0 {
		timeout = DefaultBlockTimeout
	}
	promisc := uintptr(0)
	if cfg.Promiscuous {
		promisc = 1
	}
	call(w.setSnaplen, s.p, uintptr(s.snaplen))
	call(w.setPromisc, s.p, promisc)
	call(w.setTimeout, s.p, uintptr((timeout+time.Millisecond-1)/time.Millisecond))
	if w.setImmediateMode != 0 {
		// Without it Npcap holds packets until 16000 bytes are buffered.
		call(w.setImmediateMode, s.p, 1)
	}
	if rc := int32(call(w.activate, s.p)); rc < 0 {
		return nil, s.activateError(rc)
	}
	s.lt = pcapio.LinkTypeFromDLT(uint32(call(w.datalink, s.p)))
	if err = s.setFilter(cfg.FilterFor); err != nil {
		return nil, err
	}
	s.event = windows.Handle(call(w.getevent, s.p))
	if s.event == 0 {
		return nil, &PlatformError{Op: "open", Interface: name, Err: errors.New("pcap_getevent returned no event handle")}
	}
	return s, nil
}

// activateError explains a failed pcap_activate.
func (s *npcapSource) activateError(rc int32) error {
	msg := s.geterr()
	var err error
	switch rc {
	case pcapErrorPermDenied, pcapErrorPromiscPermDeny:
		err = fmt.Errorf("pcap_activate: %w (%s)", ErrPermissionDenied, msg)
	case pcapErrorNoSuchDevice:
		err = fmt.Errorf("pcap_activate: no such interface (list them with Interfaces): %s", msg)
	case pcapErrorIfaceNotUp:
		err = fmt.Errorf("pcap_activate: the interface is down (enable the adapter): %s", msg)
	default:
		err = fmt.Errorf("pcap_activate: error %d: %s", rc, msg)
	}
	return &PlatformError{Op: "open", Interface: s.name, Err: err}
}

func (s *npcapSource) geterr() string {
	return cString((*byte)(cPointer(call(s.w.geterr, s.p))))
}

// setFilter installs the caller's program, or "ret #snaplen". The program
// lives in Go memory for the duration of the call; pcap_setfilter copies it.
func (s *npcapSource) setFilter(filterFor func(pcapio.LinkType) ([]bpf.RawInstruction, error)) error {
	prog, err := programFor(filterFor, s.lt, s.snaplen)
	if err != nil {
		return err
	}
	insns := make([]bpfInsn, len(prog))
	for i, ins := range prog {
		insns[i] = bpfInsn{code: ins.Op, jt: ins.Jt, jf: ins.Jf, k: ins.K}
	}
	bp := bpfProgram{len: uint32(len(insns)), insns: &insns[0]}
	rc := int32(call(s.w.setfilter, s.p, uintptr(unsafe.Pointer(&bp))))
	runtime.KeepAlive(&bp)
	runtime.KeepAlive(insns)
	if rc != 0 {
		return &PlatformError{Op: "set filter", Interface: s.name, Err: fmt.Errorf("pcap_setfilter: %s", s.geterr())}
	}
	return nil
}

// LinkType returns the link type of every packet (pcap_datalink).
func (s *npcapSource) LinkType() pcapio.LinkType { return s.lt }

// NextZeroCopy returns the next packet from pcap_next_ex, waiting on
// pcap_getevent's handle while there is none. Its Data is the source's own
// buffer (Go memory, overwritten only by the reader's next call), into
// which the packet is copied before the call returns: wpcap's buffer, which
// pcap_close frees, is never lent to the caller, so Close may come at any
// time (Npcap has already copied the packet out of the driver's buffer
// into wpcap's; this second copy is of bytes in the cache).
func (s *npcapSource) NextZeroCopy() (pcapio.Packet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.nextEx()
	if err == nil {
		s.buf = append(s.buf[:0], p.Data...)
		p.Data = s.buf[:len(s.buf):len(s.buf)]
	}
	return p, err
}

// NextInto returns the next packet with its data copied to buf[:0].
func (s *npcapSource) NextInto(buf []byte) (pcapio.Packet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.nextEx()
	if err == nil {
		p.Data = append(buf[:0], p.Data...)
	}
	return p, err
}

// nextEx returns the next packet, its Data pointing into wpcap's buffer
// (valid until the next pcap_next_ex or pcap_close), with mu held.
func (s *npcapSource) nextEx() (p pcapio.Packet, err error) {
	for {
		if s.closed.Load() {
			return p, ErrClosed
		}
		var hdr *pcapPkthdr
		var data *byte
		rc := int32(call(s.w.nextEx, s.p, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data))))
		switch {
		case rc == 1:
			n := int(hdr.caplen)
			if n > s.snaplen {
				n = s.snaplen
			}
			p.Timestamp = time.Unix(int64(hdr.sec), int64(hdr.usec)*1000)
			p.Data = unsafe.Slice(data, n)
			p.Length = int(hdr.len)
			p.LinkType = s.lt
			p.InterfaceIndex = s.ifindex
			return p, nil
		case rc == 0:
			// Read timeout: wait until the driver signals data or Close
			// signals the same event. The wait is bounded so that a
			// signal lost between pcap_next_ex and the wait costs at most
			// half a second, not a hang.
			if _, err := windows.WaitForSingleObject(s.event, 500); err != nil {
				return pcapio.Packet{}, &PlatformError{Op: "wait", Interface: s.name, Err: err}
			}
		case rc == pcapErrorBreak:
			if s.closed.Load() {
				return p, ErrClosed
			}
		default:
			return pcapio.Packet{}, &PlatformError{Op: "read", Interface: s.name, Err: fmt.Errorf("pcap_next_ex: %s", s.geterr())}
		}
	}
}

// Stats reads pcap_stats.
func (s *npcapSource) Stats() (Stats, error) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.isClosed {
		return s.final, nil
	}
	return s.readStats()
}

func (s *npcapSource) readStats() (Stats, error) {
	var st pcapStat
	if int32(call(s.w.stats, s.p, uintptr(unsafe.Pointer(&st)))) != 0 {
		return Stats{}, &PlatformError{Op: "stats", Interface: s.name, Err: fmt.Errorf("pcap_stats: %s", s.geterr())}
	}
	return Stats{Received: uint64(st.recv), Dropped: uint64(st.drop), IfDropped: uint64(st.ifdrop)}, nil
}

// Close breaks a blocked reader out (pcap_breakloop plus the event it
// waits on), waits for it to leave, and closes the handle.
func (s *npcapSource) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	call(s.w.breakloop, s.p)
	werr := windows.SetEvent(s.event)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if st, err := s.readStats(); err == nil {
		s.final = st
	}
	s.isClosed = true
	call(s.w.close, s.p)
	if werr != nil {
		return &PlatformError{Op: "close", Interface: s.name, Err: fmt.Errorf("wake reader: %w", werr)}
	}
	return nil
}
