// Package vm runs classic BPF programs in userspace with exactly the
// semantics of libpcap's interpreter, bpf_filter(3PCAP), and faster.
//
// # Semantics
//
// A program is a list of classic BPF instructions (as produced by
// filter.Compile or by `tcpdump -ddd`). Run executes it against a packet's
// captured bytes and its on-wire length and returns what libpcap's
// bpf_filter returns: the number of bytes to keep, 0 meaning "drop".
//
//   - `len` (BPF_LD|BPF_W|BPF_LEN and BPF_LDX|BPF_W|BPF_LEN) is the on-wire
//     length passed to Run, not len(data). golang.org/x/net/bpf gets this
//     wrong.
//   - A load that reaches past the captured bytes (absolute or indexed, any
//     size, and `ldx 4*([k]&0xf)`) ends the program and returns 0. Offsets
//     are checked without 32-bit overflow: [x+k] is in range only when
//     x+k+size <= len(data) in exact arithmetic.
//   - Division and modulo by a zero X register return 0; by a zero constant
//     they are rejected when the program is loaded, as bpf_validate does.
//   - Shifts by X of 32 or more give 0 (libpcap's explicit rule). Shifts by a
//     constant use the low five bits of the constant, which is what libpcap's
//     C code does on amd64 and arm64 (a shift by 32 or more is undefined in C;
//     both processors mask the count).
//   - The scratch memory M[0]..M[15] starts zeroed for every packet.
//     (libpcap leaves it uninitialised; programs from its compiler never read
//     a slot before writing it.)
//   - The unconditional jump `ja` takes a signed 32-bit offset, as libpcap's
//     interpreter does, because libpcap compiles `protochain` into a loop with
//     a backward jump. A program with backward jumps could loop forever in
//     libpcap; here a packet is rejected (0) once it has taken more than
//     len(data)+4096 backward jumps. Programs whose loops make progress
//     through the packet, like protochain's, never reach that bound.
//
// # Linux ancillary loads
//
// The Linux kernel answers absolute loads at SKF_AD_OFF (0xfffff000) plus a
// field number from the packet's socket buffer, and libpcap compiles some
// primitives into such loads when it targets a live Linux socket (the
// `vlan` tests after the kernel has stripped the tag, `inbound`/`outbound`,
// `ifindex`, and the cooked `any` device's protocol field). RunWithMetadata
// answers them from a Metadata value, like the kernel does, for loads of
// any size:
//
//	SKF_AD_OFF+0  (SKF_AD_PROTOCOL)          Metadata.Protocol
//	SKF_AD_OFF+4  (SKF_AD_PKTTYPE)           Metadata.PktType
//	SKF_AD_OFF+8  (SKF_AD_IFINDEX)           Metadata.IfIndex
//	SKF_AD_OFF+44 (SKF_AD_VLAN_TAG)          Metadata.VLANTCI
//	SKF_AD_OFF+48 (SKF_AD_VLAN_TAG_PRESENT)  1 if Metadata.VLANPresent, else 0
//	SKF_AD_OFF+60 (SKF_AD_VLAN_TPID)         Metadata.VLANTPID
//
// Other ancillary fields (mark, queue, hash, cpu, random...) have no
// meaning outside the kernel and reject the packet (return 0).
//
// libpcap's own interpreter behaves differently: pcap_offline_filter and
// bpf_filter have no metadata, so every ancillary load is an out-of-range
// load and rejects the packet; only libpcap's Linux live-capture fallback
// answers the two VLAN fields. Run, and RunWithMetadata with a nil
// Metadata, reproduce libpcap's file behaviour: ancillary loads return 0.
//
// # Validation
//
// New checks a program once, the way libpcap's bpf_validate does (jump
// targets inside the program, scratch indices below 16, no division by a
// constant zero, a return as the last instruction), and in addition
// rejects opcodes libpcap's interpreter does not execute (it would abort
// the process on them). A program that New accepts cannot make Run panic.
//
// # Speed
//
// New translates the program once into an array of pre-decoded 32-byte
// operations whose jump targets are byte offsets, so that Run does no
// per-instruction decoding, and fuses the sequences libpcap's compiler
// emits most into single steps:
//
//   - a packet load followed by a conditional jump on the loaded value
//     (ldh [12]; jeq #0x800), also after an and (ld [26]; and
//     #0xff000000; jeq #0x0a000000), and ld len with its jump;
//   - chains of jeq on the same A (ethertype or protocol dispatch: jeq
//     #0x86dd else jeq #0x800 else ...), tested in one step;
//   - ldx 4*([14]&0xf) with the indexed load and jump after it (the TCP
//     and UDP port tests);
//   - jumps to unconditional jumps go straight to the final target, and a
//     return costs no dispatch;
//   - a whole program that is a chain of such load-compare tests, each
//     going on with the next or returning a constant (ip6 and tcp dst
//     port 80, len > 1200), runs as a short loop over the tests with no
//     dispatch and no scratch memory, and its last test picks one of its
//     two return values without a branch, which mixed traffic would
//     mispredict.
//
// Instructions that are only reached by jumping over a fused step stay in
// place, so fusion never changes where a jump lands. Run reads the
// operations and the packet through unsafe pointers after its own range
// checks (see exec.go for the invariants), performs no allocation, and is
// safe for concurrent use: a *VM is immutable after New.
//
// # Tracing
//
// Trace runs a program on one packet with a separate, plain interpreter
// that records every instruction executed, each load's offset, size and
// value (and the one that fell off the end of a truncated packet), each
// comparison and its outcome, and the return value, which is always Run's.
// It is for explaining a verdict (package filter/explain), not for speed;
// Run and RunWithMetadata do not know it exists.
//
// BenchmarkCompare (bench_test.go) runs libpcap's programs for a set of
// filters over the same packets with this VM, libpcap's bpf_filter and
// golang.org/x/net/bpf's VM; its latest figures are in the repository's
// BENCHMARKS.md, which scripts/bench regenerates.
package vm
