package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// DefaultMaxLive is the default size at which a live capture stops by
// itself: 1 GiB of captured packet bytes (its spool's block headers aside).
const DefaultMaxLive = 1 << 30

// LiveOptions describe a live capture to open (Interface as
// LiveBackend.Interfaces lists it; StartLive takes Snaplen 0 for
// capture.MaxSnaplen, as everywhere in pkttap).
type LiveOptions = store.LiveOptions

// LiveSource is an open live capture as the server reads it (see
// store.LiveSource); *capture.Capture is one.
type LiveSource = store.LiveSource

// LiveBackend lists interfaces and opens live captures for the server. The
// default, CaptureBackend, is package capture; tests substitute one that
// opens its sockets in a network namespace.
type LiveBackend interface {
	Interfaces() ([]capture.Interface, error)
	Open(o LiveOptions) (LiveSource, error)
}

// CaptureBackend is the LiveBackend of package capture: the machine's own
// interfaces.
type CaptureBackend struct{}

// Interfaces lists the interfaces with capture.Interfaces.
func (CaptureBackend) Interfaces() ([]capture.Interface, error) { return capture.Interfaces() }

// Open opens a live capture with capture.Live.
func (CaptureBackend) Open(o LiveOptions) (LiveSource, error) {
	return capture.Live(o.Interface).Promiscuous(o.Promiscuous).Snaplen(o.Snaplen).Filter(o.Filter).Open()
}

// InterfaceInfo is a network interface as GET /api/interfaces lists it.
type InterfaceInfo struct {
	Name         string   `json:"name"`
	FriendlyName string   `json:"friendlyName,omitempty"` // Windows' "Ethernet", "Wi-Fi"; accepted where name is
	Description  string   `json:"description,omitempty"`
	Index        int      `json:"index"`
	Up           bool     `json:"up"`
	Loopback     bool     `json:"loopback"`
	Addresses    []string `json:"addresses"` // CIDR notation
	HardwareAddr string   `json:"hardwareAddr,omitempty"`
	LinkType     string   `json:"linkType"` // a capture's link type (DLT name), as capture.Interface has it
}

// LiveInfo is the live part of a capture's info.
type LiveInfo = store.LiveInfo

// sortInterfaces orders interfaces as the UI offers them: up before down,
// with addresses before without, loopback after the others, then by index.
func sortInterfaces(ifs []InterfaceInfo) {
	rank := func(ifc InterfaceInfo) int {
		r := 0
		if !ifc.Up {
			r += 4
		}
		if ifc.Loopback {
			r += 2
		}
		if len(ifc.Addresses) == 0 {
			r++
		}
		return r
	}
	slices.SortStableFunc(ifs, func(a, b InterfaceInfo) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.Index, b.Index), cmp.Compare(a.Name, b.Name))
	})
}

// interfaces lists the backend's interfaces for the API.
func (s *Server) interfaces() ([]InterfaceInfo, error) {
	ifs, err := s.live.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]InterfaceInfo, 0, len(ifs))
	for _, ifc := range ifs {
		info := InterfaceInfo{
			Name: ifc.Name, FriendlyName: ifc.FriendlyName, Description: ifc.Description, Index: ifc.Index,
			Up: ifc.Up, Loopback: ifc.Loopback, Addresses: []string{}, LinkType: ifc.LinkType.String(),
		}
		for _, a := range ifc.Addresses {
			info.Addresses = append(info.Addresses, a.String())
		}
		if len(ifc.HardwareAddr) > 0 {
			info.HardwareAddr = ifc.HardwareAddr.String()
		}
		out = append(out, info)
	}
	sortInterfaces(out)
	return out, nil
}

