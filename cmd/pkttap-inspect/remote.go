package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/capture/remote"
)

// The schemes of remote capture sources: ssh://user@host[:port]/IFACE
// and rpcap://[user@]host[:port]/IFACE.
const (
	sshScheme   = "ssh://"
	rpcapScheme = "rpcap://"
)

// rpcapPasswordEnv names the environment variable holding the password of
// an rpcap:// source's user.
const rpcapPasswordEnv = "PKTTAP_RPCAP_PASSWORD"

// isRemoteSource reports whether a source argument names a remote capture.
func isRemoteSource(arg string) bool {
	return strings.HasPrefix(arg, sshScheme) || strings.HasPrefix(arg, rpcapScheme)
}

// parseRPCAPURL splits rpcap://[user@]host[:port][/IFACE] into the
// server's address ("host:port"), the user ("" for null authentication)
// and the interface, which is everything after the first slash, as
// libpcap's rpcap:// sources have it (Npcap's \Device\NPF_{...} too).
func parseRPCAPURL(s string) (addr, user, iface string, err error) {
	rest, ok := strings.CutPrefix(s, rpcapScheme)
	authority, iface, _ := strings.Cut(rest, "/")
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		user, authority = authority[:i], authority[i+1:]
		if strings.Contains(user, ":") {
			return "", "", "", usageErrorf("%q: give no password in the URL (set %s)", s, rpcapPasswordEnv)
		}
	}
	host, port := authority, "2002"
	if h, p, err := net.SplitHostPort(authority); err == nil {
		host, port = h, p
	}
	host = strings.Trim(host, "[]")
	if !ok || host == "" || strings.ContainsAny(host, "?#") {
		return "", "", "", usageErrorf("%q is not an rpcap source: write rpcap://[USER@]HOST[:PORT]/INTERFACE", s)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", "", "", usageErrorf("%q: port %q is not a number from 0 to 65535", s, port)
	}
	return net.JoinHostPort(host, port), user, iface, nil
}

// rpcapConfig is the connection the flags, the URL and the environment
// describe.
func rpcapConfig(o options, addr, user string) (remote.RPCAPConfig, error) {
	cfg := remote.RPCAPConfig{Addr: addr, User: user}
	if user != "" {
		pw, ok := os.LookupEnv(rpcapPasswordEnv)
		if !ok {
			return cfg, usageErrorf("rpcap user %q: set the password in the environment variable %s (or give no user for null authentication)", user, rpcapPasswordEnv)
		}
		cfg.Password = pw
	}
	switch o.rpcapData {
	case "server-open":
		cfg.Transport = remote.DataTCPServerOpen
	case "udp":
		cfg.Transport = remote.DataUDP
	}
	return cfg, nil
}

// dialRemote connects to the host a remote source names.
func dialRemote(o options, source string) (remote.Capturer, string, error) {
	if strings.HasPrefix(source, rpcapScheme) {
		addr, user, iface, err := parseRPCAPURL(source)
		if err != nil {
			return nil, "", err
		}
		cfg, err := rpcapConfig(o, addr, user)
		if err != nil {
			return nil, "", err
		}
		h, err := remote.DialRPCAP(cfg)
		if err != nil {
			return nil, "", err
		}
		return h, iface, nil
	}
	addr, user, iface, err := parseSSHURL(source)
	if err != nil {
		return nil, "", err
	}
	h, err := remote.DialSSH(sshConfig(o, addr, user))
	if err != nil {
		return nil, "", sshError(err)
	}
	return h, iface, nil
}

// parseSSHURL splits ssh://[user@]host[:port][/IFACE] into the connection's
// address ("host:port"), the user ("" for the local one) and the interface
// ("" when absent).
func parseSSHURL(s string) (addr, user, iface string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "ssh" || u.Host == "" {
		return "", "", "", usageErrorf("%q is not an SSH source: write ssh://[USER@]HOST[:PORT]/INTERFACE", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", "", "", usageErrorf("%q: an SSH source has no query or fragment: write ssh://[USER@]HOST[:PORT]/INTERFACE", s)
	}
	if _, pw := u.User.Password(); pw {
		return "", "", "", usageErrorf("%q: give no password in the URL (use the ssh-agent or --identity)", s)
	}
	port := u.Port()
	if port == "" {
		port = "22"
	}
	return net.JoinHostPort(u.Hostname(), port), u.User.Username(), strings.TrimPrefix(u.Path, "/"), nil
}

// sshConfig is the connection the flags and the URL's address and user
// describe.
func sshConfig(o options, addr, user string) remote.SSHConfig {
	return remote.SSHConfig{Addr: addr, User: user, IdentityFiles: o.identities, KnownHostsFile: o.knownHosts, AcceptHostKey: o.acceptHostKey, Sudo: o.sudo}
}

// sshError adds to an unknown host's error how to accept its key.
func sshError(err error) error {
	var unknown *remote.UnknownHostKeyError
	if errors.As(err, &unknown) {
		return fmt.Errorf("%w\n(if the fingerprint is right, run again with --accept-host-key %s)", err, unknown.Fingerprint)
	}
	return err
}

// openRemote starts the capture of a remote source with the filter expr;
// closing the capture closes the connection.
func openRemote(o options, source, expr string) (*capture.Capture, error) {
	rpcap := strings.HasPrefix(source, rpcapScheme)
	parse, scheme := parseSSHURL, sshScheme
	if rpcap {
		parse, scheme = parseRPCAPURL, rpcapScheme
	}
	addr, user, iface, err := parse(source)
	if err != nil {
		return nil, err
	}
	if iface == "" {
		return nil, usageErrorf("%q names no interface: write %s[USER@]HOST[:PORT]/INTERFACE (pkttap-inspect -D %s[USER@]HOST lists them)", source, scheme, scheme)
	}
	co := remote.CaptureOptions{Interface: iface, Snaplen: max(o.snaplen, 0), Promiscuous: o.promisc, Filter: expr}
	if !rpcap {
		c, err := remote.OpenSSH(sshConfig(o, addr, user), co)
		return c, sshError(err)
	}
	cfg, err := rpcapConfig(o, addr, user)
	if err != nil {
		return nil, err
	}
	return remote.OpenRPCAP(cfg, co)
}

// listRemoteInterfaces prints the interfaces of the host -D names, as
// tcpdump -D does.
func listRemoteInterfaces(o options, stdout io.Writer) error {
	h, _, err := dialRemote(o, o.remoteList)
	if err != nil {
		return err
	}
	defer h.Close()
	ifs, err := h.Interfaces()
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	for i, ifc := range ifs {
		fmt.Fprintf(w, "%d.%s", i+1, ifc.Name)
		if ifc.Description != "" {
			fmt.Fprintf(w, " (%s)", ifc.Description)
		}
		writeFlags(w, ifc.Up, ifc.Loopback)
		fmt.Fprintln(w)
	}
	return w.Flush()
}
