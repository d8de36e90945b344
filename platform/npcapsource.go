package platform

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// The read side of an Npcap capture, platform-neutral so that tests drive
// it with a fake wpcap.dll on every system; source_windows.go opens the
// real handle.

// pcap_activate and pcap_next_ex results.
const (
	pcapErrorBreak           = -2
	pcapErrorNoSuchDevice    = -5
	pcapErrorPermDenied      = -8
	pcapErrorIfaceNotUp      = -9
	pcapErrorPromiscPermDeny = -11

	pcapWarningPromiscNotSup    = 2
	pcapWarningTstampTypeNotSup = 3
)

// npcapWaitMillis bounds each wait on pcap_getevent's event, so that a
// signal lost between pcap_next_ex and the wait costs at most this long,
// not a hang.
const npcapWaitMillis = 500

// pcapHandle is what an open capture calls on its pcap_t in wpcap.dll. A
// pcap_t is not thread-safe: npcapReader makes one of these calls at a
// time, except breakloop, which libpcap allows from any thread.
type pcapHandle interface {
	// nextEx is pcap_next_ex: 1 with a packet (data is wpcap's buffer,
	// valid until the next nextEx or close), 0 when the read timeout
	// expired, -1 on an error (geterr says which), -2 after breakloop.
	nextEx() (hdr pcapPkthdr, data []byte, rc int32)
	// stats is pcap_stats; false when it failed (geterr says why).
	stats() (pcapStat, bool)
	// geterr is pcap_geterr.
	geterr() string
	// breakloop is pcap_breakloop: the next nextEx returns -2.
	breakloop()
	// waitEvent waits on pcap_getevent's event for at most ms
	// milliseconds; it is signalled when packets arrive, and by setEvent.
	waitEvent(ms uint32) error
	// setEvent signals the event, waking waitEvent.
	setEvent() error
	// close is pcap_close: it frees the handle and its buffer.
	close()
}

// npcapReader reads packets from a pcapHandle.
type npcapReader struct {
	// mu is held by NextZeroCopy and NextInto for the whole call: Close
	// takes it to wait for the reader to leave.
	mu sync.Mutex
	// hmu is held around every call on the handle but breakloop and the
	// event's: pcap_next_ex, pcap_stats, pcap_geterr and pcap_close never
	// run at the same time. The reader lets it go while it waits for
	// packets, so Stats waits at most for one pcap_next_ex (a read
	// timeout).
	hmu    sync.Mutex
	closed atomic.Bool

	h       pcapHandle
	buf     []byte // NextZeroCopy's copy of the current packet, guarded by mu
	lt      pcapio.LinkType
	snaplen int
	ifindex int
	name    string

	isClosed bool  // guarded by hmu: the handle is closed
	final    Stats // guarded by hmu: the counts at Close

	openWarnings
}

var _ Source = (*npcapReader)(nil)

// LinkType returns the link type of every packet (pcap_datalink).
func (r *npcapReader) LinkType() pcapio.LinkType { return r.lt }

// NextZeroCopy returns the next packet. Its Data is the reader's own
// buffer (Go memory, overwritten only by the reader's next call), into
// which the packet is copied before the call returns: wpcap's buffer,
// which pcap_close frees, is never lent to the caller, so Close may come at
// any time.
func (r *npcapReader) NextZeroCopy() (pcapio.Packet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.next(r.buf[:0])
	if err == nil {
		r.buf = p.Data
	}
	return p, err
}

// NextInto returns the next packet with its data copied to buf[:0].
func (r *npcapReader) NextInto(buf []byte) (pcapio.Packet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next(buf)
}

// next returns the next packet from pcap_next_ex, its data appended to
// buf, waiting on the handle's event while there is none. mu is held.
func (r *npcapReader) next(buf []byte) (p pcapio.Packet, err error) {
	for {
		if r.closed.Load() {
			return p, ErrClosed
		}
		r.hmu.Lock()
		hdr, data, rc := r.h.nextEx()
		switch rc {
		case 1:
			if len(data) > r.snaplen {
				data = data[:r.snaplen]
			}
			p.Data = append(buf, data...)
			r.hmu.Unlock()
			p.Timestamp = time.Unix(int64(hdr.sec), int64(hdr.usec)*1000)
			p.Length = int(hdr.len)
			p.LinkType = r.lt
			p.InterfaceIndex = r.ifindex
			return p, nil
		case 0:
			r.hmu.Unlock()
			// Read timeout: wait until the driver signals data or Close
			// signals the same event.
			if err := r.h.waitEvent(npcapWaitMillis); err != nil {
				return pcapio.Packet{}, &PlatformError{Op: "wait", Interface: r.name, Err: err}
			}
		case pcapErrorBreak:
			r.hmu.Unlock()
			// Only Close breaks the loop; the flag is checked above.
		default:
			msg := r.h.geterr()
			r.hmu.Unlock()
			return pcapio.Packet{}, &PlatformError{Op: "read", Interface: r.name, Err: fmt.Errorf("pcap_next_ex: %s", msg)}
		}
	}
}

// Stats reads pcap_stats; after Close, the counts read at Close. Npcap
// counts no interface drops: IfDropped is always 0.
func (r *npcapReader) Stats() (Stats, error) {
	r.hmu.Lock()
	defer r.hmu.Unlock()
	if r.isClosed {
		return r.final, nil
	}
	return r.readStats()
}

// readStats calls pcap_stats, with hmu held.
func (r *npcapReader) readStats() (Stats, error) {
	st, ok := r.h.stats()
	if !ok {
		return Stats{}, &PlatformError{Op: "stats", Interface: r.name, Err: fmt.Errorf("pcap_stats: %s", r.h.geterr())}
	}
	return Stats{Received: uint64(st.recv), Dropped: uint64(st.drop), IfDropped: uint64(st.ifdrop)}, nil
}

// Close breaks a reader out (pcap_breakloop, and the event it waits on),
// waits for it to leave, keeps the final counts and closes the handle:
// pcap_close runs only once no reader is in the handle, and nothing of
// wpcap's buffer is lent out.
func (r *npcapReader) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		return nil
	}
	r.h.breakloop()
	werr := r.h.setEvent()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hmu.Lock()
	defer r.hmu.Unlock()
	if st, err := r.readStats(); err == nil {
		r.final = st
	}
	r.isClosed = true
	r.h.close()
	if werr != nil {
		return &PlatformError{Op: "close", Interface: r.name, Err: fmt.Errorf("wake reader: %w", werr)}
	}
	return nil
}

// activateError explains a failed pcap_activate of interface name; msg is
// pcap_geterr's.
func activateError(name string, rc int32, msg string) error {
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
	return &PlatformError{Op: "open", Interface: name, Err: err}
}

// activateWarning explains a PCAP_WARNING result of pcap_activate; msg is
// pcap_geterr's, which may be empty.
func activateWarning(rc int32, msg string) string {
	var what string
	switch rc {
	case pcapWarningPromiscNotSup:
		what = "promiscuous mode is not supported, capturing only this host's traffic"
	case pcapWarningTstampTypeNotSup:
		what = "the time stamp type is not supported"
	default:
		what = fmt.Sprintf("warning %d", rc)
	}
	if msg != "" {
		what += " (" + msg + ")"
	}
	return what
}
