package remote

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"golang.org/x/net/bpf"
)

// The rpcap protocol, as libpcap's rpcap-protocol.h and rpcapd describe
// it (protocol version 0, the only one so far). Every message starts with
// an 8-byte header: version, type, a 16-bit value whose meaning depends on
// the type, and the payload's length; every number is big-endian. The
// client authenticates (which also negotiates the version), lists
// interfaces, opens one (learning its link type), and starts a capture
// with a classic BPF program; the server then sends each packet as a
// PACKET message over a separate data connection.
const (
	rpcapDefaultPort = "2002" // where rpcapd listens (RPCAP_DEFAULT_NETPORT)
	rpcapMaxVersion  = 0      // the highest protocol version this client speaks
	rpcapHeaderLen   = 8
)

// Message types; a reply is its request's type with rpcapReply set.
const (
	rpcapMsgError        = 0x01
	rpcapMsgFindAllIfReq = 0x02
	rpcapMsgOpenReq      = 0x03
	rpcapMsgStartCapReq  = 0x04
	rpcapMsgUpdFilterReq = 0x05
	rpcapMsgClose        = 0x06
	rpcapMsgPacket       = 0x07
	rpcapMsgAuthReq      = 0x08
	rpcapMsgStatsReq     = 0x09
	rpcapMsgEndCapReq    = 0x0a
	rpcapReply           = 0x80
)

// Authentication types of an AUTH request.
const (
	rpcapAuthNull     = 0
	rpcapAuthPassword = 1
)

// Flags of a STARTCAP request.
const (
	rpcapFlagPromisc    = 0x01 // promiscuous mode
	rpcapFlagDgram      = 0x02 // data over UDP, sent by the server to the client's port
	rpcapFlagServerOpen = 0x04 // the server connects to the client's data port
)

// rpcapFilterBPF is the filter type of a classic BPF program.
const rpcapFilterBPF = 1

// Error codes of an ERROR message (its header's value).
const (
	rpcapErrNetwork       = 1
	rpcapErrInitTimeout   = 2
	rpcapErrAuth          = 3
	rpcapErrFindAllIf     = 4
	rpcapErrNoRemoteIf    = 5
	rpcapErrOpen          = 6
	rpcapErrUpdateFilter  = 7
	rpcapErrGetStats      = 8
	rpcapErrReadEx        = 9
	rpcapErrHostNoAuth    = 10
	rpcapErrRemoteAccept  = 11
	rpcapErrStartCapture  = 12
	rpcapErrEndCapture    = 13
	rpcapErrRunTimeout    = 14
	rpcapErrSetSampling   = 15
	rpcapErrWrongMsg      = 16
	rpcapErrWrongVer      = 17
	rpcapErrAuthFailed    = 18
	rpcapErrTLSRequired   = 19
	rpcapErrAuthTypeNotSp = 20
)

// Interface flags of a FINDALLIF reply (pcap_if_t's).
const (
	rpcapIfLoopback = 0x1
	rpcapIfUp       = 0x2
	rpcapIfRunning  = 0x4
)

// Fixed sizes of message bodies.
const (
	rpcapIfHeaderLen   = 12  // namelen, desclen, flags, naddr, dummy
	rpcapSockaddrLen   = 128 // one address as sent: family, then data
	rpcapIfAddrLen     = 4 * rpcapSockaddrLen
	rpcapPktHeaderLen  = 20 // sec, usec, caplen, len, npkt
	rpcapStatsLen      = 16
	rpcapOpenReplyLen  = 8
	rpcapStartReplyLen = 8
	rpcapAuthReplyOld  = 2 // minvers, maxvers
	rpcapAuthReplyLen  = 8 // ... pad, byte order magic
	rpcapBPFInsnLen    = 8
)

// Address families as rpcap sends them (Windows' values).
const (
	rpcapAFInet  = 2
	rpcapAFInet6 = 23
)

// Bounds on what a server may send, so that a hostile or broken one gets a
// clear error instead of the client's memory. rpcapd builds every control
// reply in a 64000-byte buffer and truncates errors to 256 bytes.
const (
	rpcapMaxControl = 1 << 20 // any control reply
	rpcapMaxError   = 64 << 10
	rpcapMaxExtra   = 4 << 10 // bytes a reply may carry past its fixed fields
)

// ErrProtocol is wrapped by the error for a message that breaks the rpcap
// protocol: the server is not rpcapd, or something in between damaged the
// stream.
var ErrProtocol = errors.New("remote: the rpcap server broke the protocol")

// rpcapHeader is a message's header.
type rpcapHeader struct {
	Ver   uint8
	Type  uint8
	Value uint16
	Plen  uint32
}

