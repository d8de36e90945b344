package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/capture/remote"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
	"golang.org/x/crypto/ssh"
)

// SSHOptions configure the remote (SSH) sources of live captures: which
// known_hosts file host keys are checked against (and accepted into) and
// which key files a request may name. A request never names a path on
// the server: it names a key by its file name, from KeyFiles.
type SSHOptions struct {
	// KnownHostsFile is checked and appended to; "" means
	// ~/.ssh/known_hosts of the user pkttap-web runs as.
	KnownHostsFile string
	// KeyFiles are the private key files a source may authenticate with,
	// named by their base name in requests; nil means those of
	// ~/.ssh/id_ed25519, id_ecdsa and id_rsa that exist.
	KeyFiles []string
	// KeepAlive is remote.SSHConfig.KeepAlive: how soon a host gone
	// silent is noticed (0: remote.DefaultKeepAlive).
	KeepAlive time.Duration
	// Dial connects to a host; nil means remote.DialSSH (tests reach
	// hosts in network namespaces through it).
	Dial func(remote.SSHConfig) (*remote.Host, error)
}

// SSHSource says how a source of a live capture reaches a remote host:
// pkttap-web runs tcpdump there over SSH (package capture/remote).
type SSHSource struct {
	Host string `json:"host"`           // a host name or IP address
	Port int    `json:"port,omitempty"` // 0 means 22
	User string `json:"user,omitempty"` // "" means the user pkttap-web runs as
	// Auth is "agent" (the ssh-agent of pkttap-web), "key" (Key, one of
	// GET /api/remote/keys) or "password" (Password, used for this
	// request only and never stored).
	Auth     string `json:"auth"`
	Key      string `json:"key,omitempty"`
	Password string `json:"password,omitempty"`
	// Sudo runs tcpdump as "sudo -n tcpdump" (a NOPASSWD rule on the host).
	Sudo bool `json:"sudo,omitempty"`
	// AcceptHostKey is the SHA256 fingerprint of the host key the user
	// accepted after an unknown-host answer: it is added to the server's
	// known_hosts file.
	AcceptHostKey string `json:"acceptHostKey,omitempty"`
}

// SourceOptions are one source of a live capture of several sources
// (POST /api/live {"sources": [...]}): an interface of this machine, or
// of a remote host when SSH (tcpdump over SSH) or RPCAP (rpcapd) is set.
type SourceOptions struct {
	Interface   string       `json:"interface"`
	Filter      string       `json:"filter,omitempty"`
	Snaplen     int          `json:"snaplen,omitempty"` // 0 means capture.MaxSnaplen
	Promiscuous bool         `json:"promiscuous,omitempty"`
	SSH         *SSHSource   `json:"ssh,omitempty"`
	RPCAP       *RPCAPSource `json:"rpcap,omitempty"`
}

// SourceError is the error of one source of a capture being started or
// reconnected: Index is its place in the request.
type SourceError struct {
	Index int
	Name  string
	Err   error
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("source %d (%s): %v", e.Index+1, e.Name, e.Err)
}
func (e *SourceError) Unwrap() error { return e.Err }

// errBadSource is wrapped by the errors of a source request that cannot
// be right, whatever the host says.
var errBadSource = errors.New("bad source")

// remoteSources is what the server keeps of the sources of the captures
// it started, to reconnect them: their options without any password.
type remoteSources struct {
	mu   sync.Mutex
	byID map[string][]SourceOptions
}

func (r *remoteSources) set(id string, srcs []SourceOptions) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID = map[string][]SourceOptions{}
	}
	r.byID[id] = srcs
}

func (r *remoteSources) get(id string, i int) (SourceOptions, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	srcs := r.byID[id]
	if i < 0 || i >= len(srcs) {
		return SourceOptions{}, false
	}
	return srcs[i], true
}

