//go:build linux

package platform

import (
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/pkttap/pkttap/pcapio"
)

// permissionHint is ErrPermissionDenied's message on Linux.
const permissionHint = "permission denied: run as root or grant CAP_NET_RAW: sudo setcap cap_net_raw=ep BINARY"

// anyInterface is the name of Linux's capture-on-all-interfaces device.
const anyInterface = "any"

// ringFrameSize is the tp_frame_size given to the kernel. TPACKET_V3 packs
// packets of any size into a block, so it only has to satisfy the kernel's
// checks (at least the header, at most the block).
const ringFrameSize = 2048

// linuxMaxInsns is BPF_MAXINSNS, the most instructions a socket filter
// may have.
const linuxMaxInsns = 4096

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// open opens an AF_PACKET TPACKET_V3 capture as described in the package
// documentation. On any failure everything opened so far is released.
func open(cfg Config) (src Source, err error) {
	name := cfg.Interface
	if name == "" {
		return nil, &PlatformError{Op: "open", Err: errors.New("no interface given (list them with Interfaces)")}
	}
	ring, err := ringGeometry(cfg)
	if err != nil {
		return nil, &PlatformError{Op: "open", Interface: name, Err: err}
	}
	s := &linuxSource{fd: -1, efd: -1, ifname: name, snaplen: cfg.snaplen(), loIndex: -1}
	defer func() {
		if err != nil {
			s.release()
		}
	}()

	if s.fd, err = packetSocket(name, unix.SOCK_RAW); err != nil {
		return nil, err
	}
	ifindex, arphrd := 0, uint16(0)
	if name == anyInterface {
		s.lt, s.cooked = pcapio.LinkTypeLinuxSLL, true
		s.loIndex = loopbackIndex(s.fd)
	} else {
		if ifindex, arphrd, err = interfaceInfo(s.fd, name); err != nil {
			return nil, err
		}
		s.lt, s.cooked = linkTypeForARPHRD(arphrd)
		if arphrd == arphrdLoopback {
			s.loIndex = int32(ifindex)
		}
	}
	s.vlanOff = vlanOffset(s.lt)
	s.ifindex = ifindex
	s.readSLL = s.cooked || s.loIndex >= 0 || ifindex == 0
	if s.cooked {
		unix.Close(s.fd)
		if s.fd, err = packetSocket(name, unix.SOCK_DGRAM); err != nil {
			return nil, err
		}
	}
	if err = s.setupRing(ring); err != nil {
		return nil, err
	}
	if err = s.attachFilter(cfg.FilterFor, s.snaplen); err != nil {
		return nil, err
	}
	// Bind only now: a socket opened with protocol 0 receives nothing, so
	// every packet that reaches the ring has been through the filter.
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}
	if err = unix.Bind(s.fd, sa); err != nil {
		return nil, &PlatformError{Op: "bind", Interface: name, Err: sysErr("bind", err)}
	}
	// Binding to an interface that is down succeeds but leaves ENETDOWN
	// pending on the socket, which the first read would report as the
	// interface going down. Refuse now, as libpcap does
	// (PCAP_ERROR_IFACE_NOT_UP).
	if errno, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && unix.Errno(errno) == unix.ENETDOWN {
		return nil, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("the interface is down (bring it up, then open the capture): %w", unix.ENETDOWN)}
	}
	if cfg.Promiscuous && name != anyInterface {
		mreq := &unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
		if err = unix.SetsockoptPacketMreq(s.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, mreq); err != nil {
			return nil, &PlatformError{Op: "set promiscuous mode", Interface: name, Err: sysErr("setsockopt PACKET_ADD_MEMBERSHIP", err)}
		}
	}
	if s.efd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return nil, &PlatformError{Op: "open", Interface: name, Err: sysErr("eventfd", err)}
	}
	s.pfd = [2]unix.PollFd{
		{Fd: int32(s.fd), Events: unix.POLLIN | unix.POLLERR},
		{Fd: int32(s.efd), Events: unix.POLLIN},
	}
	if name != anyInterface {
		s.ifdrop = newIfDropCounter(name)
	}
	return s, nil
}

// release closes whatever a failed open managed to set up.
func (s *linuxSource) release() {
	unmap(s.ring)
	s.ring = nil
	if s.fd >= 0 {
		unix.Close(s.fd)
	}
	if s.efd >= 0 {
		unix.Close(s.efd)
	}
	if s.ifdrop != nil {
		s.ifdrop.close()
	}
}

// ringParams is the validated TPACKET_V3 ring geometry.
type ringParams struct {
	blockSize, numBlocks int
	timeoutMS            uint32
}

