package remote

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// hostileServer is a fake rpcap server on loopback that answers each
// request with what answer returns for its type (nil: the real server's
// usual reply), and on the data connection writes data.
type hostileServer struct {
	ln, dataLn net.Listener
	answer     func(typ uint8, payload []byte) []byte
	data       []byte
	closeData  bool   // close the data connection after data
	afterStart []byte // written on the control connection once the data is and the filter updated

	mu        sync.Mutex
	dataConns []net.Conn
}

func startHostile(t *testing.T, hs *hostileServer) string {
	t.Helper()
	var err error
	if hs.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if hs.dataLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hs.ln.Close()
		hs.dataLn.Close()
		hs.mu.Lock()
		defer hs.mu.Unlock()
		for _, d := range hs.dataConns {
			d.Close()
		}
	})
	go func() {
		for {
			c, err := hs.ln.Accept()
			if err != nil {
				return
			}
			go hs.serve(c)
		}
	}()
	return hs.ln.Addr().String()
}

func (hs *hostileServer) serve(c net.Conn) {
	defer c.Close()
	dataSent := make(chan struct{})
	for {
		h, p, err := readRPCAPMsg(c, 1<<20)
		if err != nil || h.Type == rpcapMsgClose {
			return
		}
		var reply []byte
		if hs.answer != nil {
			reply = hs.answer(h.Type, p)
		}
		if reply == nil {
			reply = hs.usual(h.Type)
		}
		if _, err := c.Write(reply); err != nil {
			return
		}
		switch h.Type {
		case rpcapMsgStartCapReq:
			go func() {
				defer close(dataSent)
				d, err := hs.dataLn.Accept()
				if err != nil {
					return
				}
				hs.mu.Lock()
				hs.dataConns = append(hs.dataConns, d) // kept open, and from the collector
				hs.mu.Unlock()
				d.Write(hs.data)
				if hs.closeData {
					d.Close()
				}
			}()
		case rpcapMsgUpdFilterReq:
			// The capture has started, the client reads the control
			// connection on its own now.
			if hs.afterStart != nil {
				go func() {
					<-dataSent
					time.Sleep(20 * time.Millisecond)
					c.Write(hs.afterStart)
				}()
			}
		}
	}
}

// usual is a well-formed reply to a request of type typ.
func (hs *hostileServer) usual(typ uint8) []byte {
	msg := func(value uint16, p []byte) []byte {
		return append(rpcapHeader{Type: typ | rpcapReply, Value: value, Plen: uint32(len(p))}.append(nil), p...)
	}
	switch typ {
	case rpcapMsgAuthReq:
		return msg(0, []byte{0, 0, 0, 0, 0xd4, 0xc3, 0xb2, 0xa1})
	case rpcapMsgFindAllIfReq:
		return msg(1, rpcapIfEntry("eth0", "", 2, nil))
	case rpcapMsgOpenReq:
		return msg(0, []byte{0, 0, 0, 1, 0, 0, 0, 0}) // Ethernet
	case rpcapMsgStartCapReq:
		port := hs.dataLn.Addr().(*net.TCPAddr).Port
		return msg(0, []byte{0, 0, 0, 0, byte(port >> 8), byte(port), 0, 0})
	case rpcapMsgStatsReq:
		return msg(0, make([]byte, rpcapStatsLen))
	}
	return msg(0, nil)
}

// answering returns an answer function giving reply to requests of type
// typ, and the usual reply to the others.
func answering(typ uint8, reply []byte) func(uint8, []byte) []byte {
	return func(t uint8, _ []byte) []byte {
		if t == typ {
			return reply
		}
		return nil
	}
}

// rpcapIfEntry is one interface of a FINDALLIF reply.
func rpcapIfEntry(name, desc string, flags uint32, addrs [][]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(name)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(desc)))
	b = binary.BigEndian.AppendUint32(b, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(len(addrs)))
	b = append(b, 0, 0)
	b = append(b, name...)
	b = append(b, desc...)
	for _, a := range addrs {
		b = append(b, a...)
	}
	return b
}

// rpcapPacketMsg is a PACKET message.
func rpcapPacketMsg(plen, caplen, length, npkt uint32, data []byte) []byte {
	b := rpcapHeader{Type: rpcapMsgPacket, Plen: plen}.append(nil)
	for _, v := range []uint32{1700000000, 5, caplen, length, npkt} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return append(b, data...)
}

