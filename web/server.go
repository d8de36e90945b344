package web

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/pkttap/pkttap/assets"
	"github.com/pkttap/pkttap/store"
)

// DefaultMaxUpload is the default size limit of one upload (2 GiB).
const DefaultMaxUpload = 2 << 30

// maxConcurrentUploads bounds the uploads streamed to disk at once; more
// wait for a slot.
const maxConcurrentUploads = 8

// Config configures a Server.
type Config struct {
	// Addr is the listen address; it decides whether a token is required
	// (any address but loopback) and which Host headers are accepted.
	Addr string
	// Token is the access token. Empty with a non-loopback Addr means New
	// generates one (see Server.Token); empty with a loopback Addr means no
	// token is required. A token given must pass CheckToken (at least
	// MinTokenBits strong).
	Token string
	// MaxUpload is the size limit of one capture in bytes (after gzip
	// decompression too); 0 means DefaultMaxUpload.
	MaxUpload int64
	// DataDir is where captures are spooled and indexed; it must exist. A
	// server holds it alone (New fails while another holds it) and lists
	// again the captures a previous server left there, however it ended
	// (see the README's "pkttap-web's data dir").
	DataDir string
	// Logger receives request and capture logs; nil means slog.Default().
	Logger *slog.Logger
	// NoLive disables live capture: the live API answers 403 and the UI
	// hides its control.
	NoLive bool
	// MaxLive is the captured packet bytes (the spool's pcapng block
	// headers aside) at which a live capture stops by itself; 0 means
	// DefaultMaxLive.
	MaxLive int64
	// Live lists interfaces and opens live captures; nil means
	// CaptureBackend (package capture).
	Live LiveBackend
	// SSH configures the remote sources of live captures (known_hosts,
	// the key files requests may name).
	SSH SSHOptions
	// RPCAP configures the rpcap sources of live captures.
	RPCAP RPCAPOptions
	// MaxCompiles is how many filters the server compiles at once (for
	// /api/filter, filter jobs, rows, positions and downloads with a filter,
	// and live captures); 0 means DefaultMaxCompiles. A request that finds
	// no free slot within CompileWait (0: DefaultCompileWait) is answered
	// 503 with Retry-After; a filter job waits as long as it takes.
	MaxCompiles int
	CompileWait time.Duration

	// ReadHeaderTimeout bounds the time a client may take to send a
	// request's headers; 0 means DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
	// UploadStallTimeout and MinProgress: an upload fails (408) when fewer
	// than MinProgress bytes arrive within UploadStallTimeout, and a
	// download is aborted when its client does not take MinProgress bytes
	// within DownloadStallTimeout. 0 means DefaultStallTimeout and
	// DefaultMinProgress.
	UploadStallTimeout   time.Duration
	DownloadStallTimeout time.Duration
	MinProgress          int64
	// MaxClientUploads is how many uploads one client (IP address) may
	// stream at once, of the server's 8; more from it wait their turn,
	// without holding a slot another client could use. 0 means
	// DefaultMaxClientUploads. An upload that finds no slot within
	// UploadQueueWait (0: DefaultUploadQueueWait) is answered 503 with
	// Retry-After.
	MaxClientUploads int
	UploadQueueWait  time.Duration
	// MaxDisk is the most bytes the captures may hold in DataDir, all
	// together: uploads, decompressed and live spools, indexes and
	// summaries (a file opened with OpenFile is read in place and not
	// counted). 0 means DefaultDiskShare of the free space in DataDir when
	// the server starts; < 0 means no limit.
	MaxDisk int64
}

// DefaultDiskShare is the share of the data dir's free space the captures
// may take when Config.MaxDisk is 0.
const DefaultDiskShare = store.DefaultDiskShare

// Defaults of the limits on slow clients (see Config).
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultStallTimeout      = 30 * time.Second
	DefaultMinProgress       = 32 << 10
	DefaultMaxClientUploads  = 2
	DefaultUploadQueueWait   = 30 * time.Second
)

// Defaults of the compile limit (Config.MaxCompiles, Config.CompileWait).
const (
	DefaultMaxCompiles = 4
	DefaultCompileWait = 2 * time.Second
)

// Server is pkttap-web's HTTP server: the UI and the REST API over the
// captures of a store.Pool, one store each.
type Server struct {
	pushed   pushCounters // what pushed rows held, for tests
	cfg      Config
	log      *slog.Logger
	live     LiveBackend
	handler  http.Handler
	uploads  *uploadSlots
	pool     *store.Pool   // the captures, on disk
	sources  remoteSources // the sources of the captures of several, to reconnect them
	sampleMu sync.Mutex    // held while POST /api/captures/sample finds or opens the sample
	libpcap  *libpcap      // tcpdump, for the Filter explorer
}

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Live == nil {
		cfg.Live = CaptureBackend{}
	}
	orDefault(&cfg.MaxUpload, DefaultMaxUpload)
	orDefault(&cfg.MaxLive, DefaultMaxLive)
	orDefault(&cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	orDefault(&cfg.UploadStallTimeout, DefaultStallTimeout)
	orDefault(&cfg.DownloadStallTimeout, DefaultStallTimeout)
	orDefault(&cfg.MinProgress, DefaultMinProgress)
	orDefault(&cfg.MaxClientUploads, DefaultMaxClientUploads)
	orDefault(&cfg.UploadQueueWait, DefaultUploadQueueWait)
	orDefault(&cfg.MaxCompiles, DefaultMaxCompiles)
	orDefault(&cfg.CompileWait, DefaultCompileWait)
	if cfg.Token == "" && !IsLoopback(cfg.Addr) {
		cfg.Token = NewToken()
	}
	if cfg.Token != "" {
		if err := CheckToken(cfg.Token); err != nil {
			return nil, err
		}
	}
	pool, err := store.OpenPool(store.Config{
		DataDir: cfg.DataDir, MaxDisk: cfg.MaxDisk, MaxSpool: cfg.MaxUpload, MaxLive: cfg.MaxLive,
		MaxCompiles: cfg.MaxCompiles, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		live:    cfg.Live,
		uploads: newUploadSlots(maxConcurrentUploads, cfg.MaxClientUploads),
		pool:    pool,
		libpcap: newLibpcap(),
	}
	s.handler = s.routes()
	return s, nil
}

// orDefault sets *v to def when it is 0 or negative (not set).
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Token returns the access token requests must carry, or "" when none is
// required.
func (s *Server) Token() string { return s.cfg.Token }

// URL returns the URL to open in a browser for a server listening on addr,
// with the token when one is required.
func (s *Server) URL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	u := "http://" + net.JoinHostPort(host, port) + "/"
	if s.cfg.Token != "" {
		u += "?token=" + s.cfg.Token
	}
	return u
}

