package remote

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
	"golang.org/x/net/bpf"
)

// DataTransport says how an rpcap capture's packets travel from the
// server to the client.
type DataTransport int

const (
	// DataTCP: the server listens on a new port, which it names in its
	// reply, and the client connects to it (rpcapd's default, and what
	// libpcap's client does).
	DataTCP DataTransport = iota
	// DataTCPServerOpen: the client listens on a new port and the server
	// connects to it, for a server that may not accept connections on
	// other ports than its own (a firewall).
	DataTCPServerOpen
	// DataUDP: the server sends each packet in a datagram to a UDP port the
	// client listens on. Datagrams lost on the way are counted in the
	// capture's Stats as Dropped.
	DataUDP
)

// RPCAPConfig says how to reach an rpcap server: rpcapd, as libpcap and
// Npcap ship it, listening in its default passive mode.
type RPCAPConfig struct {
	// Addr is "host" or "host:port" (port 2002 when absent; an IPv6
	// address in brackets).
	Addr string
	// User and Password authenticate with a user name and password (the
	// server checks them against its system's accounts, and captures as
	// that user). An empty User asks for null authentication, which rpcapd
	// grants only when started with -n. rpcap sends both in the clear.
	User, Password string
	// Transport is how packets travel; DataTCP when zero.
	Transport DataTransport
	// System is the server's operating system as a GOOS value ("linux",
	// "darwin", "windows"), for which the capture filter is compiled; ""
	// guesses it from the interface list (Npcap's \Device\NPF_ names are
	// Windows', an "any" device is Linux's), and compiles as for a capture
	// file when there is no telling.
	System string
	// IncludeOwnTraffic captures the rpcap connections' own packets too.
	// By default, as Wireshark's "Do not capture own RPCAP traffic", the
	// filter sent to the server excludes the control and data connections,
	// so that a capture on the interface they use does not feed on itself.
	IncludeOwnTraffic bool
	// Timeout bounds connecting and each request; 0 means 15 s.
	Timeout time.Duration
	// ReadTimeout is how long the server may hold captured packets before
	// sending them (pcap_open_live's timeout there); 0 means 100 ms.
	ReadTimeout time.Duration
	// Dial opens the TCP connections (control, and data with DataTCP);
	// nil means net.Dialer's. Through an SSH connection, for instance,
	// pass (*ssh.Client).Dial.
	Dial func(network, addr string) (net.Conn, error)
}

// RPCAPHost is an authenticated connection to an rpcap server. One
// capture runs on it at a time (rpcapd's rule); listing interfaces while
// it runs is refused.
type RPCAPHost struct {
	cfg     RPCAPConfig
	addr    string // host:port of the control connection
	timeout time.Duration
	conn    net.Conn
	r       *bufio.Reader
	ver     uint8 // the protocol version agreed

	mu      sync.Mutex // one request at a time, and the fields below
	running *rpcapSource
	system  string
	listed  bool // the interfaces were listed (and the system guessed from them)
	closed  bool
}

// DialRPCAP connects to an rpcap server and authenticates: with cfg's
// user name and password, or, when User is "", with null authentication.
func DialRPCAP(cfg RPCAPConfig) (*RPCAPHost, error) {
	addr := cfg.Addr
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(strings.Trim(addr, "[]"), rpcapDefaultPort)
	}
	h := &RPCAPHost{cfg: cfg, addr: addr, timeout: cfg.Timeout, system: cfg.System}
	if h.timeout <= 0 {
		h.timeout = 15 * time.Second
	}
	conn, err := h.dial(addr)
	if err != nil {
		return nil, fmt.Errorf("remote: connect to the rpcap server %s: %w (is rpcapd running there, and is its port, 2002 by default, open?)", addr, err)
	}
	h.conn, h.r = conn, bufio.NewReaderSize(conn, 64<<10)
	if err := h.authenticate(); err != nil {
		conn.Close()
		return nil, err
	}
	return h, nil
}

// dial opens a TCP connection with cfg.Dial or a net.Dialer.
func (h *RPCAPHost) dial(addr string) (net.Conn, error) {
	if h.cfg.Dial != nil {
		return h.cfg.Dial("tcp", addr)
	}
	d := net.Dialer{Timeout: h.timeout}
	return d.Dial("tcp", addr)
}