// keyFiles returns the key files requests may name.
func (s *Server) keyFiles() []string {
	if s.cfg.SSH.KeyFiles != nil {
		return s.cfg.SSH.KeyFiles
	}
	var out []string
	if home, err := os.UserHomeDir(); err == nil {
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			if f := filepath.Join(home, ".ssh", n); fileExists(f) {
				out = append(out, f)
			}
		}
	}
	return out
}

func fileExists(f string) bool {
	st, err := os.Stat(f)
	return err == nil && st.Mode().IsRegular()
}

// sshConfig turns a request's SSH part into the remote package's
// configuration, checking what it can without connecting.
func (s *Server) sshConfig(r *SSHSource) (remote.SSHConfig, error) {
	addr, err := hostPort(r.Host, r.Port, 22)
	if err != nil {
		return remote.SSHConfig{}, err
	}
	if strings.ContainsAny(r.User, " \t\r\n@:/") {
		return remote.SSHConfig{}, fmt.Errorf("%w: user name %q", errBadSource, r.User)
	}
	cfg := remote.SSHConfig{
		Addr: addr, User: r.User, Sudo: r.Sudo,
		KnownHostsFile: s.cfg.SSH.KnownHostsFile, AcceptHostKey: r.AcceptHostKey, KeepAlive: s.cfg.SSH.KeepAlive,
		Timeout: 10 * time.Second,
	}
	switch r.Auth {
	case "agent":
		if os.Getenv("SSH_AUTH_SOCK") == "" {
			return cfg, fmt.Errorf("%w: pkttap-web has no ssh-agent (SSH_AUTH_SOCK is not set where it runs): choose a key file or a password", errBadSource)
		}
		cfg.NoIdentityFiles = true // the agent's keys only
	case "key":
		i := slices.IndexFunc(s.keyFiles(), func(f string) bool { return filepath.Base(f) == r.Key })
		if i < 0 {
			return cfg, fmt.Errorf("%w: no key file %q on the server (GET /api/remote/keys lists them)", errBadSource, r.Key)
		}
		cfg.IdentityFiles, cfg.NoAgent = []string{s.keyFiles()[i]}, true
	case "password":
		if r.Password == "" {
			return cfg, fmt.Errorf("%w: type the password", errBadSource)
		}
		cfg.Password, cfg.NoAgent, cfg.NoIdentityFiles = r.Password, true, true
	default:
		return cfg, fmt.Errorf(`%w: auth must be "agent", "key" or "password", not %q`, errBadSource, r.Auth)
	}
	return cfg, nil
}

// dial connects to the host of r.
func (s *Server) dial(r *SSHSource) (*remote.Host, error) {
	cfg, err := s.sshConfig(r)
	if err != nil {
		return nil, err
	}
	if s.cfg.SSH.Dial != nil {
		return s.cfg.SSH.Dial(cfg)
	}
	return remote.DialSSH(cfg)
}