func ringGeometry(cfg Config) (ringParams, error) {
	r := ringParams{blockSize: cfg.BlockSize, numBlocks: cfg.NumBlocks}
	if r.blockSize == 0 {
		r.blockSize = DefaultBlockSize
	}
	if r.numBlocks == 0 {
		r.numBlocks = DefaultNumBlocks
	}
	page := os.Getpagesize()
	if r.blockSize < 0 || r.blockSize%page != 0 || r.blockSize > 1<<30 {
		return r, fmt.Errorf("ring block size %d is not a positive multiple of the page size %d", cfg.BlockSize, page)
	}
	if r.numBlocks < 0 || r.numBlocks > 1<<16 {
		return r, fmt.Errorf("ring block count %d out of range (1 to 65536)", cfg.NumBlocks)
	}
	if total := int64(r.blockSize) * int64(r.numBlocks); total > 1<<32-1 {
		return r, fmt.Errorf("ring of %d blocks of %d bytes is %d bytes, more than the kernel's 4 GiB limit", r.numBlocks, r.blockSize, total)
	}
	tov := cfg.BlockTimeout
	if tov <= 0 {
		tov = DefaultBlockTimeout
	}
	r.timeoutMS = uint32((tov + time.Millisecond - 1) / time.Millisecond)
	return r, nil
}

// packetSocket opens an AF_PACKET socket of the given type with protocol 0,
// so that it receives nothing until it is bound.
func packetSocket(name string, typ int) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, &PlatformError{Op: "open", Interface: name, Err: sysErr("socket AF_PACKET", err)}
	}
	return fd, nil
}

// interfaceInfo returns an interface's index and ARPHRD type.
func interfaceInfo(fd int, name string) (index int, arphrd uint16, err error) {
	notFound := &PlatformError{Op: "open", Interface: name, Err: errors.New("no such interface (list them with Interfaces, or use \"any\")")}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, 0, notFound
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		if err == unix.ENODEV {
			return 0, 0, notFound
		}
		return 0, 0, &PlatformError{Op: "open", Interface: name, Err: sysErr("ioctl SIOCGIFINDEX", err)}
	}
	index = int(ifr.Uint32())
	ifr, _ = unix.NewIfreq(name)
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, 0, &PlatformError{Op: "open", Interface: name, Err: sysErr("ioctl SIOCGIFHWADDR", err)}
	}
	// ifr_hwaddr is a struct sockaddr whose sa_family holds the ARPHRD type.
	return index, ifr.Uint16(), nil
}

// loopbackIndex returns the index of the loopback interface "lo" in the
// socket's network namespace, or -1.
func loopbackIndex(fd int) int32 {
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return -1
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return -1
	}
	return int32(ifr.Uint32())
}

// setupRing switches the socket to TPACKET_V3 with headroom for a VLAN tag,
// creates the receive ring and maps it.
func (s *linuxSource) setupRing(r ringParams) error {
	if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return &PlatformError{Op: "open", Interface: s.ifname, Err: sysErr("setsockopt PACKET_VERSION TPACKET_V3 (needs Linux 3.2 or later)", err)}
	}
	if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_RESERVE, vlanTagLen); err != nil {
		return &PlatformError{Op: "open", Interface: s.ifname, Err: sysErr("setsockopt PACKET_RESERVE", err)}
	}
	req := &unix.TpacketReq3{
		Block_size:     uint32(r.blockSize),
		Block_nr:       uint32(r.numBlocks),
		Frame_size:     ringFrameSize,
		Frame_nr:       uint32(r.blockSize / ringFrameSize * r.numBlocks),
		Retire_blk_tov: r.timeoutMS,
	}
	if err := unix.SetsockoptTpacketReq3(s.fd, unix.SOL_PACKET, unix.PACKET_RX_RING, req); err != nil {
		return &PlatformError{Op: "open", Interface: s.ifname, Err: sysErr(fmt.Sprintf("setsockopt PACKET_RX_RING (%d blocks of %d bytes)", r.numBlocks, r.blockSize), err)}
	}
	size := r.blockSize * r.numBlocks
	ring, err := unix.MmapPtr(s.fd, 0, nil, uintptr(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return &PlatformError{Op: "open", Interface: s.ifname, Err: sysErr("mmap ring", err)}
	}
	s.ring, s.blockSize, s.numBlocks = unsafe.Slice((*byte)(ring), size), r.blockSize, r.numBlocks
	return nil
}

// attachFilter installs the caller's program, or one that accepts every
// packet, with its accept values capped at the snap length so the kernel
// copies no more than will be kept.
func (s *linuxSource) attachFilter(filterFor func(pcapio.LinkType) ([]bpf.RawInstruction, error), snaplen int) error {
	prog, err := programFor(filterFor, s.lt, snaplen)
	if err != nil {
		return err
	}
	if len(prog) > linuxMaxInsns {
		return &PlatformError{Op: "attach filter", Interface: s.ifname, Err: fmt.Errorf("the program has %d instructions; Linux accepts at most %d (simplify the filter)", len(prog), linuxMaxInsns)}
	}
	filters := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		filters[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fprog := &unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
	if err := unix.SetsockoptSockFprog(s.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, fprog); err != nil {
		return &PlatformError{Op: "attach filter", Interface: s.ifname, Err: sysErr("setsockopt SO_ATTACH_FILTER (the kernel rejected the program)", err)}
	}
	return nil
}

// sysErr wraps a failed system call's error, adding ErrPermissionDenied
// when the OS refused for lack of privileges.
func sysErr(call string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%s: %w (%w)", call, ErrPermissionDenied, err)
	}
	return fmt.Errorf("%s: %w", call, err)
}