// goodPacket is a well-formed PACKET message of n bytes.
func goodPacket(n, npkt int) []byte {
	return rpcapPacketMsg(uint32(20+n), uint32(n), uint32(n), uint32(npkt), make([]byte, n))
}

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestRPCAPHostileControl: replies with absurd lengths, broken fields or
// the wrong type each end in an error that names the fault, without
// allocating what the server claims.
func TestRPCAPHostileControl(t *testing.T) {
	huge := func(typ uint8) []byte {
		return rpcapHeader{Type: typ | rpcapReply, Plen: 0xfffffff0}.append(nil)
	}
	withPayload := func(typ uint8, value uint16, p []byte) []byte {
		return append(rpcapHeader{Type: typ | rpcapReply, Value: value, Plen: uint32(len(p))}.append(nil), p...)
	}
	addr4 := make([]byte, rpcapIfAddrLen)
	binary.BigEndian.PutUint16(addr4, rpcapAFInet)
	copy(addr4[4:], []byte{192, 0, 2, 7})
	binary.BigEndian.PutUint16(addr4[rpcapSockaddrLen:], rpcapAFInet)
	copy(addr4[rpcapSockaddrLen+4:], []byte{255, 255, 255, 0})
	cases := []struct {
		name string
		typ  uint8
		// reply to the request of type typ
		reply []byte
		want  string // in the error
	}{
		{"auth reply of 4 GiB", rpcapMsgAuthReq, huge(rpcapMsgAuthReq), "claims 4294967280 bytes"},
		{"auth reply of 5 bytes", rpcapMsgAuthReq, withPayload(rpcapMsgAuthReq, 0, []byte{0, 0, 0, 0, 0}), "AUTH reply of 5 bytes"},
		{"auth byte-order magic", rpcapMsgAuthReq, withPayload(rpcapMsgAuthReq, 0, []byte{0, 0, 0, 0, 1, 2, 3, 4}), "byte-order magic is 0x01020304"},
		{"auth versions inverted", rpcapMsgAuthReq, withPayload(rpcapMsgAuthReq, 0, []byte{2, 1}), "lowest protocol version (2) is above its highest (1)"},
		{"auth versions too new", rpcapMsgAuthReq, withPayload(rpcapMsgAuthReq, 0, []byte{3, 5}), "speaks protocol versions 3 to 5"},
		{"auth answered by an open reply", rpcapMsgAuthReq, withPayload(rpcapMsgOpenReq, 0, nil), "OPEN reply came in answer to a AUTH request"},
		{"error of 4 GiB", rpcapMsgAuthReq, rpcapHeader{Type: rpcapMsgError, Plen: 0xffffffff}.append(nil), "ERROR message claims 4294967295 bytes"},
		{"interface list of 4 GiB", rpcapMsgFindAllIfReq, huge(rpcapMsgFindAllIfReq), "claims 4294967280 bytes"},
		{"interface list shorter than its count", rpcapMsgFindAllIfReq, withPayload(rpcapMsgFindAllIfReq, 3, rpcapIfEntry("eth0", "", 2, nil)), "ends inside interface 2 of 3"},
		{"interface name past the end", rpcapMsgFindAllIfReq, withPayload(rpcapMsgFindAllIfReq, 1, rpcapIfEntry("eth0", "", 2, nil)[:14]), "a 4-byte name"},
		{"65535 addresses claimed", rpcapMsgFindAllIfReq, withPayload(rpcapMsgFindAllIfReq, 1, append(rpcapIfEntry("eth0", "", 2, nil)[:8], 0xff, 0xff, 0, 0, 'e', 't', 'h', '0')), "65535 addresses"},
		{"bytes after the interfaces", rpcapMsgFindAllIfReq, withPayload(rpcapMsgFindAllIfReq, 1, append(rpcapIfEntry("eth0", "", 2, [][]byte{addr4}), 9)), "1 bytes follow the last of 1 interfaces"},
		{"nameless interface", rpcapMsgFindAllIfReq, withPayload(rpcapMsgFindAllIfReq, 1, rpcapIfEntry("", "x", 2, nil)), "has no name"},
		{"open reply of 4 bytes", rpcapMsgOpenReq, withPayload(rpcapMsgOpenReq, 0, []byte{0, 0, 0, 1}), "OPEN reply of 4 bytes"},
		{"open reply of 4 GiB", rpcapMsgOpenReq, huge(rpcapMsgOpenReq), "claims 4294967280 bytes"},
		{"negative link type", rpcapMsgOpenReq, withPayload(rpcapMsgOpenReq, 0, []byte{0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0}), "link type -2"},
		{"startcap reply of 2 bytes", rpcapMsgStartCapReq, withPayload(rpcapMsgStartCapReq, 0, []byte{0, 0}), "STARTCAP reply of 2 bytes"},
		{"startcap reply with no port", rpcapMsgStartCapReq, withPayload(rpcapMsgStartCapReq, 0, make([]byte, 8)), "names no data port"},
		{"reply in another version", rpcapMsgOpenReq, append(rpcapHeader{Ver: 7, Type: rpcapMsgOpenReq | rpcapReply, Plen: 8}.append(nil), 0, 0, 0, 1, 0, 0, 0, 0), "protocol version 7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := startHostile(t, &hostileServer{answer: answering(tc.typ, tc.reply)})
			var err error
			n := allocated(func() {
				var h *RPCAPHost
				h, err = DialRPCAP(RPCAPConfig{Addr: addr, Timeout: 2 * time.Second})
				if err != nil {
					return
				}
				defer h.Close()
				if _, err = h.Interfaces(); err != nil {
					return
				}
				var c *capture.Capture
				c, err = h.Capture(CaptureOptions{Interface: "eth0"})
				if err == nil {
					c.Close()
				}
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
			if strings.Contains(tc.want, "bytes") && strings.Contains(tc.want, "4294967") && !errors.Is(err, ErrProtocol) {
				t.Errorf("err = %v, want ErrProtocol", err)
			}
			if n > 4<<20 {
				t.Errorf("%d bytes allocated for a hostile reply", n)
			}
		})
	}
}

// TestRPCAPHostileData: broken PACKET messages end the capture with an
// error naming the fault, after the good packets before them.
func TestRPCAPHostileData(t *testing.T) {
	good := append(goodPacket(60, 1), goodPacket(70, 2)...)
	cases := []struct {
		name string
		bad  []byte
		want string
	}{
		{"caplen over the snap length", rpcapPacketMsg(20+300000, 300000, 300000, 3, nil), "more than the snap length 262144"},
		{"plen and caplen disagree", rpcapPacketMsg(20+10, 50, 50, 3, make([]byte, 50)), "holds 30 bytes, but its header counts 50"},
		{"plen shorter than the header", rpcapPacketMsg(4, 0, 0, 3, nil), "shorter than its 20-byte header"},
		{"on-wire length under caplen", rpcapPacketMsg(20+10, 10, 5, 3, make([]byte, 10)), "on-wire length of 5"},
		{"microseconds over a second", append(rpcapHeader{Type: rpcapMsgPacket, Plen: 20}.append(nil), 0, 0, 0, 1, 0, 0x0f, 0x42, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3), "1000000 microseconds"},
		{"another message type", rpcapHeader{Type: rpcapMsgError, Plen: 3}.append(nil), "a ERROR message on the data connection"},
		{"cut inside a packet", goodPacket(100, 3)[:50], "ended after 2 packets"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := startHostile(t, &hostileServer{data: append(append([]byte(nil), good...), tc.bad...), closeData: true})
			c, err := OpenRPCAP(RPCAPConfig{Addr: addr, Timeout: 2 * time.Second}, CaptureOptions{Interface: "eth0"})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i := range 2 {
				p, err := c.Next()
				if err != nil || len(p.Data) != 60+10*i || p.LinkType != pcapio.LinkTypeEthernet {
					t.Fatalf("packet %d: %d bytes, %v", i+1, len(p.Data), err)
				}
			}
			var n uint64
			n = allocated(func() { _, err = c.Next() })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
			if n > 1<<20 {
				t.Errorf("%d bytes allocated for a hostile packet", n)
			}
			if _, again := c.Next(); again == nil || again.Error() != err.Error() {
				t.Errorf("Next again = %v, want the same error", again)
			}
		})
	}
}

