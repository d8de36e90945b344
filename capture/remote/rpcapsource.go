package remote

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
	"golang.org/x/net/bpf"
)

// acceptAll is the program sent when there is nothing to filter:
// rpcapd refuses an empty one.
func acceptAll(snaplen uint32) []bpf.RawInstruction {
	return []bpf.RawInstruction{{Op: 0x06, K: snaplen}} // ret #snaplen
}

// rpcapSource is a running rpcap capture.
type rpcapSource struct {
	h        *RPCAPHost
	ownsHost bool
	iface    string
	lt       pcapio.LinkType
	snaplen  uint32
	user     string // the user's filter
	opts     filter.Options

	data    net.Conn // TCP data connection
	dr      *bufio.Reader
	udp     *net.UDPConn // UDP data socket
	udpFrom net.IP       // the server's address, the only source accepted
	udpBuf  []byte

	// The control connection while capturing: a reader goroutine passes
	// replies on; an ERROR that answers nothing ends the capture.
	replies  chan ctrlMsg
	ctrlDone chan struct{}

	mu        sync.Mutex
	failed    error // why the capture ended, once it did
	closed    bool
	final     *capture.Stats
	received  uint64
	nextNpkt  uint32 // UDP: the npkt expected next
	netDrops  uint64 // UDP: datagrams lost
	pendingRq uint8  // the type of the request waiting for its reply, 0 for none

	lastStats    *capture.Stats // the server's last counts (with netDrops then)
	lastAsked    time.Time
	lastNetDrops uint64
}

// ctrlMsg is a message read from the control connection.
type ctrlMsg struct {
	h   rpcapHeader
	p   []byte
	err error
}

// start sends STARTCAP, opens the data connection and starts reading the
// control connection. It runs with h.mu held.
func (s *rpcapSource) start(promisc bool, user *filter.Program) error {
	h := s.h
	var flags uint16
	if promisc {
		flags |= rpcapFlagPromisc
	}
	var port uint16
	var ln net.Listener
	switch h.cfg.Transport {
	case DataTCPServerOpen, DataUDP:
		local, ok1 := h.conn.LocalAddr().(*net.TCPAddr)
		peer, ok2 := h.conn.RemoteAddr().(*net.TCPAddr)
		if !ok1 || !ok2 {
			return fmt.Errorf("remote: the rpcap server cannot reach back through this connection (it is not plain TCP): use DataTCP")
		}
		if h.cfg.Transport == DataUDP {
			flags |= rpcapFlagDgram
			u, err := net.ListenUDP("udp", &net.UDPAddr{IP: local.IP})
			if err != nil {
				return fmt.Errorf("remote: a UDP port for the rpcap data: %w", err)
			}
			s.udp, s.udpFrom = u, peer.IP
			s.udpBuf = make([]byte, min(rpcapHeaderLen+rpcapPktHeaderLen+int(s.snaplen), 1<<16))
			s.nextNpkt = 1
			port = uint16(u.LocalAddr().(*net.UDPAddr).Port)
		} else {
			flags |= rpcapFlagServerOpen
			l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: local.IP})
			if err != nil {
				return fmt.Errorf("remote: a TCP port for the rpcap data: %w", err)
			}
			ln, port = l, uint16(l.Addr().(*net.TCPAddr).Port)
			defer l.Close()
		}
	}
	prog := s.program(user, "")
	timeout := h.cfg.ReadTimeout
	if timeout <= 0 {
		timeout = 100 * time.Millisecond
	}
	req := appendRPCAPStartCap(nil, h.ver, s.snaplen, uint32(timeout.Milliseconds()), flags, port, prog)
	_, p, err := h.roundTrip(req, rpcapMsgStartCapReq, h.ver, rpcapStartReplyLen+rpcapMaxExtra)
	if err != nil {
		s.closeData()
		return h.captureError(s.iface, "start capturing on", err)
	}
	if len(p) < rpcapStartReplyLen {
		s.closeData()
		return fmt.Errorf("remote: start capturing on %s: %w", s.iface, protoErrorf("a STARTCAP reply of %d bytes, want %d", len(p), rpcapStartReplyLen))
	}
	switch h.cfg.Transport {
	case DataTCP:
		dport := uint16(p[4])<<8 | uint16(p[5])
		host, _, _ := net.SplitHostPort(h.addr)
		if dport == 0 {
			err = protoErrorf("the STARTCAP reply names no data port")
		} else {
			s.data, err = h.dial(net.JoinHostPort(host, fmt.Sprint(dport)))
		}
	case DataTCPServerOpen:
		s.data, err = acceptFrom(ln.(*net.TCPListener), h.conn.RemoteAddr().(*net.TCPAddr).IP, h.timeout)
	}
	if err != nil {
		h.endCapture()
		s.closeData()
		return fmt.Errorf("%w: open the rpcap data connection from %s: %v (is a firewall between the hosts? try another DataTransport)", ErrConnectionLost, h.addr, err)
	}
	if s.data != nil {
		s.dr = bufio.NewReaderSize(s.data, 256<<10)
	}
	// Now that the data connection's ports are known, exclude it too.
	if term := s.dataTerm(); term != "" && !h.cfg.IncludeOwnTraffic {
		if prog := s.program(user, term); prog != nil {
			req := rpcapHeader{Ver: h.ver, Type: rpcapMsgUpdFilterReq, Plen: uint32(8 + len(prog)*rpcapBPFInsnLen)}.append(nil)
			req = appendRPCAPFilter(req, prog)
			if _, _, err := h.roundTrip(req, rpcapMsgUpdFilterReq, h.ver, rpcapMaxExtra); err != nil {
				h.endCapture()
				s.closeData()
				return fmt.Errorf("remote: set the filter on %s at %s: %w", s.iface, h.addr, err)
			}
		}
	}
	s.replies, s.ctrlDone = make(chan ctrlMsg, 1), make(chan struct{})
	go s.readControl()
	return nil
}

