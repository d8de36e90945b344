// Package netnstest is the Linux network-namespace plumbing shared by the
// live-capture tests of several packages: a veth pair joining two network
// namespaces made for one test, a way to run code inside a namespace, and
// senders and frame builders for test traffic.
//
// All traffic stays inside the test's own namespaces, on addresses in
// 198.18.0.0/15 (the benchmarking range, never routed), so tests touch
// nothing on the host. Namespace names carry the package name, the process
// id and a sequence number, so tests in different packages running at the
// same time never collide. Namespaces (and with them the veth pair) are
// deleted in t.Cleanup, also when the test fails.
//
// Missing prerequisites (root, the ip program) skip the test, or fail it
// when PKTTAP_REQUIRE demands them, through internal/testenv.
//
// The namespace plumbing is Linux-only; the frame builders (EthFrame,
// VLANTag and the test Ether types) are plain Go and build everywhere.
package netnstest
