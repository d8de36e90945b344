package remote

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
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