// acceptFrom accepts the first connection from ip on ln within timeout;
// connections from elsewhere are closed.
func acceptFrom(ln *net.TCPListener, ip net.IP, timeout time.Duration) (net.Conn, error) {
	ln.SetDeadline(time.Now().Add(timeout))
	for {
		c, err := ln.AcceptTCP()
		if err != nil {
			return nil, err
		}
		if c.RemoteAddr().(*net.TCPAddr).IP.Equal(ip) {
			return c, nil
		}
		c.Close()
	}
}

// endCapture asks the server to stop the capture it started (before the
// control reader runs), ignoring the answer.
func (h *RPCAPHost) endCapture() {
	h.roundTrip(rpcapHeader{Ver: h.ver, Type: rpcapMsgEndCapReq}.append(nil), rpcapMsgEndCapReq, h.ver, rpcapMaxExtra)
}

// program returns the program to send: the user's filter, and unless the
// config says otherwise, not the control connection's packets nor, once
// its addresses are known (dataTerm), the data connection's. With a
// dataTerm it returns nil when there is nothing new to send.
func (s *rpcapSource) program(user *filter.Program, dataTerm string) []bpf.RawInstruction {
	if !s.h.cfg.IncludeOwnTraffic {
		if own := connExclusion(s.h.conn.LocalAddr(), s.h.conn.RemoteAddr(), "tcp"); own != "" {
			if dataTerm != "" {
				own += " and not (" + dataTerm + ")"
			}
			expr := own
			if user != nil {
				expr = "(" + s.user + ") and " + own
			}
			if prog, err := filter.Compile(expr, s.opts); err == nil {
				return prog.Raw
			}
		}
	}
	switch {
	case dataTerm != "":
		return nil
	case user != nil:
		return user.Raw
	}
	return acceptAll(s.snaplen)
}

// dataTerm returns a filter term for the data connection's packets, ""
// when it has no addresses to tell them by.
func (s *rpcapSource) dataTerm() string {
	switch {
	case s.data != nil:
		return connTerm(s.data.LocalAddr(), s.data.RemoteAddr(), "tcp")
	case s.udp != nil:
		return connTerm(s.udp.LocalAddr(), &net.UDPAddr{IP: s.udpFrom}, "udp")
	}
	return ""
}

