//go:build linux

package sshdtest

import "testing"

// LocalTcpdump starts tcpdump on the server's side of the veth (side B,
// the "remote host"), as netnstest.Pair.Tcpdump does.
func (s *Server) LocalTcpdump(t testing.TB, expr string) func(n int) string {
	t.Helper()
	return s.Pair.Tcpdump(t, expr)
}