// authenticate sends the AUTH request (in version 0, which every server
// accepts) and picks the protocol version from the reply.
func (h *RPCAPHost) authenticate() error {
	req, err := appendRPCAPAuth(nil, h.cfg.User, h.cfg.Password)
	if err != nil {
		return err
	}
	_, p, err := h.roundTrip(req, rpcapMsgAuthReq, 0, rpcapAuthReplyLen+rpcapMaxExtra)
	var se *rpcapServerError
	switch {
	case errors.As(err, &se) && se.Code == rpcapErrAuthFailed && h.cfg.User == "":
		return fmt.Errorf("%w: %s refuses null authentication (%s): give a user name and password, or start rpcapd with -n", ErrAuthentication, h.addr, se.Msg)
	case errors.As(err, &se) && se.Code == rpcapErrAuthFailed:
		return fmt.Errorf("%w: %s refused user %q and its password (%s): check both; rpcapd checks them against the system's accounts (/etc/shadow) and must run as root to read them", ErrAuthentication, h.addr, h.cfg.User, se.Msg)
	case errors.As(err, &se) && se.Code == rpcapErrHostNoAuth:
		return fmt.Errorf("%w: %s does not accept connections from this host (%s): add it to rpcapd's -l host list", ErrAuthentication, h.addr, se.Msg)
	case errors.As(err, &se) && se.Code == rpcapErrTLSRequired:
		return fmt.Errorf("%w: %s requires TLS (rpcapd -S), which pkttap does not speak: run rpcapd without -S, and reach it through an SSH tunnel (RPCAPConfig.Dial) if the network is not trusted", ErrAuthentication, h.addr)
	case err != nil:
		return fmt.Errorf("remote: authenticate to the rpcap server %s: %w", h.addr, err)
	}
	reply, err := parseRPCAPAuthReply(p)
	if err != nil {
		return fmt.Errorf("remote: authenticate to %s: %w", h.addr, err)
	}
	if h.ver, err = negotiateVersion(reply); err != nil {
		return err
	}
	return nil
}

// roundTrip sends req (of type typ) and reads the reply, whose payload may
// hold at most max bytes: the reply of type typ|rpcapReply, or the
// server's ERROR as a *rpcapServerError. It must be called with h.mu held,
// or before h is shared.
func (h *RPCAPHost) roundTrip(req []byte, typ, ver uint8, max uint32) (rpcapHeader, []byte, error) {
	if h.running != nil && h.running.replies != nil {
		return h.running.roundTrip(req, typ, max)
	}
	h.conn.SetDeadline(time.Now().Add(h.timeout))
	defer h.conn.SetDeadline(time.Time{})
	if _, err := h.conn.Write(req); err != nil {
		return rpcapHeader{}, nil, h.lost(err)
	}
	hd, p, err := readRPCAPMsg(h.r, max)
	if err != nil {
		if errors.Is(err, ErrProtocol) {
			return hd, nil, err
		}
		return hd, nil, h.lost(err)
	}
	return hd, p, checkReply(hd, p, typ, ver)
}

// checkReply checks that a reply answers a request of type typ in
// version ver, and turns an ERROR into its error.
func checkReply(hd rpcapHeader, p []byte, typ, ver uint8) error {
	if hd.Type == rpcapMsgError {
		return parseRPCAPError(hd, p)
	}
	if hd.Type != typ|rpcapReply {
		return protoErrorf("a %s came in answer to a %s request", rpcapMsgName(hd.Type), rpcapMsgName(typ))
	}
	if hd.Ver != ver {
		return protoErrorf("the %s is in protocol version %d, the request was in %d", rpcapMsgName(hd.Type), hd.Ver, ver)
	}
	return nil
}

// lost wraps an I/O error on the control connection.
func (h *RPCAPHost) lost(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: the rpcap server %s did not answer within %v", ErrConnectionLost, h.addr, h.timeout)
	}
	return fmt.Errorf("%w: the control connection to the rpcap server %s: %v", ErrConnectionLost, h.addr, err)
}

// Interfaces lists the server's interfaces (pcap_findalldevs there), with
// their addresses.
func (h *RPCAPHost) Interfaces() ([]Interface, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.interfaces()
}