func (h rpcapHeader) append(b []byte) []byte {
	b = append(b, h.Ver, h.Type)
	b = binary.BigEndian.AppendUint16(b, h.Value)
	return binary.BigEndian.AppendUint32(b, h.Plen)
}

func parseRPCAPHeader(b []byte) rpcapHeader {
	return rpcapHeader{Ver: b[0], Type: b[1], Value: binary.BigEndian.Uint16(b[2:]), Plen: binary.BigEndian.Uint32(b[4:])}
}

// rpcapMsgName names a message type for errors.
func rpcapMsgName(t uint8) string {
	names := map[uint8]string{
		rpcapMsgError: "ERROR", rpcapMsgFindAllIfReq: "FINDALLIF", rpcapMsgOpenReq: "OPEN",
		rpcapMsgStartCapReq: "STARTCAP", rpcapMsgUpdFilterReq: "UPDATEFILTER", rpcapMsgClose: "CLOSE",
		rpcapMsgPacket: "PACKET", rpcapMsgAuthReq: "AUTH", rpcapMsgStatsReq: "STATS", rpcapMsgEndCapReq: "ENDCAP",
	}
	if n, ok := names[t&^rpcapReply]; ok {
		if t&rpcapReply != 0 {
			return n + " reply"
		}
		return n
	}
	return fmt.Sprintf("type 0x%02x", t)
}

// protoErrorf returns an error wrapping ErrProtocol.
func protoErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// readRPCAPMsg reads one message whose payload may be at most max bytes
// (the bound is checked before anything is allocated). A payload over the
// bound is an error naming the message and both lengths.
func readRPCAPMsg(r io.Reader, max uint32) (rpcapHeader, []byte, error) {
	var hb [rpcapHeaderLen]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return rpcapHeader{}, nil, err
	}
	h := parseRPCAPHeader(hb[:])
	if h.Type == rpcapMsgError && max < rpcapMaxError {
		max = rpcapMaxError
	}
	if h.Plen > max {
		return h, nil, protoErrorf("a %s message claims %d bytes of payload, more than the %d it can hold", rpcapMsgName(h.Type), h.Plen, max)
	}
	p := make([]byte, h.Plen)
	if _, err := io.ReadFull(r, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return h, nil, fmt.Errorf("the %s message's %d-byte payload: %w", rpcapMsgName(h.Type), h.Plen, err)
	}
	return h, p, nil
}

// rpcapServerError is an ERROR message the server sent: a code and its
// text. Is maps the codes to the package's errors.
type rpcapServerError struct {
	Code uint16
	Msg  string
}

func (e *rpcapServerError) Error() string {
	return fmt.Sprintf("rpcap error %d: %s", e.Code, e.Msg)
}

func (e *rpcapServerError) Is(target error) bool {
	switch target {
	case ErrAuthentication:
		return e.Code == rpcapErrAuth || e.Code == rpcapErrAuthFailed || e.Code == rpcapErrAuthTypeNotSp || e.Code == rpcapErrHostNoAuth
	case ErrPermissionDenied:
		return (e.Code == rpcapErrOpen || e.Code == rpcapErrStartCapture) && containsFold(e.Msg, "permission")
	case ErrNoSuchInterface:
		return (e.Code == rpcapErrOpen || e.Code == rpcapErrStartCapture) && (containsFold(e.Msg, "no such device") || containsFold(e.Msg, "doesn't exist"))
	}
	return false
}

// parseRPCAPError reads an ERROR message's payload: its text, which must
// be printable.
func parseRPCAPError(h rpcapHeader, p []byte) error {
	msg := make([]rune, 0, len(p))
	for _, c := range string(p) {
		if c < 0x20 && c != '\t' || c == 0x7f {
			c = '?'
		}
		msg = append(msg, c)
	}
	return &rpcapServerError{Code: h.Value, Msg: string(msg)}
}

// rpcapAuthReply is what an AUTH reply says.
type rpcapAuthReply struct {
	MinVer, MaxVer uint8
	// BigEndian is the server's byte order, when it says (HasOrder).
	BigEndian, HasOrder bool
}

