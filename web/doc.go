// Package web is pkttap-web: a local packet inspector served over HTTP.
//
// A [Server] holds captures: uploaded files, files opened at start-up, and
// live captures. Each capture is indexed once, in one streaming pass, into
// two files on disk: a fixed-size record per packet (where its bytes are in
// the spool, its timestamp, lengths and link type) and the packet list's
// summary columns. Packets are read back from the spool on demand, so a
// capture far bigger than memory opens on a small machine, and rows can be
// served while indexing goes on.
//
// A live capture (POST /api/live) reads an interface through package
// capture, by way of a [LiveBackend] that tests replace to capture in a
// network namespace. One goroutine reads packets into a batch; another,
// at least every 100 ms, appends the batch's bytes to the capture's spool
// and indexes them the way a file's are, so everything that works on a
// file works on a live capture while it runs. It stops on request, when
// deleted, when the server closes, or by itself at the spool size limit
// (Config.MaxLive). Its spool is a pcapng file written in whole blocks
// before its packets are published, so tcpdump reads it at any time.
//
// Captures outlive the server: each capture folder gets a metadata file,
// written atomically once its data is whole, and a server started on the
// same data dir lists them again (re-indexing what was cut short) and
// removes partial uploads; see recover.go. A server holds its data dir
// with a lock file (package internal/dirlock).
//
// The browser talks to the server through a JSON REST API (documented in the
// repository's README) and one WebSocket that carries progress snapshots.
// Filters are tcpdump expressions, compiled by package filter and run over
// the spool in the userspace VM of package filter/vm by filter jobs, which
// take turns on a worker per CPU and keep their matches within a memory
// budget (see filterJobs); downloads stream the chosen packets from disk
// through package pcapio.
//
// Security: the server binds loopback by default; on any other address every
// request must carry a token (query parameter once, then a cookie); WebSocket
// origins are checked; state-changing requests are protected against CSRF by
// [net/http.CrossOriginProtection], and every API request a browser marks as
// coming from another site (Sec-Fetch-Site) is refused, reads included;
// uploads are streamed to disk under a size limit; no request ever names a
// path on the server's disk.
//
// Limits keep one client from starving the others and the disk from
// filling: filters compile in a few server-wide slots (Config.MaxCompiles);
// uploads take one of 8 slots, at most Config.MaxClientUploads per client,
// and fail when they stall (Config.UploadStallTimeout); downloads are cut
// off when their client stops reading (Config.DownloadStallTimeout); and
// every byte the captures write to the data dir is charged to one disk
// budget (Config.MaxDisk).
package web
