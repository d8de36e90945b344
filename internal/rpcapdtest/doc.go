// Package rpcapdtest runs a real rpcapd (libpcap's remote capture daemon)
// for one test, in side B of a namespace pair made by internal/netnstest
// (198.18.0.0/15 only), reached from side A over the veth. Its accounts
// for password authentication are files made by the test, bind-mounted
// over /etc/passwd and /etc/shadow in the server's own mount namespace.
//
// Debian does not package rpcapd, so the binary comes from the
// environment: PKTTAP_RPCAPD names one built from libpcap's source. Without
// it the test skips, also under PKTTAP_REQUIRE=all (CI replays recorded
// conversations instead); PKTTAP_REQUIRE=rpcapd makes it a failure. The
// server is Linux-only.
//
// ReplayServer, on every system, plays a conversation recorded from a real
// rpcapd (Trace) back to a client on loopback, byte for byte, checking
// every byte the client sends: the tests of capture/remote and web use it
// where no rpcapd runs.
package rpcapdtest
