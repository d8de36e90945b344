//go:build linux

package platform

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pkttap/pkttap/pcapio"
)

// ringPacket is one packet to lay out in a hand-built TPACKET_V3 block.
type ringPacket struct {
	data      []byte // as the kernel stores it (untagged, no SLL header)
	wireLen   int
	sec, nsec uint32
	status    uint32
	tci       uint32
	tpid      uint16
	ifindex   int32
	pktType   uint8
	proto     uint16 // sll_protocol, host order
	hatype    uint16
	addr      []byte
}

// putBlock lays packets out in block like the kernel's tpacket_rcv does for
// TPACKET_V3 with a 4-byte tp_reserve: each tpacket3_hdr 16-byte aligned,
// its sockaddr_ll right after it, and the data at the kernel's mac offset
// (SOCK_RAW Ethernet when cooked is false, SOCK_DGRAM otherwise). It then
// hands the block to "user space".
func putBlock(block []byte, pkts []ringPacket, cooked bool) {
	clear(block)
	const first = 48 // the kernel's offset_to_first_pkt for tpacket_hdr_v1
	off := first
	for i, p := range pkts {
		netOff := (tpacketHdrLen+unix.SizeofSockaddrLinklayer+16+15)&^15 + vlanTagLen
		macOff := netOff - 14
		if cooked {
			netOff = (tpacketHdrLen+unix.SizeofSockaddrLinklayer+15)&^15 + 16 + vlanTagLen
			macOff = netOff
		}
		h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&block[off]))
		h.Sec, h.Nsec = p.sec, p.nsec
		h.Snaplen, h.Len = uint32(len(p.data)), uint32(p.wireLen)
		h.Status = unix.TP_STATUS_USER | p.status
		h.Mac, h.Net = uint16(macOff), uint16(netOff)
		h.Hv1.Vlan_tci, h.Hv1.Vlan_tpid = p.tci, p.tpid
		sll := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&block[off+tpacketHdrLen]))
		sll.Family = unix.AF_PACKET
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sll.Protocol))[:], p.proto)
		sll.Ifindex, sll.Pkttype, sll.Hatype = p.ifindex, p.pktType, p.hatype
		sll.Halen = uint8(len(p.addr))
		copy(sll.Addr[:], p.addr)
		copy(block[off+macOff:], p.data)
		next := (macOff + len(p.data) + 15) &^ 15
		if i < len(pkts)-1 {
			h.Next_offset = uint32(next)
		}
		off += next
	}
	binary.NativeEndian.PutUint32(block[blockNumPktsOff:], uint32(len(pkts)))
	binary.NativeEndian.PutUint32(block[blockFirstPktOff:], first)
	binary.NativeEndian.PutUint32(block[blockStatusOff:], unix.TP_STATUS_USER)
}

