// Package remote captures packets on another machine, with software that
// machine already has: over SSH it runs tcpdump, which writes its capture
// as a pcap stream to standard output, and reads that stream as it comes
// (as Wireshark's sshdump does). The result is a *capture.Capture, read
// like a local live capture.
//
//	h, err := remote.DialSSH(remote.SSHConfig{Addr: "router:22", User: "admin"})
//	ifs, err := h.Interfaces()                       // tcpdump -D, or ip -o link
//	c, err := h.Capture(remote.CaptureOptions{Interface: "eth0", Filter: "tcp port 443"})
//	defer c.Close()                                  // stops the remote tcpdump
//	for pkt, err := range c.Packets() { ... }
//
// The host's key is checked against known_hosts (~/.ssh/known_hosts unless
// SSHConfig.KnownHostsFile says otherwise): an unknown host fails with an
// *UnknownHostKeyError carrying the key's fingerprint, so that a program
// can ask its user and then call AddKnownHost; a changed key fails with a
// *ChangedHostKeyError. Authentication uses the ssh-agent (SSH_AUTH_SOCK)
// and key files, and a password only when the caller gives one.
//
// The capture filter is compiled by pkttap's own compiler for the remote
// interface's link type before it is sent, so a mistake is reported with
// its column, and every argument of the remote command is quoted for the
// remote POSIX shell: no filter or interface name can run a command there.
//
// Errors say what to do, and can be told apart with errors.Is:
// ErrAuthentication, ErrTcpdumpMissing, ErrPermissionDenied,
// ErrNoSuchInterface, ErrNotPcap, ErrConnectionLost, ErrRemoteExited.
package remote