// sourceName is the pcapng interface name of a source: "host:iface".
func sourceName(o SourceOptions) string {
	host := o.remoteHost()
	if host == "" {
		host = "local"
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	return host + ":" + o.Interface
}

// openSource opens one source of a live capture: the reader the merge
// reads and the interface it is written under.
func (s *Server) openSource(o SourceOptions) (capture.PacketReader, pcapio.Interface, error) {
	if o.Snaplen == 0 {
		o.Snaplen = capture.MaxSnaplen
	}
	if o.Snaplen < 1 || o.Snaplen > capture.MaxSnaplen {
		return nil, pcapio.Interface{}, fmt.Errorf("snaplen %d is out of range: %w", o.Snaplen, errBadSnaplen)
	}
	if o.Interface == "" {
		return nil, pcapio.Interface{}, fmt.Errorf("%w: no interface: say which one in \"interface\"", errBadSource)
	}
	ifc := pcapio.Interface{Name: sourceName(o), Filter: strings.TrimSpace(o.Filter), Snaplen: uint32(o.Snaplen)}
	if o.SSH == nil && o.RPCAP == nil {
		src, err := s.openLocal(LiveOptions{Interface: o.Interface, Filter: ifc.Filter, Snaplen: o.Snaplen, Promiscuous: o.Promiscuous})
		if err != nil {
			return nil, ifc, err
		}
		ifc.LinkType = src.LinkType()
		return ownedReader{src}, ifc, nil
	}
	h, err := s.dialSource(o)
	if err != nil {
		return nil, ifc, err
	}
	c, err := h.Capture(remote.CaptureOptions{Interface: o.Interface, Filter: ifc.Filter, Snaplen: o.Snaplen, Promiscuous: o.Promiscuous})
	if err != nil {
		h.Close()
		return nil, ifc, err
	}
	ifc.LinkType = c.LinkType()
	return hostCapture{c, h}, ifc, nil
}

// hostCapture is a remote capture whose Close also closes its connection.
type hostCapture struct {
	*capture.Capture
	h remote.Capturer
}

func (c hostCapture) Close() error {
	err := c.Capture.Close()
	c.h.Close()
	return err
}

// ownedReader reads a LiveSource as a capture.PacketReader: each packet
// copied out of the source's buffer.
type ownedReader struct{ LiveSource }

func (r ownedReader) Next() (pcapio.Packet, error) {
	p, err := r.NextZeroCopy()
	if err == nil {
		p.Data = bytes.Clone(p.Data)
	}
	return p, err
}

// StartSources starts a live capture of several sources at once (local
// interfaces and remote hosts), merged by timestamp into one capture
// with one pcapng interface per source (see capture.Merged). Sources are
// opened in order; when one fails, those opened are closed and the error
// is a *SourceError naming it. A source that fails later (a lost
// connection) waits for ReconnectSource while the others go on.
func (s *Server) StartSources(srcs []SourceOptions) (*store.Store, error) {
	if s.cfg.NoLive {
		return nil, errLiveDisabled
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("%w: no source: give at least one", errBadSource)
	}
	if len(srcs) > maxSources {
		return nil, fmt.Errorf("%w: %d sources; at most %d in one capture", errBadSource, len(srcs), maxSources)
	}
	var inputs []capture.MergeInput
	var names []string
	fail := func(err error) (*store.Store, error) {
		for _, in := range inputs {
			in.Reader.Close()
		}
		return nil, err
	}
	for i, o := range srcs {
		r, ifc, err := s.openSource(o)
		if err != nil {
			return fail(&SourceError{Index: i, Name: ifc.Name, Err: err})
		}
		inputs = append(inputs, capture.MergeInput{Reader: r, Interface: ifc})
		names = append(names, ifc.Name)
	}
	m, err := capture.Merge(capture.MergeOptions{KeepFailed: true}, inputs...)
	if err != nil {
		return fail(err)
	}
	c, err := s.pool.AddLive(m, LiveOptions{Interface: strings.Join(names, ", "), Snaplen: capture.MaxSnaplen})
	if err != nil {
		return nil, err
	}
	kept := make([]SourceOptions, len(srcs))
	for i, o := range srcs {
		kept[i] = o.withoutSecrets() // never stored
	}
	s.sources.set(c.ID(), kept)
	s.log.Info("live capture of several sources started", "id", c.ID(), "sources", names)
	return c, nil
}

// maxSources bounds the sources of one capture.
const maxSources = 16

// ReconnectSource opens source i of live capture c again, as it was
// started, after it failed (a lost connection); password is the SSH
// password for a source that uses one (never stored), acceptHostKey a
// fingerprint the user accepted.
func (s *Server) ReconnectSource(c *store.Store, i int, password, acceptHostKey string) error {
	o, ok := s.sources.get(c.ID(), i)
	if !ok {
		return fmt.Errorf("%w: capture %s has no source %d that this server started", errBadSource, c.ID(), i+1)
	}
	r, ifc, err := s.openSource(o.withSecrets(password, acceptHostKey))
	if err != nil {
		return &SourceError{Index: i, Name: ifc.Name, Err: err}
	}
	if was := c.Interfaces(); i < len(was) && was[i].LinkType != ifc.LinkType {
		r.Close()
		return &SourceError{Index: i, Name: ifc.Name, Err: fmt.Errorf("%w: the interface now has link type %s, not %s as before: start a new capture", errBadSource, ifc.LinkType, was[i].LinkType)}
	}
	if err := c.ReconnectSource(i, r); err != nil {
		return &SourceError{Index: i, Name: ifc.Name, Err: err}
	}
	s.log.Info("live capture source reconnected", "id", c.ID(), "source", ifc.Name)
	return nil
}

// hostKeyInfo is a host key a remote source was refused for, as the API
// answers it: the UI shows the fingerprint and asks.
type hostKeyInfo struct {
	Host        string `json:"host"`
	Type        string `json:"type"`
	Fingerprint string `json:"fingerprint"`
	Changed     bool   `json:"changed"`         // the host presents another key than known_hosts has
	Known       string `json:"known,omitempty"` // the fingerprint known_hosts has, when changed
}

// remoteAPIError is the answer to a request a source failed: apiError's
// fields, and what the UI needs to say what to do.
type remoteAPIError struct {
	apiError
	// Code names the kind of failure: hostkey-unknown, hostkey-changed,
	// auth, permission, tcpdump-missing, no-interface, not-pcap,
	// protocol (an rpcap server's answer pkttap cannot read), connection,
	// filter, bad-request.
	Code    string       `json:"code"`
	Source  *int         `json:"source,omitempty"` // 0-based, in the request's sources
	HostKey *hostKeyInfo `json:"hostKey,omitempty"`
}

// writeSourceError answers the error of starting, listing or
// reconnecting a source, with a status and code that say what went wrong.
// The error's text says what to do (the remote package's errors do).
func writeSourceError(w http.ResponseWriter, err error) {
	body := remoteAPIError{apiError: apiError{Error: err.Error()}}
	var se *SourceError
	if errors.As(err, &se) {
		body.Source = &se.Index
	}
	var unknown *remote.UnknownHostKeyError
	var changed *remote.ChangedHostKeyError
	var fe *filter.Error
	var pe *capture.PlatformError
	status := http.StatusBadGateway
	switch {
	case errors.As(err, &unknown):
		status, body.Code = http.StatusConflict, "hostkey-unknown"
		body.HostKey = &hostKeyInfo{Host: unknown.Host, Type: unknown.Key.Type(), Fingerprint: unknown.Fingerprint}
	case errors.As(err, &changed):
		status, body.Code = http.StatusConflict, "hostkey-changed"
		body.HostKey = &hostKeyInfo{Host: changed.Host, Type: changed.Key.Type(), Fingerprint: changed.Fingerprint, Changed: true}
		if len(changed.Known) > 0 {
			body.HostKey.Known = ssh.FingerprintSHA256(changed.Known[0].Key)
		}
	case errors.As(err, &fe):
		status, body.Code, body.Column = http.StatusBadRequest, "filter", fe.Column
		body.Language = store.BPF
	case errors.Is(err, remote.ErrAuthentication):
		status, body.Code = http.StatusForbidden, "auth"
	case errors.Is(err, remote.ErrPermissionDenied), errors.Is(err, capture.ErrPermissionDenied):
		status, body.Code = http.StatusForbidden, "permission"
	case errors.Is(err, remote.ErrTcpdumpMissing):
		body.Code = "tcpdump-missing"
	case errors.Is(err, remote.ErrNoSuchInterface), errors.Is(err, errNoInterface), errors.Is(err, errInterfaceDown), errors.As(err, &pe):
		status, body.Code = http.StatusBadRequest, "no-interface"
	case errors.Is(err, remote.ErrNotPcap):
		body.Code = "not-pcap"
	case errors.Is(err, remote.ErrProtocol):
		body.Code = "protocol"
		body.Error += ": check that the port is rpcapd's (2002 unless rpcapd -p says otherwise) and that rpcapd runs without TLS (-S), which pkttap does not speak"
	case errors.Is(err, remote.ErrConnectionLost):
		body.Code = "connection"
		body.Error += ": check that the remote host and its server still run and are reachable, then reconnect the source"
	case errors.Is(err, errLiveDisabled):
		status, body.Code = http.StatusForbidden, "disabled"
	case errors.Is(err, errBadSource), errors.Is(err, errBadSnaplen):
		status, body.Code = http.StatusBadRequest, "bad-request"
	case errors.Is(err, store.ErrNotLive), errors.Is(err, store.ErrNotMulti), errors.Is(err, capture.ErrSourceRunning):
		status, body.Code = http.StatusConflict, "state"
	default:
		body.Code = "connection"
	}
	writeJSON(w, status, body)
}

// decodeBody decodes a small JSON request body into v, answering 400 on
// failure.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, example string) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "body must be JSON like "+example+": "+err.Error())
		return false
	}
	return true
}