// fakeSource is a linuxSource over an in-memory ring whose poll never
// finds anything (its file descriptors are a pipe that stays empty and an
// eventfd).
func fakeSource(t testing.TB, lt pcapio.LinkType, cooked bool, snaplen, blocks, blockSize int) *linuxSource {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := unix.Mmap(-1, 0, blocks*blockSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	s := &linuxSource{
		fd: p[0], efd: efd, ring: ring, blockSize: blockSize, numBlocks: blocks,
		lt: lt, cooked: cooked, vlanOff: vlanOffset(lt), snaplen: snaplen, loIndex: 1, readSLL: true, ifname: "fake",
	}
	s.pfd = [2]unix.PollFd{{Fd: int32(p[0]), Events: unix.POLLIN}, {Fd: int32(efd), Events: unix.POLLIN}}
	t.Cleanup(func() { unix.Close(p[1]) })
	return s
}

func TestRingWalk(t *testing.T) {
	mac := func(b byte) []byte { return bytes.Repeat([]byte{b}, 6) }
	eth := append(append(mac(0xdd), mac(0x55)...), 0x08, 0x00, 0x45, 0x00)
	ip := []byte{0x45, 0x00, 0x00, 0x14}
	tests := []struct {
		name    string
		lt      pcapio.LinkType
		cooked  bool
		snaplen int
		pkt     ringPacket
		want    []byte // nil: the packet is skipped
		wireLen int
	}{
		{"plain", pcapio.LinkTypeEthernet, false, 65535,
			ringPacket{data: eth, wireLen: 100, ifindex: 7},
			eth, 100},
		{"vlan valid", pcapio.LinkTypeEthernet, false, 65535,
			ringPacket{data: eth, wireLen: 100, status: unix.TP_STATUS_VLAN_VALID, tci: 0x0064, ifindex: 7},
			append(append(append(mac(0xdd), mac(0x55)...), 0x81, 0x00, 0x00, 0x64), eth[12:]...), 104},
		{"vlan tci without flag", pcapio.LinkTypeEthernet, false, 65535,
			ringPacket{data: eth, wireLen: 100, tci: 0x2001, ifindex: 7},
			append(append(append(mac(0xdd), mac(0x55)...), 0x81, 0x00, 0x20, 0x01), eth[12:]...), 104},
		{"vlan zero tci", pcapio.LinkTypeEthernet, false, 65535,
			ringPacket{data: eth, wireLen: 100, status: unix.TP_STATUS_VLAN_VALID, ifindex: 7},
			append(append(append(mac(0xdd), mac(0x55)...), 0x81, 0x00, 0x00, 0x00), eth[12:]...), 104},
		{"qinq tpid", pcapio.LinkTypeEthernet, false, 65535,
			ringPacket{data: eth, wireLen: 100, status: unix.TP_STATUS_VLAN_VALID | unix.TP_STATUS_VLAN_TPID_VALID, tci: 5, tpid: 0x88a8, ifindex: 7},
			append(append(append(mac(0xdd), mac(0x55)...), 0x88, 0xa8, 0x00, 0x05), eth[12:]...), 104},
		{"vlan then snaplen", pcapio.LinkTypeEthernet, false, 16,
			ringPacket{data: eth, wireLen: 100, status: unix.TP_STATUS_VLAN_VALID, tci: 0x0064, ifindex: 7},
			append(append(mac(0xdd), mac(0x55)...), 0x81, 0x00, 0x00, 0x64), 104},
		{"vlan on raw ignored", pcapio.LinkTypeRaw, false, 65535,
			ringPacket{data: ip, wireLen: 20, status: unix.TP_STATUS_VLAN_VALID, tci: 0x0064, ifindex: 7},
			ip, 20},
		{"snaplen", pcapio.LinkTypeEthernet, false, 6,
			ringPacket{data: eth, wireLen: 100, ifindex: 7},
			mac(0xdd), 100},
		{"cooked", pcapio.LinkTypeLinuxSLL, true, 65535,
			ringPacket{data: ip, wireLen: 20, ifindex: 7, pktType: 0, proto: 0x0800, hatype: 1, addr: mac(0x55)},
			append(unhex(t, "0000"+"0001"+"0006"+"ssssssssssss0000"+"0800"), ip...), 36},
		{"cooked vlan", pcapio.LinkTypeLinuxSLL, true, 65535,
			ringPacket{data: ip, wireLen: 20, ifindex: 7, pktType: 3, proto: 0x0800, hatype: 1, addr: mac(0x55), status: unix.TP_STATUS_VLAN_VALID, tci: 9},
			append(unhex(t, "0003"+"0001"+"0006"+"ssssssssssss0000"+"8100"+"0009"+"0800"), ip...), 40},
		{"cooked snaplen", pcapio.LinkTypeLinuxSLL, true, 18,
			ringPacket{data: ip, wireLen: 20, ifindex: 7, proto: 0x0800, hatype: 1, addr: mac(0x55)},
			unhex(t, "0000"+"0001"+"0006"+"ssssssssssss0000"+"0800"+"4500"), 36},
		{"outgoing on loopback skipped", pcapio.LinkTypeLinuxSLL, true, 65535,
			ringPacket{data: ip, wireLen: 20, ifindex: 1, pktType: unix.PACKET_OUTGOING, proto: 0x0800},
			nil, 0},
		{"outgoing elsewhere kept", pcapio.LinkTypeEthernet, false, 65535,
			ringPacket{data: eth, wireLen: 60, ifindex: 7, pktType: unix.PACKET_OUTGOING},
			eth, 60},
	}
	for _, tc := range tests {
		for _, bound := range []bool{false, true} {
			if bound && (tc.cooked || tc.want == nil) {
				continue // cooked and loopback captures always read sockaddr_ll
			}
			name := tc.name
			if bound {
				name += " bound"
			}
			t.Run(name, func(t *testing.T) {
				checkRingPacket(t, tc.lt, tc.cooked, bound, tc.snaplen, tc.pkt, tc.want, tc.wireLen)
			})
		}
	}
}

// checkRingPacket puts pkt into a fake ring's first block and a marker in
// the second, and checks what NextZeroCopy makes of them: want (nil: the
// packet is skipped) with on-wire length wireLen. bound means a capture on
// one interface (index 7), which does not read sockaddr_ll.
func checkRingPacket(t *testing.T, lt pcapio.LinkType, cooked, bound bool, snaplen int, pkt ringPacket, want []byte, wireLen int) {
	s := fakeSource(t, lt, cooked, snaplen, 2, 4096)
	if bound {
		s.readSLL, s.ifindex, s.loIndex = false, 7, -1
	}
	defer s.Close()
	pkt.sec, pkt.nsec = 1700000000, 123456789
	marker := ringPacket{data: make([]byte, 14), wireLen: 14, ifindex: 7, proto: 0x0800, sec: 1, nsec: 2}
	putBlock(s.ring[:4096], []ringPacket{pkt}, cooked)
	putBlock(s.ring[4096:], []ringPacket{marker}, cooked)
	p, err := s.NextZeroCopy()
	if err != nil {
		t.Fatal(err)
	}
	if want == nil {
		if p.Timestamp.Unix() != 1 {
			t.Fatalf("got %x, want the packet skipped", p.Data)
		}
		return
	}
	if !bytes.Equal(p.Data, want) || p.Length != wireLen {
		t.Errorf("got %x (Length %d)\nwant %x (Length %d)", p.Data, p.Length, want, wireLen)
	}
	if ts := time.Unix(1700000000, 123456789); !p.Timestamp.Equal(ts) {
		t.Errorf("Timestamp %v, want %v", p.Timestamp, ts)
	}
	if p.LinkType != lt || p.InterfaceIndex != int(pkt.ifindex) {
		t.Errorf("LinkType %s InterfaceIndex %d, want %s %d", p.LinkType, p.InterfaceIndex, lt, pkt.ifindex)
	}
	if st := binary.NativeEndian.Uint32(s.ring[blockStatusOff:]); st != unix.TP_STATUS_USER {
		t.Errorf("block released (status %d) while its packet is still in use", st)
	}
	if p, err = s.NextZeroCopy(); err != nil || p.Timestamp.Unix() != 1 {
		t.Errorf("next packet %+v, %v: want the marker from block 1", p, err)
	}
	if st := binary.NativeEndian.Uint32(s.ring[blockStatusOff:]); st != unix.TP_STATUS_KERNEL {
		t.Errorf("block 0 status %d after moving on, want TP_STATUS_KERNEL", st)
	}
}

// TestRingEmptyBlocks checks that blocks retired empty on timeout are
// skipped and handed back.
func TestRingEmptyBlocks(t *testing.T) {
	s := fakeSource(t, pcapio.LinkTypeEthernet, false, 65535, 4, 4096)
	defer s.Close()
	eth := bytes.Repeat([]byte{1}, 60)
	putBlock(s.ring[0:4096], nil, false)
	putBlock(s.ring[4096:8192], nil, false)
	putBlock(s.ring[8192:12288], []ringPacket{{data: eth, wireLen: 60}, {data: eth, wireLen: 61}}, false)
	for _, want := range []int{60, 61} {
		p, err := s.NextZeroCopy()
		if err != nil || p.Length != want {
			t.Fatalf("got Length %d, %v; want %d", p.Length, err, want)
		}
	}
	for b := range 2 {
		if st := binary.NativeEndian.Uint32(s.ring[b*4096+blockStatusOff:]); st != unix.TP_STATUS_KERNEL {
			t.Errorf("empty block %d not handed back (status %d)", b, st)
		}
	}
	// Block 3 is the kernel's: the reader blocks until Close.
	done := readInBackground(s)
	time.Sleep(20 * time.Millisecond)
	s.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
}

// BenchmarkRingWalk measures NextZeroCopy's user-space cost per packet on
// an in-memory ring (no kernel, no cache misses from another CPU).
func BenchmarkRingWalk(b *testing.B) {
	const perBlock = 256 // 160 bytes each in the ring
	const blockSize = 64 << 10
	s := fakeSource(b, pcapio.LinkTypeEthernet, false, 65535, 2, blockSize)
	s.readSLL, s.ifindex, s.loIndex = false, 7, -1 // as for a capture on one Ethernet interface
	defer s.Close()
	frame := make([]byte, 60)
	pkts := make([]ringPacket, perBlock)
	for i := range pkts {
		pkts[i] = ringPacket{data: frame, wireLen: 60, ifindex: 7}
	}
	putBlock(s.ring[:blockSize], pkts, false)
	putBlock(s.ring[blockSize:], pkts, false)
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	cpu0 := threadCPU()
	for i := 0; i < b.N; i++ {
		if i%perBlock == 0 {
			// Hand the block the reader moves to next back to "user
			// space", as the kernel does once it has filled it (the
			// reader changed nothing else in it).
			k := (i / perBlock) % 2
			binary.NativeEndian.PutUint32(s.ring[k*blockSize+blockStatusOff:], unix.TP_STATUS_USER)
		}
		if _, err := s.NextZeroCopy(); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time, unlike ns/op, does not count time the thread waited for a
	// CPU on a busy machine.
	b.ReportMetric(float64((threadCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/pkt")
}
