package remote

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHConfig says how to reach a remote host over SSH.
type SSHConfig struct {
	// Addr is "host" or "host:port" (port 22 when absent; an IPv6
	// address in brackets).
	Addr string
	// User is the remote user; "" means the local user's name.
	User string
	// IdentityFiles are private key files to offer (unencrypted; keep
	// encrypted keys in the agent). Empty means those of ~/.ssh/id_ed25519,
	// id_ecdsa and id_rsa that exist.
	IdentityFiles []string
	// Password is offered only when not empty, after the keys. Never
	// store it.
	Password string
	// NoAgent leaves the ssh-agent (SSH_AUTH_SOCK) out.
	NoAgent bool
	// NoIdentityFiles offers no key file when IdentityFiles is empty
	// (instead of those of ~/.ssh): the agent's keys, or the password,
	// only.
	NoIdentityFiles bool
	// KnownHostsFile holds the known host keys; "" means
	// ~/.ssh/known_hosts. A missing file knows no host.
	KnownHostsFile string
	// AcceptHostKey is a host key fingerprint ("SHA256:...") the user
	// confirmed: a host that is not in the known_hosts file and presents
	// this key is added to it, and the connection goes on. This is the
	// answer to an UnknownHostKeyError's question.
	AcceptHostKey string
	// Sudo runs tcpdump as "sudo -n tcpdump" (sudo must not ask for a
	// password: a NOPASSWD rule for tcpdump).
	Sudo bool
	// Timeout bounds connecting and the SSH handshake; 0 means 15 s.
	Timeout time.Duration
	// KeepAlive is how often the connection is checked with an SSH
	// keepalive request; one not answered within twice this time closes
	// the connection, so a capture on a host that went silent (a cable
	// pulled, a route gone) ends with ErrConnectionLost instead of
	// waiting for ever. 0 means DefaultKeepAlive, negative none.
	KeepAlive time.Duration
}

// DefaultKeepAlive is how often an SSH connection is checked by default
// (SSHConfig.KeepAlive).
const DefaultKeepAlive = 15 * time.Second

// Host is an SSH connection to a remote host, on which captures run. It
// is safe for use by several goroutines; each capture has its own SSH
// session.
type Host struct {
	addr   string
	user   string
	sudo   bool
	client *ssh.Client
	lost   atomic.Bool // the keepalive closed the connection: the host went silent
}

// DialSSH connects and authenticates to cfg.Addr, checking its host key
// against the known_hosts file (see UnknownHostKeyError and
// ChangedHostKeyError).
func DialSSH(cfg SSHConfig) (*Host, error) {
	addr := cfg.Addr
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(strings.Trim(addr, "[]"), "22")
	}
	name := cfg.User
	if name == "" {
		u, err := user.Current()
		if err != nil {
			return nil, fmt.Errorf("remote: no user name given and the local one is unknown: %w", err)
		}
		name = u.Username
	}
	khFile, err := knownHostsPath(cfg.KnownHostsFile)
	if err != nil {
		return nil, err
	}
	check, algos, err := hostKeyChecker(khFile, addr)
	if err != nil {
		return nil, err
	}
	auth, closeAgent, tried, err := authMethods(cfg)
	if err != nil {
		return nil, err
	}
	defer closeAgent()
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	conf := &ssh.ClientConfig{User: name, Auth: auth, HostKeyCallback: check, HostKeyAlgorithms: algos, Timeout: timeout}
	client, err := ssh.Dial("tcp", addr, conf)
	if err != nil {
		var unknown *UnknownHostKeyError
		var changed *ChangedHostKeyError
		switch {
		case errors.As(err, &unknown) && cfg.AcceptHostKey != "" && cfg.AcceptHostKey == unknown.Fingerprint:
			if err := AddKnownHost(khFile, unknown.Host, unknown.Key); err != nil {
				return nil, err
			}
			cfg.AcceptHostKey = ""
			return DialSSH(cfg)
		case errors.As(err, &unknown):
			return nil, unknown
		case errors.As(err, &changed):
			return nil, changed
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, fmt.Errorf("%w: %s@%s accepted none of %s: add your public key to ~%s/.ssh/authorized_keys on the host, name the right key file, or check the user name (%v)", ErrAuthentication, name, addr, tried, name, err)
		}
		return nil, fmt.Errorf("remote: connect to %s: %w", addr, err)
	}
	h := &Host{addr: addr, user: name, sudo: cfg.Sudo, client: client}
	if ka := cfg.KeepAlive; ka >= 0 {
		if ka == 0 {
			ka = DefaultKeepAlive
		}
		go h.keepAlive(ka)
	}
	return h, nil
}

