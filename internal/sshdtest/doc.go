// Package sshdtest runs a real OpenSSH server (Debian's openssh-server)
// for one test: `sshd -D -f CONFIG` with its own configuration, a
// generated host key and a generated user key for root, in side B of a
// namespace pair made by internal/netnstest (198.18.0.0/15 only), reached
// from side A over the veth. No system service is used or touched. It
// also finds and kills the processes the server's sessions run, so tests
// can check that nothing is left running on the "remote host", captures the
// server side's traffic with a local tcpdump as a reference (LocalTcpdump),
// and makes a test user who must run tcpdump through sudo (AddUser).
//
// Without root, namespaces, sshd or tcpdump the test skips, or fails
// under PKTTAP_REQUIRE (prerequisite "sshd", through internal/testenv).
// The package is Linux-only.
package sshdtest
