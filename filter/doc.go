// Package filter compiles tcpdump/libpcap filter expressions
// (pcap-filter(7) of libpcap 1.10) to classic BPF, without libpcap or cgo.
//
// # Compiling
//
//	prog, err := filter.Compile("tcp port 443", filter.Options{LinkType: pcapio.LinkTypeEthernet})
//
// The program is a validated []bpf.RawInstruction (and []bpf.Instruction)
// that a kernel socket filter or the userspace VM of package filter/vm runs.
// An empty expression accepts everything. Errors are *Error values with the
// 1-based column of the fault.
//
// # Fidelity
//
// libpcap is the oracle. The code generator builds the same graph of basic
// blocks as libpcap's gencode.c (unoptimized programs are byte for byte what
// tcpdump -O -ddd prints), and the optimizer of filter/internal/bpfopt
// shrinks them. The differential tests run every public expression over a
// corpus of real captures and compare every verdict with libpcap's, and run
// libpcap's own programs (a golden file generated from tcpdump) beside ours
// on the same VM.
//
// # Targets
//
// For TargetLinuxSocket, "vlan" compiles to the Linux ancillary loads
// SKF_AD_VLAN_TAG_PRESENT and SKF_AD_VLAN_TAG, as libpcap does for a live
// socket whose kernel strips VLAN tags; for TargetFile every field comes
// from the packet bytes.
//
// # Names
//
// Port, protocol and network names come from built-in tables matching
// Debian's /etc/services, /etc/protocols and /etc/networks, so results do
// not depend on the machine. Host names go through Options.Resolver.
package filter

//go:generate go run gen_golden.go