// parseRPCAPAuthReply reads an AUTH reply's payload: empty from servers
// that speak only version 0; 2 bytes (versions) from older ones; 8 from
// libpcap 1.10 (versions, padding, and the byte-order magic written in the
// server's own order).
func parseRPCAPAuthReply(p []byte) (rpcapAuthReply, error) {
	r := rpcapAuthReply{}
	switch {
	case len(p) == 0:
		return r, nil
	case len(p) < rpcapAuthReplyOld || len(p) > rpcapAuthReplyOld && len(p) < rpcapAuthReplyLen:
		return r, protoErrorf("an AUTH reply of %d bytes: it is 0, 2 or at least 8", len(p))
	}
	r.MinVer, r.MaxVer = p[0], p[1]
	if r.MinVer > r.MaxVer {
		return r, protoErrorf("the server's lowest protocol version (%d) is above its highest (%d)", r.MinVer, r.MaxVer)
	}
	if len(p) >= rpcapAuthReplyLen {
		switch m := binary.BigEndian.Uint32(p[4:]); m {
		case 0xa1b2c3d4:
			r.BigEndian, r.HasOrder = true, true
		case 0xd4c3b2a1:
			r.HasOrder = true
		default:
			return r, protoErrorf("the AUTH reply's byte-order magic is 0x%08x, neither a1b2c3d4 nor d4c3b2a1", m)
		}
	}
	return r, nil
}

// negotiateVersion picks the highest version both sides speak.
func negotiateVersion(r rpcapAuthReply) (uint8, error) {
	v := min(r.MaxVer, rpcapMaxVersion)
	if v < r.MinVer {
		return 0, fmt.Errorf("remote: the rpcap server speaks protocol versions %d to %d, this client only %d: use a server of libpcap 1.10 or an older one", r.MinVer, r.MaxVer, rpcapMaxVersion)
	}
	return v, nil
}

// parseRPCAPInterfaces reads a FINDALLIF reply: n interfaces (the
// header's value), each a fixed part, its name, its description and its
// addresses. Every length is checked against what is left of the payload,
// and the payload must end with the last interface.
func parseRPCAPInterfaces(n uint16, p []byte) ([]Interface, error) {
	ifs := make([]Interface, 0, min(int(n), len(p)/rpcapIfHeaderLen))
	for i := range int(n) {
		if len(p) < rpcapIfHeaderLen {
			return nil, protoErrorf("the interface list ends inside interface %d of %d", i+1, n)
		}
		namelen := int(binary.BigEndian.Uint16(p[0:]))
		desclen := int(binary.BigEndian.Uint16(p[2:]))
		flags := binary.BigEndian.Uint32(p[4:])
		naddr := int(binary.BigEndian.Uint16(p[8:]))
		p = p[rpcapIfHeaderLen:]
		if need := namelen + desclen + naddr*rpcapIfAddrLen; need > len(p) {
			return nil, protoErrorf("interface %d of %d claims %d bytes (a %d-byte name, a %d-byte description, %d addresses), %d are left", i+1, n, need, namelen, desclen, naddr, len(p))
		}
		if namelen == 0 {
			return nil, protoErrorf("interface %d of %d has no name", i+1, n)
		}
		ifc := Interface{
			Name:        string(p[:namelen]),
			Description: string(p[namelen : namelen+desclen]),
			Up:          flags&rpcapIfUp != 0,
			Loopback:    flags&rpcapIfLoopback != 0,
		}
		p = p[namelen+desclen:]
		for range naddr {
			a := p[:rpcapIfAddrLen]
			p = p[rpcapIfAddrLen:]
			addr, ok := parseRPCAPSockaddr(a[:rpcapSockaddrLen])
			if !ok {
				continue
			}
			bits := addr.BitLen()
			if mask, ok := parseRPCAPSockaddr(a[rpcapSockaddrLen : 2*rpcapSockaddrLen]); ok && mask.BitLen() == addr.BitLen() {
				bits = maskBits(mask)
			}
			ifc.Addresses = append(ifc.Addresses, netip.PrefixFrom(addr, bits))
		}
		ifs = append(ifs, ifc)
	}
	if len(p) != 0 {
		return nil, protoErrorf("%d bytes follow the last of %d interfaces", len(p), n)
	}
	return ifs, nil
}

// parseRPCAPSockaddr reads an address as rpcap sends it (family 2 or 23,
// then sockaddr_in or sockaddr_in6's fields, big-endian); ok is false for
// an empty slot (family 0) or another family. Servers older than libpcap
// 1.9 sent their own system's sockaddr: its family values (Linux's 10,
// and BSD's with the length byte in front, either byte order) are taken
// too, as libpcap's client takes them.
func parseRPCAPSockaddr(b []byte) (netip.Addr, bool) {
	const in4Len, in6Len = 16, 28
	switch binary.BigEndian.Uint16(b) {
	case rpcapAFInet, in4Len<<8 | 2, in4Len << 8:
		return netip.AddrFrom4([4]byte(b[4:8])), true
	case rpcapAFInet6, 10, 22, 24, 26, in6Len<<8 | 24, in6Len<<8 | 28, in6Len<<8 | 30, in6Len << 8:
		return netip.AddrFrom16([16]byte(b[8:24])), true
	}
	return netip.Addr{}, false
}