func (h *RPCAPHost) interfaces() ([]Interface, error) {
	if err := h.usable(); err != nil {
		return nil, err
	}
	hd, p, err := h.roundTrip(rpcapHeader{Ver: h.ver, Type: rpcapMsgFindAllIfReq}.append(nil), rpcapMsgFindAllIfReq, h.ver, rpcapMaxControl)
	var se *rpcapServerError
	if errors.As(err, &se) && se.Code == rpcapErrNoRemoteIf {
		return nil, fmt.Errorf("remote: the rpcap server %s lists no interface it may capture on (%s): rpcapd must run as root, or with the capture capabilities", h.addr, se.Msg)
	}
	if err != nil {
		return nil, fmt.Errorf("remote: list the interfaces of %s: %w", h.addr, err)
	}
	ifs, err := parseRPCAPInterfaces(hd.Value, p)
	if err != nil {
		return nil, fmt.Errorf("remote: the interface list of %s: %w", h.addr, err)
	}
	if h.system == "" {
		h.system = guessSystem(ifs)
	}
	h.listed = true
	return ifs, nil
}

// usable reports a closed host or a running capture.
func (h *RPCAPHost) usable() error {
	switch {
	case h.closed:
		return fmt.Errorf("remote: the connection to the rpcap server %s is closed", h.addr)
	case h.running != nil:
		return fmt.Errorf("remote: a capture is running on the connection to %s: close it first, or dial the server again (rpcapd runs one capture per connection)", h.addr)
	}
	return nil
}

// guessSystem tells the server's system from its interface list: Npcap
// names its devices \Device\NPF_{GUID}, Linux has the "any" device, macOS
// lo0 and en0. "" when there is no telling.
func guessSystem(ifs []Interface) string {
	for _, ifc := range ifs {
		switch {
		case strings.HasPrefix(ifc.Name, `\Device\NPF_`):
			return "windows"
		case ifc.Name == "any":
			return "linux"
		case ifc.Name == "lo0" || ifc.Name == "en0":
			return "darwin"
		}
	}
	return ""
}