// MaxDisk returns the disk budget in bytes (Config.MaxDisk), 0 for none.
func (s *Server) MaxDisk() int64 { return s.pool.MaxDisk() }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Use(s.logRequests)

	r.Get("/", s.handlePage)
	r.Get("/c/{id}", s.handlePage)
	r.Get("/explore", s.handleExplorerPage)
	r.Handle("/assets/*", http.StripPrefix("/assets/", assets.Handler()))

	r.Route("/api", func(r chi.Router) {
		r.Use(jsonErrors, sameOriginAPI)
		r.Get("/ws", s.handleWS)
		r.Get("/filter", s.handleCompile)
		r.Get("/explore", s.handleExplore)
		r.Get("/explore/libpcap", s.handleLibpcap)
		r.Get("/fields", s.handleFields)
		r.Get("/coloring", s.handleColoring)
		r.Get("/captures", s.handleList)
		r.Post("/captures", s.handleUpload)
		r.Post("/captures/sample", s.handleSample)
		r.Get("/interfaces", s.handleInterfaces)
		r.Post("/live", s.handleStartLive)
		r.Get("/remote/keys", s.handleRemoteKeys)
		r.Post("/remote/interfaces", s.handleRemoteInterfaces)
		r.Post("/remote/linktype", s.handleRemoteLinkType)
		r.Route("/captures/{id}", func(r chi.Router) {
			r.Get("/", s.handleInfo)
			r.Delete("/", s.handleDelete)
			r.Get("/rows", s.handleRows)
			r.Get("/position", s.handlePosition)
			r.Get("/find", s.handleFind)
			r.Get("/sort", s.handleSort)
			r.Post("/sort", s.handleSort)
			r.Delete("/sort", s.handleSort)
			r.Get("/packets/{no}", s.handlePacket)
			r.Get("/packets/{no}/explain", s.handleExplain)
			r.Get("/follow", s.handleFollow)
			r.Post("/filter", s.handleStartFilter)
			r.Delete("/filter", s.handleCancelFilter)
			r.Get("/download", s.handleDownload)
			r.Get("/export", s.handleExport)
			r.Get("/marks", s.handleNotes)
			r.Post("/marks", s.handleChangeNotes)
			r.Put("/packets/{no}/comment", s.handleComment)
			r.Delete("/packets/{no}/comment", s.handleComment)
			r.Post("/stop", s.handleStop)
			r.Post("/sources/{n}/stop", s.handleStopSource)
			r.Post("/sources/{n}/reconnect", s.handleReconnectSource)
		})
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "no such API endpoint: "+r.URL.Path)
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path)
		})
	})

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "cross-origin request refused: "+r.Method+" "+r.URL.Path+" only answers pkttap-web's own page and clients that are not browsers (curl, scripts)")
	}))
	var h http.Handler = cop.Handler(r)
	if s.cfg.Token != "" {
		h = requireToken(s.cfg.Token, h)
	} else {
		h = loopbackHostOnly(h)
	}
	return securityHeaders(h)
}

// sameOriginAPI refuses every API request, reads included, that a browser
// marks as sent by a page of another site or origin (Sec-Fetch-Site
// cross-site or same-site): an <img> or a link on any web page could
// otherwise make a loopback server compile filters, run filter jobs or
// stream downloads. The UI's own requests are same-origin; a URL typed in
// the address bar is "none"; clients that are not browsers send no such
// header.
func sameOriginAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch site := r.Header.Get("Sec-Fetch-Site"); site {
		case "cross-site", "same-site":
			writeError(w, http.StatusForbidden, "request from another site refused (Sec-Fetch-Site: "+site+"): the API only answers pkttap-web's own page and clients that are not browsers (curl, scripts)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets headers that keep the UI from being framed or
// sniffed, and confine it to its own scripts.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// logRequests logs each request at debug level.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		next.ServeHTTP(ww, r)
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", ww.Status(), "bytes", ww.BytesWritten(), "duration", time.Since(start))
	})
}

// capture returns the capture with the given id.
func (s *Server) capture(id string) (*store.Store, bool) { return s.pool.Get(id) }

// Captures returns a snapshot of every open capture, oldest first.
func (s *Server) Captures() []CaptureInfo { return s.pool.Infos() }

// OpenFile opens a capture file from the server's disk (pkttap-web --open).
// The file is read in place, never modified or removed. Its index is not
// kept for a later server (which opens the files it is given).
func (s *Server) OpenFile(path string) (*store.Store, error) { return s.pool.OpenFile(path) }

// Close stops every live capture and index pass and closes every capture,
// leaving its files in the data dir for a server started later on it (see
// Config.DataDir), then releases the data dir. The server must no longer be
// serving.
func (s *Server) Close() error { return s.pool.Close() }

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	return nil
}