// maskBits returns the length of a netmask's leading ones.
func maskBits(m netip.Addr) int {
	n := 0
	for _, b := range m.AsSlice() {
		for i := 7; i >= 0 && b&(1<<i) != 0; i-- {
			n++
		}
		if b != 0xff {
			break
		}
	}
	return n
}

// rpcapPacketHeader is the fixed part of a PACKET message.
type rpcapPacketHeader struct {
	Sec, Usec, Caplen, Len, Npkt uint32
}

// parseRPCAPPacketHeader reads a PACKET message's fixed part and checks
// it against the message's length and the snap length asked for. rpcapd
// writes the message's length through a 16-bit variable (libpcap 1.10),
// so for a packet longer than 65515 bytes plen holds the low 16 bits of
// the true length: caplen is then taken when plen matches it that way.
func parseRPCAPPacketHeader(h rpcapHeader, b []byte, snaplen uint32) (rpcapPacketHeader, error) {
	ph := rpcapPacketHeader{
		Sec: binary.BigEndian.Uint32(b[0:]), Usec: binary.BigEndian.Uint32(b[4:]),
		Caplen: binary.BigEndian.Uint32(b[8:]), Len: binary.BigEndian.Uint32(b[12:]), Npkt: binary.BigEndian.Uint32(b[16:]),
	}
	if ph.Caplen > snaplen {
		return ph, protoErrorf("packet %d has %d captured bytes, more than the snap length %d asked for", ph.Npkt, ph.Caplen, snaplen)
	}
	if want := uint64(ph.Caplen) + rpcapPktHeaderLen; uint64(h.Plen) != want && uint64(h.Plen) != want&0xffff {
		return ph, protoErrorf("packet %d's message holds %d bytes, but its header counts %d captured bytes (%d with the header)", ph.Npkt, h.Plen, ph.Caplen, want)
	}
	if ph.Len < ph.Caplen {
		return ph, protoErrorf("packet %d has %d captured bytes but an on-wire length of %d", ph.Npkt, ph.Caplen, ph.Len)
	}
	if ph.Usec >= 1e6 {
		return ph, protoErrorf("packet %d's timestamp has %d microseconds", ph.Npkt, ph.Usec)
	}
	return ph, nil
}

// rpcapStats is a STATS reply.
type rpcapStats struct {
	IfRecv, IfDrop, KrnlDrop, SvrCapt uint32
}

func parseRPCAPStats(p []byte) (rpcapStats, error) {
	if len(p) < rpcapStatsLen || len(p) > rpcapStatsLen+rpcapMaxExtra {
		return rpcapStats{}, protoErrorf("a STATS reply of %d bytes, want %d", len(p), rpcapStatsLen)
	}
	return rpcapStats{
		IfRecv: binary.BigEndian.Uint32(p[0:]), IfDrop: binary.BigEndian.Uint32(p[4:]),
		KrnlDrop: binary.BigEndian.Uint32(p[8:]), SvrCapt: binary.BigEndian.Uint32(p[12:]),
	}, nil
}

// appendRPCAPAuth appends an AUTH request: null authentication when user
// is "", else user name and password.
func appendRPCAPAuth(b []byte, user, password string) ([]byte, error) {
	if len(user) > 0xffff || len(password) > 0xffff {
		return nil, fmt.Errorf("remote: an rpcap user name or password holds at most 65535 bytes")
	}
	typ := uint16(rpcapAuthNull)
	if user != "" {
		typ = rpcapAuthPassword
	}
	b = rpcapHeader{Type: rpcapMsgAuthReq, Plen: uint32(8 + len(user) + len(password))}.append(b)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(user)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(password)))
	b = append(b, user...)
	return append(b, password...), nil
}

// appendRPCAPStartCap appends a STARTCAP request with the BPF program raw
// (each instruction as code, jt, jf, k).
func appendRPCAPStartCap(b []byte, ver uint8, snaplen, timeoutMS uint32, flags, port uint16, raw []bpf.RawInstruction) []byte {
	b = rpcapHeader{Ver: ver, Type: rpcapMsgStartCapReq, Plen: uint32(12 + 8 + len(raw)*rpcapBPFInsnLen)}.append(b)
	b = binary.BigEndian.AppendUint32(b, snaplen)
	b = binary.BigEndian.AppendUint32(b, timeoutMS)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, port)
	b = binary.BigEndian.AppendUint16(b, rpcapFilterBPF)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(raw)))
	for _, in := range raw {
		b = binary.BigEndian.AppendUint16(b, in.Op)
		b = append(b, in.Jt, in.Jf)
		b = binary.BigEndian.AppendUint32(b, in.K)
	}
	return b
}

// containsFold reports whether s contains sub (lower case), without
// regard to case.
func containsFold(s, sub string) bool { return strings.Contains(strings.ToLower(s), sub) }
