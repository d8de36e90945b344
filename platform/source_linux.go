//go:build linux

package platform

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pkttap/pkttap/pcapio"
)

// Offsets into a TPACKET_V3 block descriptor (struct tpacket_block_desc with
// its struct tpacket_hdr_v1).
const (
	blockStatusOff   = 8  // hdr.bh1.block_status
	blockNumPktsOff  = 12 // hdr.bh1.num_pkts
	blockFirstPktOff = 16 // hdr.bh1.offset_to_first_pkt
)

// tpacketHdrLen is TPACKET_ALIGN(sizeof(struct tpacket3_hdr)): where the
// packet's struct sockaddr_ll starts, relative to its tpacket3_hdr.
const tpacketHdrLen = (unix.SizeofTpacket3Hdr + 15) &^ 15

// linuxSource reads packets from an AF_PACKET socket's TPACKET_V3 ring.
//
// Close and the reader meet under mu: the reader holds it for the whole of
// each NextZeroCopy or NextInto call, Close for the whole of its work, so
// Close never touches the ring while a reader is in it. Between calls the
// reader may still be reading the packet NextZeroCopy returned (lent):
// Close then moves a private copy of the pages under it into their place
// before it unmaps the rest of the ring (keepLent), and the reader's next
// call unmaps that copy (or, should the reader never call again, the
// garbage collector does once the source is unreachable).
type linuxSource struct {
	mu     sync.Mutex
	closed atomic.Bool

	fd, efd   int
	pfd       [2]unix.PollFd
	ring      []byte // nil once Close has unmapped it
	blockSize int
	numBlocks int

	// Reader state, guarded by mu.
	block int  // the block to read next (or being read, when held)
	held  bool // the block is ours (TP_STATUS_USER) until released
	left  int  // packets not yet returned from the held block
	next  int  // ring offset of the next packet's tpacket3_hdr

	// lentAt and lentLen are where the Data of the packet NextZeroCopy
	// last returned lies, which the reader may be reading until its next
	// call (lentLen 0: it holds none). kept is the private copy of those
	// pages that Close left mapped in their place, and keptCleanup unmaps
	// it if the source is collected before the reader's next call does.
	// Guarded by mu.
	lentAt      uintptr
	lentLen     int
	kept        []byte
	keptCleanup runtime.Cleanup

	lt      pcapio.LinkType
	cooked  bool  // SOCK_DGRAM: synthesize the LINUX_SLL header
	vlanOff int   // where VLAN tags go back in, -1 for none
	snaplen int   // user snap length, applied to the rebuilt packet
	loIndex int32 // loopback ifindex whose outgoing copies are skipped, -1 for none
	ifindex int   // the bound interface's index (0 for "any")
	readSLL bool  // packets' sockaddr_ll must be read (cooked, loopback or "any")

	ifname string
	// statsMu guards the counters and the socket against Close.
	statsMu sync.Mutex
	stats   Stats
	ifdrop  *ifDropCounter
	final   bool // stats are final: the socket is closed
}

var _ Source = (*linuxSource)(nil)

// LinkType returns the link type of every packet.
func (s *linuxSource) LinkType() pcapio.LinkType { return s.lt }

// NextZeroCopy returns the next packet from the ring; its Data is valid
// until the reader's next call, even if Close comes in between (see
// linuxSource).
func (s *linuxSource) NextZeroCopy() (p pcapio.Packet, err error) {
	s.mu.Lock()
	err = s.nextPacket(&p)
	// An address, not a slice: no write barrier on the fast path.
	s.lentAt, s.lentLen = uintptr(unsafe.Pointer(unsafe.SliceData(p.Data))), len(p.Data)
	s.mu.Unlock()
	return p, err
}

// NextInto returns the next packet from the ring with its Data copied to
// buf[:0]; nothing of the ring is lent to the caller.
func (s *linuxSource) NextInto(buf []byte) (p pcapio.Packet, err error) {
	s.mu.Lock()
	err = s.nextPacket(&p)
	if err == nil {
		p.Data = append(buf[:0], p.Data...)
	}
	s.lentLen = 0
	s.mu.Unlock()
	return p, err
}

// nextPacket stores the next packet from the ring in p, with mu held. The
// common case (more packets in the held block) makes no system call and
// touches only the packet's own tpacket3_hdr, and its sockaddr_ll only
// where readSLL says the capture needs it. After Close it unmaps what Close
// kept for the reader and returns ErrClosed.
func (s *linuxSource) nextPacket(p *pcapio.Packet) error {
	if s.closed.Load() {
		s.unmapKept()
		return ErrClosed
	}
	for {
		for s.left > 0 {
			off := s.next
			h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&s.ring[off]))
			s.left--
			s.next = off + int(h.Next_offset)
			if s.packetAt(p, off, h) {
				return nil
			}
		}
		if err := s.nextBlock(); err != nil {
			*p = pcapio.Packet{}
			return err
		}
	}
}