const sshExample = `{"host": "192.0.2.7", "port": 22, "user": "root", "auth": "key", "key": "id_ed25519"}`

// handleRemoteKeys lists the key files a remote source may use.
func (s *Server) handleRemoteKeys(w http.ResponseWriter, r *http.Request) {
	if s.cfg.NoLive {
		writeError(w, http.StatusForbidden, errLiveDisabled.Error())
		return
	}
	keys := []string{}
	for _, f := range s.keyFiles() {
		keys = append(keys, filepath.Base(f))
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys, "agent": os.Getenv("SSH_AUTH_SOCK") != ""})
}

// remoteInterface is a remote host's interface as the API lists it.
type remoteInterface struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Up          bool   `json:"up"`
	Loopback    bool   `json:"loopback"`
}

// linkTypeRequest is the body of POST /api/remote/linktype (and, without
// Interface, of POST /api/remote/interfaces): an SSHSource, or with
// Protocol "rpcap" an RPCAPSource's fields (host, port, user, password,
// transport).
type linkTypeRequest struct {
	SSHSource
	Protocol  string `json:"protocol,omitempty"`  // "ssh" (the default) or "rpcap"
	Transport string `json:"transport,omitempty"` // rpcap's; see RPCAPSource
	Interface string `json:"interface,omitempty"`
}