// interfaceNamed returns the index in ifs of the interface called name:
// its Name, or its FriendlyName (Windows' "Ethernet", which capture.Live
// takes too, as Windows compares it, without regard to case); -1 if none.
func interfaceNamed(ifs []capture.Interface, name string) int {
	if i := slices.IndexFunc(ifs, func(ifc capture.Interface) bool { return ifc.Name == name }); i >= 0 {
		return i
	}
	return slices.IndexFunc(ifs, func(ifc capture.Interface) bool {
		return ifc.FriendlyName != "" && strings.EqualFold(ifc.FriendlyName, name)
	})
}

// errLiveDisabled is the answer to live requests on a server started with
// --no-live.
var errLiveDisabled = errors.New("live capture is disabled on this server (pkttap-web --no-live): open capture files instead")

// errBadSnaplen reports a snap length out of range.
var errBadSnaplen = fmt.Errorf("it must be between 1 and %d bytes (0 means %[1]d)", capture.MaxSnaplen)

// errNoInterface is wrapped by the error for an interface the backend does
// not list.
var errNoInterface = errors.New("GET /api/interfaces lists them")

// errInterfaceDown is wrapped by the error for an interface the backend
// lists as down.
var errInterfaceDown = errors.New("bring it up, then start the capture")

// StartLive opens a live capture and registers it as a new capture whose
// packets are spooled and indexed as they arrive. An interface the backend
// does not list, or lists as down, is refused before anything is created.
// Errors from the backend are returned as they are (wrapped): a
// *filter.Error for a filter that does not compile for the interface's
// link type, capture.ErrPermissionDenied when the process may not capture.
func (s *Server) StartLive(o LiveOptions) (*store.Store, error) {
	if s.cfg.NoLive {
		return nil, errLiveDisabled
	}
	if o.Snaplen == 0 {
		o.Snaplen = capture.MaxSnaplen
	}
	if o.Snaplen < 1 || o.Snaplen > capture.MaxSnaplen {
		return nil, fmt.Errorf("snaplen %d is out of range: %w", o.Snaplen, errBadSnaplen)
	}
	src, err := s.openLocal(o)
	if err != nil {
		return nil, err
	}
	c, err := s.pool.AddLive(src, o)
	if err != nil {
		return nil, err
	}
	if w, ok := src.(interface{ Warnings() []error }); ok {
		for _, err := range w.Warnings() {
			s.log.Warn("live capture opened with a warning", "id", c.ID(), "interface", o.Interface, "warning", err)
		}
	}
	return c, nil
}

// openLocal opens a capture on an interface of this machine (o.Snaplen
// in range). An interface the backend does not list, or lists as down,
// is refused before anything is opened.
func (s *Server) openLocal(o LiveOptions) (LiveSource, error) {
	// Check the name against the list first, for a clear message (the
	// name is never used as anything but an interface name), and refuse
	// an interface that is down on every system (Linux and Npcap refuse to
	// open one; macOS would capture nothing, silently).
	if ifs, err := s.live.Interfaces(); err == nil {
		i := interfaceNamed(ifs, o.Interface)
		if i < 0 {
			return nil, fmt.Errorf("no interface named %q on this machine (%w)", o.Interface, errNoInterface)
		}
		if !ifs[i].Up {
			return nil, fmt.Errorf("interface %q is down: %w", o.Interface, errInterfaceDown)
		}
	}
	return s.live.Open(o)
}

// liveCompileOptions are the options a capture filter for interface name is
// checked with before the capture opens: those package capture compiles
// it with, for the link type the backend lists for the interface (Ethernet
// for a name it does not list: starting the capture then reports that).
func (s *Server) liveCompileOptions(name string) filter.Options {
	lt := pcapio.LinkTypeEthernet
	if ifs, err := s.live.Interfaces(); err == nil {
		if i := interfaceNamed(ifs, name); i >= 0 {
			lt = ifs[i].LinkType
		}
	}
	return capture.LiveFilterOptions(lt, 0)
}

