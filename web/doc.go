// Package web is pkttap-web: a local packet inspector served over HTTP.
//
// A [Server] holds captures (uploaded files or files opened at start-up).
// Each capture is indexed once, in one streaming pass, into two files on
// disk: a fixed-size record per packet (where its bytes are in the spool,
// its timestamp, lengths and link type) and the packet list's summary
// columns. Packets are read back from the spool on demand, so a capture far
// bigger than memory opens on a small machine, and rows can be served while
// indexing goes on.
//
// The browser talks to the server through a JSON REST API (documented in the
// repository's README) and one WebSocket that carries progress snapshots.
// Filters are tcpdump expressions, compiled by package filter and run over
// the spool in the userspace VM of package filter/vm; downloads stream the
// chosen packets from disk through package pcapio.
//
// Security: the server binds loopback by default; on any other address every
// request must carry a token (query parameter once, then a cookie); WebSocket
// origins are checked; state-changing requests are protected against CSRF by
// [net/http.CrossOriginProtection]; uploads are streamed to disk under a size
// limit; no request ever names a path on the server's disk.
package web