// TestRPCAPServerErrorWhileCapturing: an ERROR the server sends unasked
// while capturing (rpcapd does when pcap_next_ex fails there) ends the
// capture with its text, though the data connection stays open.
func TestRPCAPServerErrorWhileCapturing(t *testing.T) {
	text := "Error reading the packets: The interface went down"
	hs := &hostileServer{data: goodPacket(60, 1),
		afterStart: append(rpcapHeader{Type: rpcapMsgError, Value: rpcapErrReadEx, Plen: uint32(len(text))}.append(nil), text...)}
	addr := startHostile(t, hs)
	c, err := OpenRPCAP(RPCAPConfig{Addr: addr, Timeout: 2 * time.Second}, CaptureOptions{Interface: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Next(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := c.Next(); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), text) || !strings.Contains(err.Error(), "failed there") {
			t.Errorf("Next = %v, want the server's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked 5 s after the server's error")
	}
}

// TestRPCAPNoAnswer: a server that accepts and says nothing fails the
// dial after the timeout, with ErrConnectionLost.
func TestRPCAPNoAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
		}
	}()
	start := time.Now()
	_, err = DialRPCAP(RPCAPConfig{Addr: ln.Addr().String(), Timeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrConnectionLost) || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("err = %v, want ErrConnectionLost: did not answer", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestRPCAPServerErrors: the server's refusals map to the package's
// errors, with what to do.
func TestRPCAPServerErrors(t *testing.T) {
	errMsg := func(code uint16, text string) []byte {
		return append(rpcapHeader{Type: rpcapMsgError, Value: code, Plen: uint32(len(text))}.append(nil), text...)
	}
	cases := []struct {
		name   string
		typ    uint8
		reply  []byte
		user   string
		target error
		want   string
	}{
		{"null auth refused", rpcapMsgAuthReq, errMsg(rpcapErrAuthFailed, "Authentication failed; NULL authentication not permitted."), "", ErrAuthentication, "start rpcapd with -n"},
		{"password refused", rpcapMsgAuthReq, errMsg(rpcapErrAuthFailed, "Authentication failed"), "bob", ErrAuthentication, `refused user "bob"`},
		{"host not allowed", rpcapMsgAuthReq, errMsg(rpcapErrHostNoAuth, "The host is not in the allowed host list."), "", ErrAuthentication, "-l host list"},
		{"TLS required", rpcapMsgAuthReq, errMsg(rpcapErrTLSRequired, "TLS is required by this server"), "", ErrAuthentication, "requires TLS"},
		{"no interface", rpcapMsgOpenReq, errMsg(rpcapErrOpen, "eth0: No such device exists (SIOCGIFINDEX: No such device)"), "", ErrNoSuchInterface, `no interface "eth0"`},
		{"permission", rpcapMsgOpenReq, errMsg(rpcapErrOpen, "eth0: You don't have permission to perform this capture on that device (socket: Operation not permitted)"), "", ErrPermissionDenied, "may not capture on eth0"},
		{"control characters", rpcapMsgOpenReq, errMsg(rpcapErrOpen, "bad\x1b[31mred\x00"), "", nil, "bad?[31mred?"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := startHostile(t, &hostileServer{answer: answering(tc.typ, tc.reply)})
			c, err := OpenRPCAP(RPCAPConfig{Addr: addr, User: tc.user, Password: "pw", Timeout: 2 * time.Second}, CaptureOptions{Interface: "eth0"})
			if err == nil {
				c.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("err = %v, want %v saying %q", err, tc.target, tc.want)
			}
		})
	}
}

// TestRPCAPSixteenBitLength: rpcapd (libpcap 1.10) writes a PACKET
// message's length through a 16-bit variable, so a packet over 65515
// bytes comes with the low 16 bits of its true length; the client reads
// the packet whole and the next one in step (TestRPCAPJumboPacket shows
// a real rpcapd doing it).
func TestRPCAPSixteenBitLength(t *testing.T) {
	const n = 70000
	jumbo := rpcapPacketMsg((20+n)&0xffff, n, n, 1, make([]byte, n))
	addr := startHostile(t, &hostileServer{data: append(jumbo, goodPacket(60, 2)...)})
	c, err := OpenRPCAP(RPCAPConfig{Addr: addr, Timeout: 2 * time.Second}, CaptureOptions{Interface: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, want := range []int{n, 60} {
		p, err := c.Next()
		if err != nil || len(p.Data) != want {
			t.Fatalf("packet %d: %d bytes, %v; want %d", i+1, len(p.Data), err, want)
		}
	}
}

// TestRPCAPStatsUnanswered: a server that stops answering while capturing
// fails Stats after the timeout, and the capture ends with it (a late
// reply would be taken for the next request's).
func TestRPCAPStatsUnanswered(t *testing.T) {
	addr := startHostile(t, &hostileServer{answer: answering(rpcapMsgStatsReq, []byte{})})
	c, err := OpenRPCAP(RPCAPConfig{Addr: addr, Timeout: 300 * time.Millisecond}, CaptureOptions{Interface: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Stats(); !errors.Is(err, ErrConnectionLost) || !strings.Contains(err.Error(), "did not answer a STATS request") {
		t.Fatalf("Stats = %v, want ErrConnectionLost", err)
	}
	done := make(chan error, 1)
	go func() { _, err := c.Next(); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrConnectionLost) {
			t.Errorf("Next = %v, want ErrConnectionLost", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked after the server stopped answering")
	}
}

// TestRPCAPFilterOptionsSystem: the server's system, told from its
// interface list, decides how a filter compiles; cooked interfaces keep
// their header's offsets everywhere.
func TestRPCAPFilterOptionsSystem(t *testing.T) {
	list := func(names ...string) []byte {
		var p []byte
		for _, n := range names {
			p = append(p, rpcapIfEntry(n, "", 2, nil)...)
		}
		return append(rpcapHeader{Type: rpcapMsgFindAllIfReq | rpcapReply, Value: uint16(len(names)), Plen: uint32(len(p))}.append(nil), p...)
	}
	open := func(dlt byte) []byte {
		return append(rpcapHeader{Type: rpcapMsgOpenReq | rpcapReply, Plen: 8}.append(nil), 0, 0, 0, dlt, 0, 0, 0, 0)
	}
	for _, tc := range []struct {
		name   string
		ifs    []byte
		dlt    byte // DLT_EN10MB 1, DLT_NULL 0, DLT_LINUX_SLL 113
		target filter.Target
		af6    uint32
		lt     pcapio.LinkType
	}{
		{"linux", list("eth0", "any", "lo"), 1, filter.TargetLinuxSocket, 0, pcapio.LinkTypeEthernet},
		{"linux cooked", list("eth0", "any"), 113, filter.TargetFile, 0, pcapio.LinkTypeLinuxSLL},
		{"windows", list(`\Device\NPF_{8A4B2E0C-1D2E-4F5A-9B6C-7D8E9F0A1B2C}`, `\Device\NPF_Loopback`), 0, filter.TargetFile, filter.AFInet6BSD, pcapio.LinkTypeNull},
		{"macOS", list("en0", "lo0"), 0, filter.TargetFile, filter.AFInet6Darwin, pcapio.LinkTypeNull},
		{"unknown", list("eth0"), 1, filter.TargetFile, 0, pcapio.LinkTypeEthernet},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := startHostile(t, &hostileServer{answer: func(typ uint8, _ []byte) []byte {
				switch typ {
				case rpcapMsgFindAllIfReq:
					return tc.ifs
				case rpcapMsgOpenReq:
					return open(tc.dlt)
				}
				return nil
			}})
			h, err := DialRPCAP(RPCAPConfig{Addr: addr, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			opts, err := h.FilterOptions("x", 96)
			if err != nil || opts.Target != tc.target || opts.LiveAFInet6 != tc.af6 || opts.LinkType != tc.lt || opts.Snaplen != 96 {
				t.Errorf("FilterOptions = %+v, %v; want %v, target %v, AF_INET6 %d", opts, err, tc.lt, tc.target, tc.af6)
			}
		})
	}
}

// TestRPCAPStatsRateLimited: asking for the counts after every packet
// (as pkttap-web's store may, after every batch) costs a round trip to the
// server at most every statsEvery.
func TestRPCAPStatsRateLimited(t *testing.T) {
	var mu sync.Mutex
	asked := 0
	addr := startHostile(t, &hostileServer{answer: func(typ uint8, _ []byte) []byte {
		if typ == rpcapMsgStatsReq {
			mu.Lock()
			asked++
			mu.Unlock()
		}
		return nil
	}})
	c, err := OpenRPCAP(RPCAPConfig{Addr: addr, Timeout: 2 * time.Second}, CaptureOptions{Interface: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	for range 200 {
		if _, err := c.Stats(); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if most := int(time.Since(start)/statsEvery) + 1; asked < 1 || asked > most {
		t.Errorf("200 calls of Stats in %v asked the server %d times, want 1 to %d", time.Since(start), asked, most)
	}
}