// nextBlock releases the exhausted block and makes the next one current,
// polling until the kernel hands it over.
func (s *linuxSource) nextBlock() error {
	if s.held {
		s.releaseBlock()
	}
	for {
		base := s.block * s.blockSize
		status := (*uint32)(unsafe.Pointer(&s.ring[base+blockStatusOff]))
		if atomic.LoadUint32(status)&unix.TP_STATUS_USER != 0 {
			s.held = true
			s.left = int(binary.NativeEndian.Uint32(s.ring[base+blockNumPktsOff:]))
			s.next = base + int(binary.NativeEndian.Uint32(s.ring[base+blockFirstPktOff:]))
			return nil
		}
		if err := s.wait(); err != nil {
			return err
		}
	}
}

// releaseBlock hands the held block back to the kernel.
func (s *linuxSource) releaseBlock() {
	base := s.block * s.blockSize
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&s.ring[base+blockStatusOff])), unix.TP_STATUS_KERNEL)
	s.held = false
	s.left = 0
	s.block++
	if s.block == s.numBlocks {
		s.block = 0
	}
}

// packetAt fills p with the packet whose tpacket3_hdr h is at ring offset
// off: the SLL header synthesized for cooked sockets, the VLAN tag put back,
// the snap length applied. It reports false for packets libpcap skips (the
// outgoing copy of a loopback packet).
func (s *linuxSource) packetAt(p *pcapio.Packet, off int, h *unix.Tpacket3Hdr) bool {
	ring := s.ring
	ifindex := s.ifindex
	if s.readSLL {
		// The packet's sockaddr_ll, in the next cache line: needed only to
		// build a cooked header, to skip loopback's outgoing copies, or to
		// tell the interfaces of "any" apart.
		sll := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&ring[off+tpacketHdrLen]))
		if sll.Ifindex == s.loIndex && sll.Pkttype == unix.PACKET_OUTGOING {
			return false
		}
		ifindex = int(sll.Ifindex)
	}
	start := off + int(h.Mac)
	capLen := int(h.Snaplen)
	wire := int(h.Len)
	const sllEnd = tpacketHdrLen + unix.SizeofSockaddrLinklayer
	if s.cooked {
		start = off + int(h.Net) - sllHdrLen
		if start < off+sllEnd {
			return false // cannot happen with the kernel's layout
		}
		sllOff := off + tpacketHdrLen
		sll := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&ring[sllOff]))
		putSLLHeader(ring[start:], sll.Pkttype, sll.Hatype, sll.Halen, sll.Addr[:],
			[2]byte{ring[sllOff+2], ring[sllOff+3]})
		capLen += sllHdrLen
		wire += sllHdrLen
	}
	if s.vlanOff >= 0 && (h.Hv1.Vlan_tci != 0 || h.Status&unix.TP_STATUS_VLAN_VALID != 0) &&
		capLen >= s.vlanOff && start-vlanTagLen >= off+sllEnd {
		tpid := uint16(etherTypeVLAN)
		if h.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
			tpid = h.Hv1.Vlan_tpid
		}
		start = insertVLAN(ring, start, s.vlanOff, tpid, uint16(h.Hv1.Vlan_tci))
		capLen += vlanTagLen
		wire += vlanTagLen
	}
	if capLen > s.snaplen {
		capLen = s.snaplen
	}
	end := start + capLen
	p.Timestamp = time.Unix(int64(h.Sec), int64(h.Nsec))
	p.Data = ring[start:end:end]
	p.Length = wire
	p.LinkType = s.lt
	p.InterfaceIndex = ifindex
	return true
}

// wait polls the socket and the wake-up eventfd until the ring has a block
// for us, Close is called, or the socket reports an error.
func (s *linuxSource) wait() error {
	for {
		s.pfd[0].Revents, s.pfd[1].Revents = 0, 0
		_, err := unix.Poll(s.pfd[:], -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &PlatformError{Op: "poll", Interface: s.ifname, Err: err}
		}
		if s.pfd[1].Revents != 0 || s.closed.Load() {
			return ErrClosed
		}
		if s.pfd[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
			return s.socketError()
		}
		return nil
	}
}

// socketError turns a POLLERR on the socket into an error saying what
// happened.
func (s *linuxSource) socketError() error {
	errno, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return &PlatformError{Op: "poll", Interface: s.ifname, Err: fmt.Errorf("read socket error: %w", err)}
	}
	switch unix.Errno(errno) {
	case 0:
		return &PlatformError{Op: "poll", Interface: s.ifname, Err: fmt.Errorf("socket reported an error condition")}
	case unix.ENETDOWN:
		return &PlatformError{Op: "read", Interface: s.ifname, Err: fmt.Errorf("the interface went down (bring it up and reopen the capture): %w", unix.Errno(errno))}
	case unix.ENODEV, unix.ENXIO:
		return &PlatformError{Op: "read", Interface: s.ifname, Err: fmt.Errorf("the interface disappeared: %w", unix.Errno(errno))}
	}
	return &PlatformError{Op: "read", Interface: s.ifname, Err: unix.Errno(errno)}
}