// keepAlive sends a keepalive request every interval until the
// connection ends, and closes it when one is not answered within twice
// the interval.
func (h *Host) keepAlive(interval time.Duration) {
	ended := make(chan struct{})
	go func() {
		h.client.Wait()
		close(ended)
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ended:
			return
		case <-tick.C:
		}
		answered := make(chan struct{})
		go func() {
			// Any answer will do: OpenSSH refuses the request, in time.
			h.client.SendRequest("keepalive@openssh.com", true, nil)
			close(answered)
		}()
		select {
		case <-answered:
		case <-ended:
			return
		case <-time.After(2 * interval):
			h.lost.Store(true)
			h.client.Close()
			return
		}
	}
}

// Close closes the connection, and with it every capture still running on
// it.
func (h *Host) Close() error { return h.client.Close() }

// knownHostsPath returns file, or ~/.ssh/known_hosts when it is "".
func knownHostsPath(file string) (string, error) {
	if file != "" {
		return file, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("remote: no known_hosts file given and no home directory to find one in: %w", err)
	}
	return filepath.Join(home, ".ssh", "known_hosts"), nil
}

// probeKey is a key no host has, offered to the known_hosts checker to
// learn which key types it knows for a host.
var probeKey, _ = ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))

// hostKeyChecker returns a host key callback that checks keys against
// the known_hosts file and fails with the package's typed errors, and the
// host key algorithms to ask addr for: those of the keys known for it, so
// that a host with several keys is not taken for a changed one.
func hostKeyChecker(file, addr string) (ssh.HostKeyCallback, []string, error) {
	cb, err := knownhosts.New(file)
	if errors.Is(err, fs.ErrNotExist) {
		cb = func(string, net.Addr, ssh.PublicKey) error { return &knownhosts.KeyError{} }
	} else if err != nil {
		return nil, nil, fmt.Errorf("remote: read known hosts %s: %w", file, err)
	}
	var algos []string
	var ke *knownhosts.KeyError
	if err := cb(addr, &net.TCPAddr{}, probeKey); errors.As(err, &ke) {
		for _, k := range ke.Want {
			algos = append(algos, algorithmsFor(k.Key.Type())...)
		}
	}
	check := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := cb(hostname, remote, key)
		var ke *knownhosts.KeyError
		if errors.As(err, &ke) {
			fp := ssh.FingerprintSHA256(key)
			if len(ke.Want) == 0 {
				return &UnknownHostKeyError{Host: hostname, Key: key, Fingerprint: fp, KnownHostsFile: file}
			}
			return &ChangedHostKeyError{Host: hostname, Key: key, Fingerprint: fp, Known: ke.Want, KnownHostsFile: file}
		}
		if err != nil {
			return fmt.Errorf("remote: host key of %s: %w", hostname, err)
		}
		return nil
	}
	return check, algos, nil
}

// algorithmsFor returns the host key algorithms that sign with a key of
// the given type.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// knownHostsMu serializes AddKnownHost's appends within the process.
var knownHostsMu sync.Mutex

