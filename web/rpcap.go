package web

import (
	"cmp"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pkttap/pkttap/capture/remote"
)

// RPCAPOptions configure the rpcap sources of live captures.
type RPCAPOptions struct {
	// Dial opens the TCP connections to rpcap servers (control, and data
	// with the "tcp" transport); nil means net.Dialer's. Tests reach a
	// server that replays a recorded conversation through it.
	Dial func(network, addr string) (net.Conn, error)
}

// RPCAPSource says how a source of a live capture reaches a remote host
// by libpcap's remote capture protocol: rpcapd (as libpcap and Npcap ship
// it) runs there, in its default passive mode (package capture/remote).
type RPCAPSource struct {
	Host string `json:"host"`           // a host name or IP address
	Port int    `json:"port,omitempty"` // 0 means 2002, rpcapd's default
	// User and Password authenticate with one of the server's system
	// accounts; an empty User asks for null authentication (rpcapd -n).
	// The password is used for this request only, never stored or
	// logged. rpcap sends both in the clear.
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"`
	// Transport is how packets travel: "tcp" (the default: the client
	// connects to a port the server opens), "server-open" (the server
	// connects back to the client, for a server behind a firewall) or
	// "udp" (datagrams; losses count as drops).
	Transport string `json:"transport,omitempty"`
}

// rpcapTransports maps the API's transport names to the remote package's.
var rpcapTransports = map[string]remote.DataTransport{
	"": remote.DataTCP, "tcp": remote.DataTCP, "server-open": remote.DataTCPServerOpen, "udp": remote.DataUDP,
}

// rpcapConfig turns a request's rpcap part into the remote package's
// configuration, checking what it can without connecting.
func (s *Server) rpcapConfig(r *RPCAPSource) (remote.RPCAPConfig, error) {
	addr, err := hostPort(r.Host, r.Port, 2002)
	if err != nil {
		return remote.RPCAPConfig{}, err
	}
	if strings.ContainsAny(r.User, "\x00\r\n") || len(r.User) > 255 {
		return remote.RPCAPConfig{}, fmt.Errorf("%w: user name %q", errBadSource, r.User)
	}
	if r.User == "" && r.Password != "" {
		return remote.RPCAPConfig{}, fmt.Errorf("%w: a password needs a user name (leave both empty for null authentication)", errBadSource)
	}
	tr, ok := rpcapTransports[r.Transport]
	if !ok {
		return remote.RPCAPConfig{}, fmt.Errorf(`%w: transport must be "tcp", "server-open" or "udp", not %q`, errBadSource, r.Transport)
	}
	return remote.RPCAPConfig{Addr: addr, User: r.User, Password: r.Password, Transport: tr, Timeout: 10 * time.Second, Dial: s.cfg.RPCAP.Dial}, nil
}

// hostPort checks a request's host and port (0: def) and joins them.
func hostPort(host string, port, def int) (string, error) {
	h := strings.TrimSpace(host)
	if h == "" || strings.ContainsAny(h, " \t\r\n/@") || strings.HasPrefix(h, "-") {
		return "", fmt.Errorf("%w: host %q is not a host name or address", errBadSource, host)
	}
	p := cmp.Or(port, def)
	if p < 1 || p > 65535 {
		return "", fmt.Errorf("%w: port %d is out of range (1 to 65535)", errBadSource, port)
	}
	return net.JoinHostPort(strings.Trim(h, "[]"), strconv.Itoa(p)), nil
}

// remoteHost names the remote host a source reaches, "" for a local one.
func (o SourceOptions) remoteHost() string {
	switch {
	case o.SSH != nil:
		return strings.TrimSpace(o.SSH.Host)
	case o.RPCAP != nil:
		return strings.TrimSpace(o.RPCAP.Host)
	}
	return ""
}

// withoutSecrets returns o without any password or accepted host key:
// what the server keeps to reconnect the source.
func (o SourceOptions) withoutSecrets() SourceOptions {
	return o.withSecrets("", "")
}

// withSecrets returns o with the password (of whichever protocol it
// uses) and the accepted SSH host key set, as a reconnect request gives
// them.
func (o SourceOptions) withSecrets(password, acceptHostKey string) SourceOptions {
	if o.SSH != nil {
		ssh := *o.SSH
		ssh.Password, ssh.AcceptHostKey = password, acceptHostKey
		o.SSH = &ssh
	}
	if o.RPCAP != nil {
		rp := *o.RPCAP
		rp.Password = password
		o.RPCAP = &rp
	}
	return o
}

// dialSource connects to the remote host of o, by SSH or rpcap.
func (s *Server) dialSource(o SourceOptions) (remote.Capturer, error) {
	if o.SSH != nil && o.RPCAP != nil {
		return nil, fmt.Errorf(`%w: a source is reached by "ssh" or by "rpcap", not both`, errBadSource)
	}
	if o.RPCAP != nil {
		cfg, err := s.rpcapConfig(o.RPCAP)
		if err != nil {
			return nil, err
		}
		return remote.DialRPCAP(cfg)
	}
	return s.dial(o.SSH)
}