// connExclusion returns "not (TERM)" for a connection, or "".
func connExclusion(local, remote net.Addr, proto string) string {
	if t := connTerm(local, remote, proto); t != "" {
		return "not (" + t + ")"
	}
	return ""
}

// connTerm returns a filter term matching a connection's packets, both
// ways: its two hosts and its ports (the remote's only when known), or ""
// when the addresses are not IP (a tunnel).
func connTerm(local, remote net.Addr, proto string) string {
	ip := func(a net.Addr) (net.IP, int) {
		switch a := a.(type) {
		case *net.TCPAddr:
			return a.IP, a.Port
		case *net.UDPAddr:
			return a.IP, a.Port
		}
		return nil, 0
	}
	lip, lport := ip(local)
	rip, rport := ip(remote)
	if lip == nil || rip == nil || lip.IsUnspecified() || rip.IsUnspecified() {
		return ""
	}
	t := fmt.Sprintf("host %s and host %s and %s port %d", lip, rip, proto, lport)
	if rport != 0 {
		t += fmt.Sprintf(" and %s port %d", proto, rport)
	}
	return t
}

// appendRPCAPFilter appends a filter's header and instructions.
func appendRPCAPFilter(b []byte, raw []bpf.RawInstruction) []byte {
	full := appendRPCAPStartCap(nil, 0, 0, 0, 0, 0, raw)
	return append(b, full[rpcapHeaderLen+12:]...)
}

// readControl reads the control connection while the capture runs: a
// message while a request waits is its reply; an ERROR at any other time
// (the server's capture failed) ends the capture, as does the end of the
// connection. It returns after the ENDCAP reply.
func (s *rpcapSource) readControl() {
	defer close(s.ctrlDone)
	for {
		hd, p, err := readRPCAPMsg(s.h.r, rpcapMaxControl)
		s.mu.Lock()
		pendingType := s.pendingRq
		s.pendingRq = 0
		s.mu.Unlock()
		pending := pendingType != 0
		if pending {
			s.replies <- ctrlMsg{h: hd, p: p, err: err}
		}
		switch {
		case err != nil:
			if !pending {
				s.fail(s.h.lost(err))
			}
			return
		case pendingType == rpcapMsgEndCapReq:
			return
		case hd.Type == rpcapMsgError && !pending:
			s.fail(fmt.Errorf("remote: the capture on %s at %s failed there: %w", s.iface, s.h.addr, parseRPCAPError(hd, p)))
		case !pending:
			s.fail(fmt.Errorf("remote: capture on %s at %s: %w", s.iface, s.h.addr, protoErrorf("an unasked-for %s on the control connection", rpcapMsgName(hd.Type))))
			return
		}
	}
}

// roundTrip sends a request while the capture runs and waits for the
// control reader to pass its reply on. It runs with h.mu held.
func (s *rpcapSource) roundTrip(req []byte, typ uint8, max uint32) (rpcapHeader, []byte, error) {
	select {
	case <-s.ctrlDone:
		return rpcapHeader{}, nil, fmt.Errorf("%w: the control connection to %s has ended", ErrConnectionLost, s.h.addr)
	default:
	}
	s.mu.Lock()
	s.pendingRq = typ
	s.mu.Unlock()
	s.h.conn.SetWriteDeadline(time.Now().Add(s.h.timeout))
	if _, err := s.h.conn.Write(req); err != nil {
		return rpcapHeader{}, nil, s.h.lost(err)
	}
	select {
	case m := <-s.replies:
		if m.err != nil {
			return m.h, nil, s.h.lost(m.err)
		}
		if m.h.Type != rpcapMsgError && m.h.Plen > max {
			return m.h, nil, protoErrorf("a %s of %d bytes, more than the %d it can hold", rpcapMsgName(m.h.Type), m.h.Plen, max)
		}
		return m.h, m.p, checkReply(m.h, m.p, typ, s.h.ver)
	case <-time.After(s.h.timeout):
		// A reply may still come, and would be taken for the next one's:
		// the control connection is of no more use.
		err := fmt.Errorf("%w: the rpcap server %s did not answer a %s request within %v", ErrConnectionLost, s.h.addr, rpcapMsgName(typ), s.h.timeout)
		s.fail(err)
		s.h.conn.Close()
		return rpcapHeader{}, nil, err
	}
}