// handleInterfaces lists the interfaces a live capture can open.
func (s *Server) handleInterfaces(w http.ResponseWriter, r *http.Request) {
	if s.cfg.NoLive {
		writeError(w, http.StatusForbidden, errLiveDisabled.Error())
		return
	}
	ifs, err := s.interfaces()
	if err != nil {
		s.log.Warn("list interfaces", "err", err)
		writeError(w, http.StatusInternalServerError, "cannot list the network interfaces: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, ifs)
}

// liveRequest is the JSON body of POST /api/live: one local interface,
// or Sources.
type liveRequest struct {
	Interface   string `json:"interface"`
	Filter      string `json:"filter"`
	Snaplen     int    `json:"snaplen"`
	Promiscuous bool   `json:"promiscuous"`
	// Sources are the sources of a capture of several (local interfaces
	// and remote hosts), instead of the fields above.
	Sources []SourceOptions `json:"sources,omitempty"`
}

// handleStartLive starts a live capture and answers with its info.
func (s *Server) handleStartLive(w http.ResponseWriter, r *http.Request) {
	if s.cfg.NoLive {
		writeError(w, http.StatusForbidden, errLiveDisabled.Error())
		return
	}
	var req liveRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, `body must be JSON like {"interface": "eth0", "filter": "tcp port 443", "snaplen": 65535, "promiscuous": true}: `+err.Error())
		return
	}
	if len(req.Sources) > 0 {
		if req.Interface != "" {
			writeError(w, http.StatusBadRequest, `give "interface" or "sources", not both`)
			return
		}
		s.startSources(w, r, req.Sources)
		return
	}
	if req.Interface == "" {
		writeError(w, http.StatusBadRequest, `no interface: say which one in "interface" (GET /api/interfaces lists them), or give "sources"`)
		return
	}
	if strings.TrimSpace(req.Filter) != "" {
		// Opening the capture compiles its filter.
		release, ok := s.enterCompile(w, r)
		if !ok {
			return
		}
		defer release()
	}
	c, err := s.StartLive(LiveOptions{
		Interface: req.Interface, Filter: strings.TrimSpace(req.Filter),
		Snaplen: req.Snaplen, Promiscuous: req.Promiscuous,
	})
	if err != nil {
		s.log.Info("live capture refused", "interface", req.Interface, "err", err)
		var fe *filter.Error
		var pe *capture.PlatformError
		switch {
		case errors.As(err, &fe):
			filterError(w, err)
		case errors.Is(err, errLiveDisabled), errors.Is(err, capture.ErrPermissionDenied):
			writeError(w, http.StatusForbidden, err.Error())
		case errors.Is(err, errNoInterface), errors.Is(err, errInterfaceDown), errors.As(err, &pe), errors.Is(err, errBadSnaplen):
			writeError(w, http.StatusBadRequest, err.Error())
		default:
			writeError(w, http.StatusInternalServerError, err.Error())
		}
		return
	}
	writeJSON(w, http.StatusCreated, c.Info())
}

// startSources answers POST /api/live with sources.
func (s *Server) startSources(w http.ResponseWriter, r *http.Request, srcs []SourceOptions) {
	if slices.ContainsFunc(srcs, func(o SourceOptions) bool { return strings.TrimSpace(o.Filter) != "" }) {
		// Opening the sources compiles their filters.
		release, ok := s.enterCompile(w, r)
		if !ok {
			return
		}
		defer release()
	}
	c, err := s.StartSources(srcs)
	if err != nil {
		s.log.Info("live capture refused", "sources", len(srcs), "err", err)
		writeSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, c.Info())
}

// handleStop stops a live capture, waits until the packets read so far are
// indexed, and answers with its info. Stopping a stopped capture is
// harmless.
func (s *Server) handleStop(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	if err := c.Stop("stopped by request"); err != nil {
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	select {
	case <-c.Done():
	case <-r.Context().Done():
		return
	}
	s.log.Info("live capture stopped", "id", c.ID(), "packets", c.Count())
	writeJSON(w, http.StatusOK, c.Info())
}
