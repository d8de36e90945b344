package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/capture/remote"
)

// sshScheme starts a remote capture source: ssh://user@host[:port]/IFACE.
const sshScheme = "ssh://"

// isSSHSource reports whether a source argument names a remote capture.
func isSSHSource(arg string) bool { return strings.HasPrefix(arg, sshScheme) }

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

// openSSH starts the capture of an ssh:// source with the filter expr;
// closing the capture closes the connection.
func openSSH(o options, source, expr string) (*capture.Capture, error) {
	addr, user, iface, err := parseSSHURL(source)
	if err != nil {
		return nil, err
	}
	if iface == "" {
		return nil, usageErrorf("%q names no interface: write ssh://[USER@]HOST[:PORT]/INTERFACE (pkttap-inspect -D ssh://[USER@]HOST lists them)", source)
	}
	c, err := remote.OpenSSH(sshConfig(o, addr, user), remote.CaptureOptions{Interface: iface, Snaplen: max(o.snaplen, 0), Promiscuous: o.promisc, Filter: expr})
	return c, sshError(err)
}

// listRemoteInterfaces prints the interfaces of the host -D names, as
// tcpdump -D does.
func listRemoteInterfaces(o options, stdout io.Writer) error {
	addr, user, _, err := parseSSHURL(o.remoteList)
	if err != nil {
		return err
	}
	h, err := remote.DialSSH(sshConfig(o, addr, user))
	if err != nil {
		return sshError(err)
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