// Stats returns the counters accumulated since Open. The kernel resets
// PACKET_STATISTICS on every read, so they are summed here. After Close it
// returns the counts as they were when the source was closed.
func (s *linuxSource) Stats() (Stats, error) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.final {
		return s.stats, nil
	}
	if err := s.updateStatsLocked(); err != nil {
		return s.stats, err
	}
	return s.stats, nil
}

func (s *linuxSource) updateStatsLocked() error {
	st, err := unix.GetsockoptTpacketStatsV3(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return &PlatformError{Op: "stats", Interface: s.ifname, Err: fmt.Errorf("getsockopt PACKET_STATISTICS: %w", err)}
	}
	s.stats.Received += uint64(st.Packets)
	s.stats.Dropped += uint64(st.Drops)
	if s.ifdrop != nil {
		if n, err := s.ifdrop.dropped(); err == nil {
			s.stats.IfDropped = n
		}
	}
	return nil
}

// Close wakes a reader blocked in NextZeroCopy or NextInto, waits for it to
// leave, keeps the pages of a packet lent to the reader, and then unmaps
// the ring and closes the socket.
func (s *linuxSource) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, werr := unix.Write(s.efd, one[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	_ = s.updateStatsLocked()
	s.final = true
	var errs []error
	if werr != nil {
		errs = append(errs, fmt.Errorf("wake reader: %w", werr))
	}
	if s.lentLen > 0 {
		if err := s.keepLent(); err != nil {
			errs = append(errs, err)
		}
	} else if err := unmap(s.ring); err != nil {
		errs = append(errs, fmt.Errorf("unmap ring: %w", err))
	}
	s.ring, s.lentLen = nil, 0
	if err := unix.Close(s.fd); err != nil {
		errs = append(errs, fmt.Errorf("close socket: %w", err))
	}
	if err := unix.Close(s.efd); err != nil {
		errs = append(errs, fmt.Errorf("close eventfd: %w", err))
	}
	if s.ifdrop != nil {
		s.ifdrop.close()
	}
	if len(errs) > 0 {
		return &PlatformError{Op: "close", Interface: s.ifname, Err: errs[0]}
	}
	return nil
}

// keepLent unmaps the ring except for the pages of the lent packet, which it
// replaces by a private copy of themselves at the same addresses, in one
// step (mremap), so that a reader still reading the packet never sees them
// go, while the socket, which lives as long as any page of its ring is
// mapped, is released with the rest of the ring. The copy stays until
// unmapKept. Should keeping fail, the whole ring stays mapped for the
// reader instead (the socket is then released only when it is unmapped).
func (s *linuxSource) keepLent() error {
	page := os.Getpagesize()
	start := int(s.lentAt - uintptr(unsafe.Pointer(unsafe.SliceData(s.ring))))
	lo := start &^ (page - 1)
	hi := min((start+s.lentLen+page-1)&^(page-1), len(s.ring))
	pages := s.ring[lo:hi:hi]
	keep := func(kept []byte) {
		s.kept = kept
		s.keptCleanup = runtime.AddCleanup(s, func(b []byte) { unmap(b) }, kept)
	}
	cp, err := unix.MmapPtr(-1, 0, nil, uintptr(len(pages)), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err == nil {
		copy(unsafe.Slice((*byte)(cp), len(pages)), pages)
		_, err = unix.MremapPtr(cp, uintptr(len(pages)), unsafe.Pointer(&pages[0]), uintptr(len(pages)), unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED)
		if err != nil {
			unix.MunmapPtr(cp, uintptr(len(pages)))
		}
	}
	if err != nil {
		keep(s.ring)
		return fmt.Errorf("keep the packet lent to the reader (the ring stays mapped until its next call): %w", err)
	}
	keep(pages)
	if err := errors.Join(unmap(s.ring[:lo]), unmap(s.ring[hi:])); err != nil {
		return fmt.Errorf("unmap ring: %w", err)
	}
	return nil
}

// unmapKept unmaps what Close kept for the reader, if anything.
func (s *linuxSource) unmapKept() {
	if s.kept != nil {
		s.keptCleanup.Stop()
		unmap(s.kept)
		s.kept = nil
	}
}

// unmap unmaps the pages of b, which must start on a page boundary; an
// empty b is nothing to do.
func unmap(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b)))
}
