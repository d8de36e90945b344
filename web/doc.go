// Package web is pkttap-web: a local packet inspector served over HTTP.
//
// A [Server] is HTTP, JSON and the page over the captures of a
// [store.Pool]: uploaded files, files opened at start-up, and live
// captures, one [store.Store] each, which keep the packets, their index
// and summaries and the filter jobs on disk. Handlers translate requests
// into store calls; none touches a file.
//
// A live capture (POST /api/live) reads an interface through package
// capture, by way of a [LiveBackend] that tests replace to capture in a
// network namespace; the store spools and indexes its packets the way a
// file's are, so everything that works on a file works on a live capture
// while it runs. It stops on request, when deleted, when the server
// closes, or by itself at the spool size limit (Config.MaxLive).
//
// Captures outlive the server: a server started on the same data dir
// lists them again (see package store), with their marked and ignored
// packets and edited comments (Wireshark's Edit menu); an export writes
// the packets Wireshark's Export Specified Packets names (marked, a
// range, ...).
//
// The browser talks to the server through a JSON REST API (documented in the
// repository's README) and one WebSocket that carries progress snapshots.
// Filters are Wireshark display filters or tcpdump expressions, one string
// whose language the store decides (store.ChooseLanguage), run over a
// capture by the store's filter jobs; downloads stream the chosen packets
// from disk.
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