// fail ends the capture with err, unless it has ended already, and wakes
// Next.
func (s *rpcapSource) fail(err error) {
	s.mu.Lock()
	if s.failed == nil {
		s.failed = err
	}
	s.mu.Unlock()
	s.closeData()
}

// closeData closes the data connection or socket.
func (s *rpcapSource) closeData() {
	if s.data != nil {
		s.data.Close()
	}
	if s.udp != nil {
		s.udp.Close()
	}
}

// Next returns the next packet from the data connection.
func (s *rpcapSource) Next() (pcapio.Packet, error) {
	var p pcapio.Packet
	var err error
	if s.udp != nil {
		p, err = s.nextUDP()
	} else {
		p, err = s.nextTCP()
	}
	if err == nil {
		s.mu.Lock()
		s.received++
		s.mu.Unlock()
		return p, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return p, capture.ErrClosed
	case s.failed != nil:
		return p, s.failed
	}
	if errors.Is(err, ErrProtocol) {
		s.failed = fmt.Errorf("remote: the rpcap data from %s after %d packets: %w", s.h.addr, s.received, err)
	} else {
		s.failed = fmt.Errorf("%w: the rpcap data connection from %s ended after %d packets (%v); those packets are good: reconnect to go on", ErrConnectionLost, s.h.addr, s.received, err)
	}
	go s.closeData()
	return p, s.failed
}

// nextTCP reads one PACKET message from the data connection.
func (s *rpcapSource) nextTCP() (pcapio.Packet, error) {
	var hb [rpcapHeaderLen + rpcapPktHeaderLen]byte
	if _, err := io.ReadFull(s.dr, hb[:rpcapHeaderLen]); err != nil {
		return pcapio.Packet{}, err
	}
	hd := parseRPCAPHeader(hb[:])
	if hd.Type != rpcapMsgPacket {
		return pcapio.Packet{}, protoErrorf("a %s message on the data connection", rpcapMsgName(hd.Type))
	}
	if hd.Plen < rpcapPktHeaderLen {
		return pcapio.Packet{}, protoErrorf("a PACKET message of %d bytes, shorter than its %d-byte header", hd.Plen, rpcapPktHeaderLen)
	}
	if _, err := io.ReadFull(s.dr, hb[rpcapHeaderLen:]); err != nil {
		return pcapio.Packet{}, unexpected(err)
	}
	ph, err := parseRPCAPPacketHeader(hd, hb[rpcapHeaderLen:], s.snaplen)
	if err != nil {
		return pcapio.Packet{}, err
	}
	data := make([]byte, ph.Caplen)
	if _, err := io.ReadFull(s.dr, data); err != nil {
		return pcapio.Packet{}, unexpected(err)
	}
	return s.packet(ph, data), nil
}

// nextUDP reads one PACKET datagram from the server.
func (s *rpcapSource) nextUDP() (pcapio.Packet, error) {
	for {
		n, from, err := s.udp.ReadFromUDP(s.udpBuf)
		if err != nil {
			return pcapio.Packet{}, err
		}
		if !from.IP.Equal(s.udpFrom) {
			continue // not the server's
		}
		b := s.udpBuf[:n]
		if n < rpcapHeaderLen+rpcapPktHeaderLen {
			return pcapio.Packet{}, protoErrorf("a %d-byte datagram, shorter than a PACKET message's headers", n)
		}
		hd := parseRPCAPHeader(b)
		if hd.Type != rpcapMsgPacket {
			return pcapio.Packet{}, protoErrorf("a %s message in a datagram", rpcapMsgName(hd.Type))
		}
		if uint64(hd.Plen)+rpcapHeaderLen != uint64(n) {
			return pcapio.Packet{}, protoErrorf("a %d-byte datagram whose message claims %d bytes", n, uint64(hd.Plen)+rpcapHeaderLen)
		}
		ph, err := parseRPCAPPacketHeader(hd, b[rpcapHeaderLen:], s.snaplen)
		if err != nil {
			return pcapio.Packet{}, err
		}
		s.mu.Lock()
		if ph.Npkt > s.nextNpkt {
			s.netDrops += uint64(ph.Npkt - s.nextNpkt)
		}
		if ph.Npkt >= s.nextNpkt {
			s.nextNpkt = ph.Npkt + 1
		}
		s.mu.Unlock()
		data := append([]byte(nil), b[rpcapHeaderLen+rpcapPktHeaderLen:]...)
		return s.packet(ph, data), nil
	}
}

