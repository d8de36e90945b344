// Package remote captures packets on another machine, with software that
// machine already has: over SSH it runs tcpdump, which writes its capture
// as a pcap stream to standard output, and reads that stream as it comes
// (as Wireshark's sshdump does); or it is a client of rpcapd, libpcap's
// and Npcap's remote capture daemon (see DialRPCAP). The result is a
// *capture.Capture, read like a local live capture. Both kinds of
// connection are a Capturer: Interfaces, Capture, Close.
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
// rpcap is libpcap's remote capture protocol (rpcap-protocol.h in libpcap's
// source; rpcapd answers on port 2002):
//
//	h, err := remote.DialRPCAP(remote.RPCAPConfig{Addr: "sensor", User: "cap", Password: pw})
//	ifs, err := h.Interfaces()                       // pcap_findalldevs there
//	c, err := h.Capture(remote.CaptureOptions{Interface: "eth0", Filter: "tcp port 443"})
//
// The client authenticates with a user name and password or null
// authentication (rpcapd -n), which also settles the protocol version
// (version 0, the only one so far); it opens the interface to learn its
// link type, compiles the filter here for that link type and the server's
// system, and sends the program as BPF instructions. Packets come over a
// TCP connection the client opens to a port the server names (rpcapd's
// passive default), one the server opens to the client, or UDP
// (RPCAPConfig.Transport). Unless told otherwise the filter leaves out the
// rpcap connections' own packets, as Wireshark does. Every message's
// length is checked against what its type can hold before anything is
// allocated: a hostile server gets an error wrapping ErrProtocol. rpcap
// sends the password in the clear; rpcapd's TLS mode (-S) is not spoken.
//
// Errors say what to do, and can be told apart with errors.Is:
// ErrAuthentication, ErrTcpdumpMissing, ErrPermissionDenied,
// ErrNoSuchInterface, ErrNotPcap, ErrConnectionLost, ErrRemoteExited,
// ErrProtocol.
package remote