// source returns the request's host as a source's options.
func (r linkTypeRequest) source() (SourceOptions, error) {
	o := SourceOptions{Interface: r.Interface}
	switch r.Protocol {
	case "", "ssh":
		if r.Transport != "" {
			return o, fmt.Errorf("%w: transport is rpcap's: say \"protocol\": \"rpcap\"", errBadSource)
		}
		o.SSH = &r.SSHSource
	case "rpcap":
		if r.Auth != "" || r.Key != "" || r.Sudo || r.AcceptHostKey != "" {
			return o, fmt.Errorf("%w: auth, key, sudo and acceptHostKey are SSH's; rpcap takes host, port, user, password and transport", errBadSource)
		}
		o.RPCAP = &RPCAPSource{Host: r.Host, Port: r.Port, User: r.User, Password: r.Password, Transport: r.Transport}
	default:
		return o, fmt.Errorf(`%w: protocol must be "ssh" or "rpcap", not %q`, errBadSource, r.Protocol)
	}
	return o, nil
}

// withHost answers a request about a remote host: it decodes the body
// (a linkTypeRequest), connects by SSH or rpcap, and answers what ask
// returns from the connection, or its error.
func (s *Server) withHost(w http.ResponseWriter, r *http.Request, example string, ask func(h remote.Capturer, iface string) (any, error)) {
	if s.cfg.NoLive {
		writeError(w, http.StatusForbidden, errLiveDisabled.Error())
		return
	}
	var req linkTypeRequest
	if !decodeBody(w, r, &req, example) {
		return
	}
	o, err := req.source()
	if err != nil {
		writeSourceError(w, err)
		return
	}
	h, err := s.dialSource(o)
	if err != nil {
		writeSourceError(w, err)
		return
	}
	defer h.Close()
	v, err := ask(h, req.Interface)
	if err != nil {
		writeSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// handleRemoteInterfaces connects to a host and lists its interfaces.
func (s *Server) handleRemoteInterfaces(w http.ResponseWriter, r *http.Request) {
	s.withHost(w, r, sshExample, func(h remote.Capturer, _ string) (any, error) {
		ifs, err := h.Interfaces()
		if err != nil {
			return nil, err
		}
		out := make([]remoteInterface, 0, len(ifs))
		for _, ifc := range ifs {
			out = append(out, remoteInterface{Name: ifc.Name, Description: ifc.Description, Up: ifc.Up, Loopback: ifc.Loopback})
		}
		return out, nil
	})
}

// handleRemoteLinkType answers the link type of a remote interface, which
// its capture filter is checked for (GET /api/filter?linktype=).
func (s *Server) handleRemoteLinkType(w http.ResponseWriter, r *http.Request) {
	s.withHost(w, r, `{"host": "192.0.2.7", "auth": "agent", "interface": "eth0"}`, func(h remote.Capturer, iface string) (any, error) {
		if sh, ok := h.(*remote.Host); ok {
			lt, goos, err := sh.LinkType(iface)
			if err != nil {
				return nil, err
			}
			return map[string]string{"linkType": lt.String(), "os": goos}, nil
		}
		// rpcap: the server names the link type as it opens the interface.
		opts, err := h.FilterOptions(iface, 0)
		if err != nil {
			return nil, err
		}
		return map[string]string{"linkType": opts.LinkType.String()}, nil
	})
}

// sourceParam returns the capture and the source (0-based) a source
// route names ({n}: 1-based), answering 404 when there is none.
func (s *Server) sourceParam(w http.ResponseWriter, r *http.Request) (*store.Store, int, bool) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return nil, 0, false
	}
	n, err := strconv.Atoi(chi.URLParam(r, "n"))
	if err != nil || n < 1 || n > maxSources {
		writeError(w, http.StatusNotFound, "no source "+strconv.Quote(chi.URLParam(r, "n"))+": sources are numbered from 1")
		return nil, 0, false
	}
	return c, n - 1, true
}

