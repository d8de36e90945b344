package remote

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Errors of a remote capture, wrapped in messages that say what to do;
// test for them with errors.Is.
var (
	// ErrAuthentication: the SSH server refused every key and password,
	// or the rpcap server the user name and password (or null
	// authentication, or this client's host).
	ErrAuthentication = errors.New("remote: authentication failed")
	// ErrTcpdumpMissing: the remote host has no tcpdump in the PATH of a
	// non-interactive shell.
	ErrTcpdumpMissing = errors.New("remote: tcpdump is not installed on the remote host")
	// ErrPermissionDenied: the remote user may not capture packets (with
	// SSH, tcpdump said so; with rpcap, rpcapd, which captures as the user
	// who logged in).
	ErrPermissionDenied = errors.New("remote: permission denied for capturing on the remote host")
	// ErrNoSuchInterface: the remote host has no interface of that name.
	ErrNoSuchInterface = errors.New("remote: no such interface on the remote host")
	// ErrNotPcap: the remote command wrote something other than a pcap
	// stream.
	ErrNotPcap = errors.New("remote: the remote command's output is not a pcap stream")
	// ErrConnectionLost: the SSH connection, or an rpcap control or data
	// connection, ended while capturing, or the server stopped answering;
	// every packet returned before it is good.
	ErrConnectionLost = errors.New("remote: the connection was lost")
	// ErrRemoteExited: the remote tcpdump ended by itself while capturing.
	ErrRemoteExited = errors.New("remote: the remote tcpdump ended")
)

// UnknownHostKeyError is returned by DialSSH when the host's key is not in
// the known_hosts file: the first connection to that host. Show the
// Fingerprint to the user, and if they confirm it (it is the one
// `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` prints on the host), call
// AddKnownHost and dial again.
type UnknownHostKeyError struct {
	Host           string        // the host as dialed, host:port
	Key            ssh.PublicKey // the key the host presented
	Fingerprint    string        // the key's SHA256 fingerprint, "SHA256:..."
	KnownHostsFile string        // the file that was searched
}

func (e *UnknownHostKeyError) Error() string {
	return fmt.Sprintf("remote: the host key of %s is not known (%s key %s): if this fingerprint is the host's, add it to %s (accept it on first use, or run ssh-keyscan for the host and append the line)", e.Host, e.Key.Type(), e.Fingerprint, e.KnownHostsFile)
}

// ChangedHostKeyError is returned by DialSSH when the host presents a key
// other than the one the known_hosts file holds for it: the host was
// reinstalled, or someone is intercepting the connection.
type ChangedHostKeyError struct {
	Host           string                // the host as dialed, host:port
	Key            ssh.PublicKey         // the key the host presented
	Fingerprint    string                // its SHA256 fingerprint
	Known          []knownhosts.KnownKey // the keys known_hosts holds for the host, with file and line
	KnownHostsFile string
}

func (e *ChangedHostKeyError) Error() string {
	where := e.KnownHostsFile
	if len(e.Known) > 0 {
		where = fmt.Sprintf("%s:%d (%s key %s)", e.Known[0].Filename, e.Known[0].Line, e.Known[0].Key.Type(), ssh.FingerprintSHA256(e.Known[0].Key))
	}
	return fmt.Sprintf("remote: WARNING: the host key of %s has changed: it now presents %s key %s, known_hosts has %s; someone may be intercepting the connection, or the host was reinstalled: ask its administrator, and only if the new key is right remove the old line (ssh-keygen -R HOST -f %s)", e.Host, e.Key.Type(), e.Fingerprint, where, e.KnownHostsFile)
}