// AddKnownHost appends addr's key to the known_hosts file ("" means
// ~/.ssh/known_hosts), creating it (and its folder) when missing: what a
// program does once its user confirmed the fingerprint of an
// UnknownHostKeyError.
func AddKnownHost(file, addr string, key ssh.PublicKey) error {
	file, err := knownHostsPath(file)
	if err != nil {
		return err
	}
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("remote: add known host: %w", err)
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("remote: add known host: %w", err)
	}
	_, werr := fmt.Fprintln(f, knownhosts.Line([]string{knownhosts.Normalize(addr)}, key))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("remote: add known host to %s: %w", file, werr)
	}
	return nil
}

// authMethods returns the authentication methods of cfg: one public key
// method with the agent's keys and the key files', then the password if
// given; a function that closes the agent connection; and a description of
// what is offered, for the error when all fail.
func authMethods(cfg SSHConfig) ([]ssh.AuthMethod, func(), string, error) {
	var signers []ssh.Signer
	var offered []string
	closeAgent := func() {}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" && !cfg.NoAgent {
		if conn, err := net.Dial("unix", sock); err == nil {
			closeAgent = func() { conn.Close() }
			if ss, err := agent.NewClient(conn).Signers(); err == nil && len(ss) > 0 {
				signers = append(signers, ss...)
				offered = append(offered, fmt.Sprintf("%d agent keys", len(ss)))
			}
		}
	}
	files, explicit := cfg.IdentityFiles, len(cfg.IdentityFiles) > 0
	if !explicit && !cfg.NoIdentityFiles {
		if home, err := os.UserHomeDir(); err == nil {
			for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
				files = append(files, filepath.Join(home, ".ssh", n))
			}
		}
	}
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			if !explicit && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			closeAgent()
			return nil, nil, "", fmt.Errorf("remote: read identity file: %w", err)
		}
		s, err := ssh.ParsePrivateKey(pem)
		var pm *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &pm):
			if explicit {
				closeAgent()
				return nil, nil, "", fmt.Errorf("remote: identity file %s is encrypted: add it to the ssh-agent (ssh-add %s) and use the agent", f, f)
			}
			continue
		case err != nil:
			closeAgent()
			return nil, nil, "", fmt.Errorf("remote: identity file %s: %w", f, err)
		}
		signers = append(signers, s)
		offered = append(offered, "key "+f)
	}
	var methods []ssh.AuthMethod
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if cfg.Password != "" {
		methods = append(methods, ssh.Password(cfg.Password))
		offered = append(offered, "the password")
	}
	if len(offered) == 0 {
		offered = append(offered, "no key (no agent, no key file)")
	}
	return methods, closeAgent, strings.Join(offered, ", "), nil
}

// maxOutput bounds what run keeps of a short command's output.
const maxOutput = 1 << 20

// run runs a short command on the host and returns its output (each
// bounded), its exit status (-1 when it had none) and an error only when
// the command could not be run at all.
func (h *Host) run(cmd string) (stdout, stderr []byte, status int, err error) {
	s, err := h.client.NewSession()
	if err != nil {
		return nil, nil, -1, fmt.Errorf("remote: open an SSH session on %s: %w", h.addr, err)
	}
	defer s.Close()
	var out, errOut limitedBuffer
	out.max, errOut.max = maxOutput, maxOutput
	s.Stdout, s.Stderr = &out, &errOut
	err = s.Run(cmd)
	var ee *ssh.ExitError
	switch {
	case err == nil:
		return out.Bytes(), errOut.Bytes(), 0, nil
	case errors.As(err, &ee):
		return out.Bytes(), errOut.Bytes(), ee.ExitStatus(), nil
	}
	return out.Bytes(), errOut.Bytes(), -1, fmt.Errorf("%w: running %q on %s: %v", ErrConnectionLost, cmd, h.addr, err)
}

// limitedBuffer keeps the first max bytes written to it and drops the rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

var _ io.Writer = (*limitedBuffer)(nil)