// handleStopSource stops one source of a live capture of several.
func (s *Server) handleStopSource(w http.ResponseWriter, r *http.Request) {
	c, i, ok := s.sourceParam(w, r)
	if !ok {
		return
	}
	if err := c.StopSource(i); err != nil {
		writeSourceError(w, err)
		return
	}
	s.waitSourceState(c, i, func(st string) bool { return st != capture.SourceRunning })
	writeJSON(w, http.StatusOK, c.Info())
}

// reconnectRequest is the body of POST .../sources/{n}/reconnect.
type reconnectRequest struct {
	Password      string `json:"password,omitempty"`
	AcceptHostKey string `json:"acceptHostKey,omitempty"`
}

// handleReconnectSource opens a failed source of a live capture again.
func (s *Server) handleReconnectSource(w http.ResponseWriter, r *http.Request) {
	c, i, ok := s.sourceParam(w, r)
	if !ok {
		return
	}
	var req reconnectRequest
	if r.ContentLength != 0 && !decodeBody(w, r, &req, `{"password": "..."}`) {
		return
	}
	if err := s.ReconnectSource(c, i, req.Password, req.AcceptHostKey); err != nil {
		writeSourceError(w, err)
		return
	}
	s.waitSourceState(c, i, func(st string) bool { return st == capture.SourceRunning })
	writeJSON(w, http.StatusOK, c.Info())
}

// waitSourceState waits briefly until source i's state, as the capture's
// info reports it, satisfies ok: the answer then shows the change.
func (s *Server) waitSourceState(c *store.Store, i int, ok func(string) bool) {
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if l := c.Info().Live; l == nil || i >= len(l.Sources) || ok(l.Sources[i].State) || !l.Running {
			return
		}
	}
}
