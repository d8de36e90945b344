// Package filter compiles tcpdump/libpcap filter expressions
// (pcap-filter(7) of libpcap 1.10) to classic BPF, without libpcap or cgo.
//
// # Compiling
//
//	prog, err := filter.Compile("tcp port 443", filter.Options{LinkType: pcapio.LinkTypeEthernet})
//	if err != nil {
//		var fe *filter.Error // fe.Column is the 1-based column of the fault
//		...
//	}
//	m := prog.Matcher() // a filter/vm VM; m.Run(data, wireLen) != 0 keeps the packet
//
// The program is validated classic BPF ([Program.Raw] for a kernel or the
// userspace VM of package filter/vm, [Program.Instructions] as
// golang.org/x/net/bpf values), at most 4096 instructions
// ([Program.FitsDarwin] says whether macOS's 512 limit is met). An empty or
// all-blank expression accepts everything. [Program.Dump] prints it exactly
// in tcpdump's -d, -dd and -ddd formats.
//
// Every program carries a source map: [Program.Origins] gives, for each
// instruction, the primitives of the expression it implements (with their
// byte ranges), also where the optimizer merged the code of several or
// moved it, and [Program.Annotated] prints the -d listing with them. For
// an unoptimized program [Program.Exits] says which branches end a
// primitive true or false; package filter/explain builds on both to say
// why a packet matched.
//
// Link types: EN10MB, RAW (and IPV4, IPV6), LINUX_SLL, LINUX_SLL2, NULL,
// LOOP, IEEE802_11, IEEE802_11_RADIO, PPI, PPP, PPP_SERIAL, C_HDLC, SLIP,
// ARCNET, ARCNET_LINUX, FRELAY and IPNET; and, as libpcap, the link types of its
// "matching" range that it knows no header layout for (IPOIB, NFLOG, ...),
// where only link[...], len and the like compile.
//
// # Fidelity
//
// libpcap is the oracle. The parser follows libpcap's grammar (precedence,
// qualifier inheritance as in "host a and b" or "port 53 or 80"), and the
// code generator builds the same graph of basic blocks as libpcap's
// gencode.c: unoptimized programs (Options.NoOptimize) are byte for byte
// what tcpdump -O -ddd prints, long branches included. The optimizer of
// filter/internal/bpfopt then shrinks them, except where libpcap itself
// does not optimize (protochain, 802.11 header lengths, geneve). Errors
// libpcap's optimizer raises (division by zero, "expression rejects all
// packets") are raised too.
//
// The tests hold pkttap to libpcap: every public expression over a corpus
// of real captures gives libpcap's verdicts; libpcap's own programs (the
// golden store in testdata, written from tcpdump by gen_golden.go and read
// by the tests of filter, filter/vm and bpfopt alike) run beside ours on
// the same VM; libpcap's validator and interpreter run our programs; random
// expressions are compared with tcpdump's programs; every expression
// libpcap rejects is rejected.
//
// # Capture files and live sockets
//
// Options.SavefileByteOrder compiles as libpcap does for a capture file
// (pcap_open_offline), which differs from tcpdump -y in a few places: NULL's
// address family is compared in the file's byte order, "ip6" on NULL and
// LOOP tests the BSD families 24, 28 and 30, and inbound/outbound/ifindex
// are errors where the link type records no direction. Without it,
// compilation is as tcpdump -y on a little-endian Linux host, for a live
// capture there; Options.LiveAFInet6 gives another system's AF_INET6 for
// "ip6" on NULL and LOOP (macOS 30, Npcap 24), as libpcap's live path uses
// the capturing system's value.
//
// For TargetLinuxSocket, "vlan" compiles to the Linux ancillary loads
// SKF_AD_VLAN_TAG_PRESENT and SKF_AD_VLAN_TAG (the kernel strips the outer
// tag before the filter runs), and for cooked captures (LINUX_SLL/SLL2, the
// "any" device) loads of the cooked header become SKF_AD_PKTTYPE,
// SKF_AD_PROTOCOL and SKF_AD_IFINDEX and later offsets move back by the
// header's length, as libpcap's pcap-linux.c does. A VM running such a
// program answers those loads from vm.Metadata (RunWithMetadata).
//
// # Names
//
// Port, protocol and network names come from built-in tables matching
// Debian's /etc/services, /etc/protocols and /etc/networks, so results do
// not depend on the machine ("port http" is TCP only, "udp port http" is an
// error, as with libpcap on Debian). Host names go through
// Options.Resolver (by default "localhost", then the system resolver); a
// name that does not resolve is an *Error naming it.
//
// # Limits
//
// Expressions longer than 64 KiB or nested deeper than 200 levels are
// rejected with an *Error, as are programs longer than 4096 instructions;
// Compile does not panic on any input (FuzzCompile). Its time and memory
// are bounded by the input's length: a program that cannot fit is refused
// as soon as that is clear (more than 131072 instructions before
// optimization, still more than 65536 after the optimizer's first rounds,
// or too long when its budget of work runs out; see bpfopt.OptimizeWithin),
// so any expression up to 64 KiB compiles or is refused in a fraction of a
// second and tens of megabytes (TestCompileBudget). The longest port list
// that fits on Ethernet has 1351 ports (libpcap's optimizer fits 720).
package filter

//go:generate go run gen_golden.go