func (s *rpcapSource) packet(ph rpcapPacketHeader, data []byte) pcapio.Packet {
	return pcapio.Packet{
		Timestamp: time.Unix(int64(ph.Sec), int64(ph.Usec)*1000),
		Data:      data, Length: int(ph.Len), LinkType: s.lt,
	}
}

// unexpected turns the end of the stream inside a message into
// io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (s *rpcapSource) LinkType() pcapio.LinkType { return s.lt }

// statsEvery is how often Stats asks the server at most: each asking is a
// round trip on the control connection, and a program (pkttap-web's
// store) may ask after every batch of packets.
const statsEvery = 200 * time.Millisecond

// Stats asks the server for its counts, at most every statsEvery (between,
// it returns the last ones), and returns the last ones once closed.
func (s *rpcapSource) Stats() (capture.Stats, error) {
	s.mu.Lock()
	switch {
	case s.final != nil:
		st := *s.final
		s.mu.Unlock()
		return st, nil
	case s.lastStats != nil && time.Since(s.lastAsked) < statsEvery:
		st := *s.lastStats
		st.Dropped += s.netDrops - s.lastNetDrops
		s.mu.Unlock()
		return st, nil
	}
	s.mu.Unlock()
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	st, err := s.stats()
	if err == nil {
		s.mu.Lock()
		s.lastStats, s.lastAsked, s.lastNetDrops = &st, time.Now(), s.netDrops
		s.mu.Unlock()
	}
	return st, err
}

// stats asks the server for its counts; it runs with h.mu held.
func (s *rpcapSource) stats() (capture.Stats, error) {
	_, p, err := s.h.roundTrip(rpcapHeader{Ver: s.h.ver, Type: rpcapMsgStatsReq}.append(nil), rpcapMsgStatsReq, s.h.ver, rpcapStatsLen+rpcapMaxExtra)
	if err != nil {
		return capture.Stats{}, fmt.Errorf("remote: the capture counts of %s on %s: %w", s.iface, s.h.addr, err)
	}
	st, err := parseRPCAPStats(p)
	if err != nil {
		return capture.Stats{}, fmt.Errorf("remote: the capture counts of %s on %s: %w", s.iface, s.h.addr, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return capture.Stats{Received: uint64(st.IfRecv), Dropped: uint64(st.KrnlDrop) + s.netDrops, IfDropped: uint64(st.IfDrop)}, nil
}

// Close takes the last counts, stops the capture on the server (ENDCAP),
// and closes the data connection; when the capture owns its connection
// (OpenRPCAP), it closes that too.
func (s *rpcapSource) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	failed := s.failed
	s.mu.Unlock()
	h := s.h
	h.mu.Lock()
	if failed == nil {
		if st, err := s.stats(); err == nil {
			s.mu.Lock()
			s.final = &st
			s.mu.Unlock()
		}
	}
	h.roundTrip(rpcapHeader{Ver: h.ver, Type: rpcapMsgEndCapReq}.append(nil), rpcapMsgEndCapReq, h.ver, rpcapMaxExtra)
	s.closeData()
	select {
	case <-s.ctrlDone:
	case <-time.After(h.timeout):
		h.conn.Close() // the reader is stuck: the connection is unusable
	}
	h.running = nil
	h.mu.Unlock()
	s.mu.Lock()
	if s.final == nil {
		s.final = &capture.Stats{Received: s.received, Dropped: s.netDrops}
	}
	s.mu.Unlock()
	if s.ownsHost {
		return h.Close()
	}
	return nil
}

var _ capture.Source = (*rpcapSource)(nil)