// Close ends the connection: it stops a running capture, tells the server
// the session is over and closes the connection.
func (h *RPCAPHost) Close() error {
	h.mu.Lock()
	s := h.running
	h.mu.Unlock()
	if s != nil {
		s.Close()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	h.conn.SetWriteDeadline(time.Now().Add(h.timeout))
	h.conn.Write(rpcapHeader{Ver: h.ver, Type: rpcapMsgClose}.append(nil))
	return h.conn.Close()
}

// OpenRPCAP connects to an rpcap server as DialRPCAP does and starts a
// capture on it as RPCAPHost.Capture does; closing the capture closes the
// connection.
func OpenRPCAP(cfg RPCAPConfig, o CaptureOptions) (*capture.Capture, error) {
	h, err := DialRPCAP(cfg)
	return openOwned(h, err, o)
}

// Capture opens the remote interface (learning its link type), compiles
// the filter here for that link type and the server's system, and starts
// the capture with the compiled program. Close stops it. Stats asks the
// server for its counts: Received and Dropped are libpcap's ps_recv and
// ps_drop there, IfDropped its ps_ifdrop; with DataUDP, Dropped also
// counts the datagrams lost on the way. After Close, Stats has the last
// counts.
func (h *RPCAPHost) Capture(o CaptureOptions) (*capture.Capture, error) { return h.open(o, false) }

func (h *RPCAPHost) open(o CaptureOptions, ownsHost bool) (*capture.Capture, error) {
	snaplen, err := checkOptions(o, "RPCAPHost.Interfaces")
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.usable(); err != nil {
		return nil, err
	}
	lt, err := h.openIface(o.Interface)
	if err != nil {
		return nil, err
	}
	opts := rpcapFilterOptions(h.system, lt, snaplen)
	user, err := h.compile(o, opts)
	if err != nil {
		return nil, err
	}
	s := &rpcapSource{h: h, ownsHost: ownsHost, iface: o.Interface, lt: lt, snaplen: uint32(snaplen), user: o.Filter, opts: opts}
	if err := s.start(o.Promiscuous, user); err != nil {
		return nil, err
	}
	h.running = s
	return capture.FromSource(s, opts), nil
}

// FilterOptions returns the options a capture filter for the remote
// interface iface compiles with, as Capture compiles it: for its link type
// (which the server tells when the interface is opened) and the server's
// system. snaplen is as CaptureOptions.Snaplen. A program checks a filter
// with them (filter.Compile) before it starts the capture.
func (h *RPCAPHost) FilterOptions(iface string, snaplen int) (filter.Options, error) {
	snaplen, err := checkOptions(CaptureOptions{Interface: iface, Snaplen: snaplen}, "RPCAPHost.Interfaces")
	if err != nil {
		return filter.Options{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.usable(); err != nil {
		return filter.Options{}, err
	}
	lt, err := h.openIface(iface)
	if err != nil {
		return filter.Options{}, err
	}
	return rpcapFilterOptions(h.system, lt, snaplen), nil
}

// openIface opens iface on the server (OPEN) and returns its link type;
// first, when the server's system is not known yet, it lists the
// interfaces to tell it. It runs with h.mu held.
func (h *RPCAPHost) openIface(iface string) (pcapio.LinkType, error) {
	if len(iface) > 1023 {
		return 0, fmt.Errorf("remote: an rpcap interface name holds at most 1023 bytes (rpcapd's limit), not %d", len(iface))
	}
	if h.system == "" && h.cfg.System == "" && !h.listed {
		h.interfaces() // only to tell the system; an error shows again below
	}
	req := rpcapHeader{Ver: h.ver, Type: rpcapMsgOpenReq, Plen: uint32(len(iface))}.append(nil)
	_, p, err := h.roundTrip(append(req, iface...), rpcapMsgOpenReq, h.ver, rpcapOpenReplyLen+rpcapMaxExtra)
	if err != nil {
		return 0, h.captureError(iface, "open", err)
	}
	if len(p) < rpcapOpenReplyLen {
		return 0, fmt.Errorf("remote: open %s on %s: %w", iface, h.addr, protoErrorf("an OPEN reply of %d bytes, want %d", len(p), rpcapOpenReplyLen))
	}
	dlt := int32(binary.BigEndian.Uint32(p))
	if dlt < 0 {
		return 0, fmt.Errorf("remote: open %s on %s: %w", iface, h.addr, protoErrorf("link type %d", dlt))
	}
	return pcapio.LinkTypeFromDLT(uint32(dlt)), nil
}

// rpcapFilterOptions are the options a filter for an rpcap capture
// compiles with: those of a live capture on the server's system. On Linux
// the program is attached to a packet socket, except for cooked (SLL)
// interfaces, for which libpcap on the server rewrites the header offsets
// itself (its fix_program), so the program must keep them as in the
// packets.
func rpcapFilterOptions(system string, lt pcapio.LinkType, snaplen int) filter.Options {
	opts := capture.LiveFilterOptionsFor(system, lt, snaplen)
	if lt == pcapio.LinkTypeLinuxSLL || lt == pcapio.LinkTypeLinuxSLL2 {
		opts.Target = filter.TargetFile
	}
	return opts
}

// compile checks the user's filter with pkttap's compiler; it returns the
// program, nil for none.
func (h *RPCAPHost) compile(o CaptureOptions, opts filter.Options) (*filter.Program, error) {
	if strings.TrimSpace(o.Filter) == "" {
		return nil, nil
	}
	prog, err := filter.Compile(o.Filter, opts)
	if err != nil {
		return nil, fmt.Errorf("remote: filter %q for %s on %s (link type %s): %w (see pcap-filter(7) for the syntax; nothing was sent)", o.Filter, o.Interface, h.addr, opts.LinkType, err)
	}
	return prog, nil
}

// captureError explains the server's refusal to open or start a capture.
func (h *RPCAPHost) captureError(iface, what string, err error) error {
	switch {
	case errors.Is(err, ErrNoSuchInterface):
		return fmt.Errorf("%w: %s has no interface %q (%w): list them with RPCAPHost.Interfaces (pkttap-inspect -D rpcap://HOST)", ErrNoSuchInterface, h.addr, iface, err)
	case errors.Is(err, ErrPermissionDenied):
		return fmt.Errorf("%w: the rpcap server %s may not capture on %s (%w): rpcapd captures as the user who logged in; log in as one allowed to capture, or run rpcapd as root with null authentication", ErrPermissionDenied, h.addr, iface, err)
	}
	return fmt.Errorf("remote: %s %s on the rpcap server %s: %w", what, iface, h.addr, err)
}

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

// Capturer is a connection to a remote host on which captures run, by
// either protocol: *Host (SSH and tcpdump) or *RPCAPHost (rpcapd).
type Capturer interface {
	// Interfaces lists the remote host's interfaces.
	Interfaces() ([]Interface, error)
	// Capture starts a capture on one of them.
	Capture(o CaptureOptions) (*capture.Capture, error)
	// FilterOptions returns the options a capture filter for one of them
	// compiles with: what a program checks a filter with as it is typed.
	FilterOptions(iface string, snaplen int) (filter.Options, error)
	// Close ends the connection.
	Close() error
}

var (
	_ Capturer = (*Host)(nil)
	_ Capturer = (*RPCAPHost)(nil)
)
