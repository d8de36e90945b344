package platform

import (
	"net"
	"unsafe"
)

// Npcap's C structures as wpcap.dll lays them out on Windows (LLP64: long
// is 32 bits, pointers are the machine's word). Declared in a
// platform-neutral file so the layouts and the code that walks them are
// tested on every OS.

// pcapPkthdr is struct pcap_pkthdr. Its struct timeval holds two C longs,
// which are 32 bits on Windows even on 64-bit machines.
type pcapPkthdr struct {
	sec    int32
	usec   int32
	caplen uint32
	len    uint32
}

// pcapStat is struct pcap_stat with the fields Windows adds (ps_capt,
// ps_sent, ps_netdrop), so pcap_stats never writes past it.
type pcapStat struct {
	recv, drop, ifdrop  uint32
	capt, sent, netdrop uint32
}

// bpfInsn is struct bpf_insn.
type bpfInsn struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

// bpfProgram is struct bpf_program.
type bpfProgram struct {
	len   uint32
	insns *bpfInsn
}

// pcapIf is pcap_if_t, one entry of pcap_findalldevs' list.
type pcapIf struct {
	next        *pcapIf
	name        *byte
	description *byte
	addresses   *pcapAddr
	flags       uint32
}

// pcapAddr is struct pcap_addr.
type pcapAddr struct {
	next      *pcapAddr
	addr      *sockaddrHdr
	netmask   *sockaddrHdr
	broadaddr *sockaddrHdr
	dstaddr   *sockaddrHdr
}

// sockaddrHdr is the start of a Windows struct sockaddr: the family, then
// family-specific bytes.
type sockaddrHdr struct {
	family uint16
	data   [14]byte
}

// sockaddrIn6 is a Windows struct sockaddr_in6.
type sockaddrIn6 struct {
	family   uint16
	port     uint16
	flowinfo uint32
	addr     [16]byte
	scopeID  uint32
}

// Windows address families and pcap_if_t flags.
const (
	winAFInet  = 2
	winAFInet6 = 23

	pcapIfLoopback = 0x1
	pcapIfUp       = 0x2
)

// pcapErrbufSize is PCAP_ERRBUF_SIZE.
const pcapErrbufSize = 256

// npcapDevice is one device pcap_findalldevs reported.
type npcapDevice struct {
	name, description string
	flags             uint32
	addrs             []net.IPNet
}

// cString returns the NUL-terminated string at p (at most 64 KiB), or ""
// for nil.
func cString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for n < 1<<16 && *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}

// errbufString returns the message in an errbuf.
func errbufString(buf []byte) string {
	return cString(&buf[0])
}

// walkDevices converts pcap_findalldevs' linked list.
func walkDevices(first *pcapIf) []npcapDevice {
	var out []npcapDevice
	for d := first; d != nil; d = d.next {
		dev := npcapDevice{name: cString(d.name), description: cString(d.description), flags: d.flags}
		for a := d.addresses; a != nil; a = a.next {
			ip := sockaddrIP(a.addr)
			if ip == nil {
				continue
			}
			mask := net.IPMask(sockaddrIP(a.netmask))
			if len(mask) != len(ip) {
				mask = net.CIDRMask(8*len(ip), 8*len(ip))
			}
			dev.addrs = append(dev.addrs, net.IPNet{IP: ip, Mask: mask})
		}
		out = append(out, dev)
	}
	return out
}

// sockaddrIP returns the address in a Windows sockaddr_in or sockaddr_in6,
// or nil for other families.
func sockaddrIP(sa *sockaddrHdr) net.IP {
	if sa == nil {
		return nil
	}
	switch sa.family {
	case winAFInet:
		return net.IP(append([]byte(nil), sa.data[2:6]...))
	case winAFInet6:
		in6 := (*sockaddrIn6)(unsafe.Pointer(sa))
		return net.IP(append([]byte(nil), in6.addr[:]...))
	}
	return nil
}
