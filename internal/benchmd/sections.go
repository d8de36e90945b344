package main

// sections are the packages of BENCHMARKS.md, in order, with the
// comparisons each makes; scripts/bench runs the benchmarks they name.
var sections = []section{
	{
		pkg:   "filter/vm",
		title: "BPF virtual machine",
		about: `BenchmarkCompare runs libpcap's own programs for the filters of issue 4
(tcpdump -ddd, kept in the golden store) over a generated mix of 100,000 Ethernet packets
(PKTTAP_BENCH_PACKETS changes it) with pkttap's VM, golang.org/x/net/bpf's VM and libpcap's
bpf_filter (a C harness), interleaved in the same run, and reports the medians of its passes.
The ratios are the anchors' nanoseconds per packet over pkttap's.`,
		ratios: []ratio{
			{label: "VM", anchorLabel: "libpcap bpf_filter", bench: "BenchmarkCompare/*", unit: "libpcap/pkttap"},
			{label: "VM", anchorLabel: "x/net/bpf VM", bench: "BenchmarkCompare/*", unit: "xnet/pkttap"},
		},
	},
	{
		pkg:   "filter",
		title: "Filter compiler",
		about: `Compile time per expression of the shared public.txt (each iteration compiles the next
one): pkttap's Compile against libpcap's pcap_compile in one process (the shared pcapmatch harness
compiling all of them per run) and against tcpdump -d, a process per expression as a user runs it.
BenchmarkCompileVsLibpcap times both compilers in the same process (filter/testdata/compilespeed,
linked with libpcap through cgo), taking turns expression by expression on Ethernet, and reports
the median and 95th percentile over the expressions of pkttap's time over libpcap's; the table
shows their inverse. ` + "`go run ./filter/testdata/compilespeed -v`" + ` prints every expression's times.`,
		ratios: []ratio{
			{label: "Compile, per-expression median", anchorLabel: "pcap_compile, same process", bench: "BenchmarkCompileVsLibpcap", unit: "x-libpcap-median", invert: true},
			{label: "Compile, per-expression p95", anchorLabel: "pcap_compile, same process", bench: "BenchmarkCompileVsLibpcap", unit: "x-libpcap-p95", invert: true},
			{label: "Compile", anchorLabel: "libpcap pcap_compile", ours: "BenchmarkCompile", oursUnit: "ns/op", anchor: "BenchmarkLibpcapCompile", anchorUnit: "ns/expr"},
			{label: "Compile", anchorLabel: "tcpdump -d", ours: "BenchmarkCompile", oursUnit: "ns/op", anchor: "BenchmarkTcpdumpD", anchorUnit: "ns/op"},
			{label: "Compile (NoOptimize)", anchorLabel: "libpcap pcap_compile (optimizing)", ours: "BenchmarkCompileNoOptimize", oursUnit: "ns/op", anchor: "BenchmarkLibpcapCompile", anchorUnit: "ns/expr"},
		},
	},
	{
		pkg:   "filter/internal/bpfopt",
		title: "BPF optimizer",
		about: `Optimize on libpcap's unoptimized program of a typical expression and of three long
or-lists, against libpcap's own optimizer on the same expression (pcap_compile with optimize=1
minus optimize=0, a C harness, measured in the same run). The benchmark reports ours/libpcap;
the table shows its inverse.`,
		ratios: []ratio{
			{label: "Optimize", anchorLabel: "libpcap's optimizer", bench: "BenchmarkOptimize/*", unit: "x-libpcap", invert: true},
		},
	},
	{
		pkg:   "dissect",
		title: "Dissector",
		about: `Decoding a generated mix of typical packets, against gopacket decoding the same packets
in the same run: gopacket.Default (every layer, the work closest to a summary) and gopacket.Lazy
(only what finding the network layer needs). Rates are packets per second of the benchmark
thread's CPU time (pkts/cpu-s), the one-core rate, which holds on a shared machine where wall-clock
rates do not.`,
		ratios: []ratio{
			{label: "Summarize", anchorLabel: "gopacket Default decode", ours: "BenchmarkSummarize", oursUnit: "pkts/cpu-s", anchor: "BenchmarkGopacketDecode", anchorUnit: "pkts/cpu-s", rate: true},
			{label: "Summarize", anchorLabel: "gopacket Lazy decode", ours: "BenchmarkSummarize", oursUnit: "pkts/cpu-s", anchor: "BenchmarkGopacketLazy", anchorUnit: "pkts/cpu-s", rate: true},
			{label: "Dissect (full tree)", anchorLabel: "gopacket Default decode", ours: "BenchmarkDissect", oursUnit: "pkts/cpu-s", anchor: "BenchmarkGopacketDecode", anchorUnit: "pkts/cpu-s", rate: true},
		},
	},
	{
		pkg:   "pcapio",
		title: "pcap and pcapng readers",
		about: `Reading the same generated capture as pcap and as pcapng with pcapio (Next, NextInto,
NextZeroCopy), gopacket's pcapgo and libpcap's pcap_next_ex (a C program timing itself), in one
run. The ratios are packets per second of CPU time, pkttap's over the anchor's.`,
		ratios: []ratio{
			{label: "pcap NextZeroCopy", anchorLabel: "libpcap pcap_next_ex", bench: "BenchmarkRead/pcap/libpcap-pcap_next_ex", unit: "pkttap-zerocopy-cpu-speedup"},
			{label: "pcap Next", anchorLabel: "libpcap pcap_next_ex", bench: "BenchmarkRead/pcap/libpcap-pcap_next_ex", unit: "pkttap-safe-cpu-speedup"},
			{label: "pcap NextZeroCopy", anchorLabel: "pcapgo ZeroCopyReadPacketData", bench: "BenchmarkRead/pcap/pcapgo-ZeroCopyReadPacketData", unit: "pkttap-zerocopy-cpu-speedup"},
			{label: "pcap Next", anchorLabel: "pcapgo ReadPacketData", bench: "BenchmarkRead/pcap/pcapgo-ReadPacketData", unit: "pkttap-safe-cpu-speedup"},
			{label: "pcapng NextZeroCopy", anchorLabel: "libpcap pcap_next_ex", bench: "BenchmarkRead/pcapng/libpcap-pcap_next_ex", unit: "pkttap-zerocopy-cpu-speedup"},
			{label: "pcapng Next", anchorLabel: "libpcap pcap_next_ex", bench: "BenchmarkRead/pcapng/libpcap-pcap_next_ex", unit: "pkttap-safe-cpu-speedup"},
			{label: "pcapng NextZeroCopy", anchorLabel: "pcapgo ZeroCopyReadPacketData", bench: "BenchmarkRead/pcapng/pcapgo-ZeroCopyReadPacketData", unit: "pkttap-zerocopy-cpu-speedup"},
			{label: "pcapng Next", anchorLabel: "pcapgo ReadPacketData", bench: "BenchmarkRead/pcapng/pcapgo-ReadPacketData", unit: "pkttap-safe-cpu-speedup"},
		},
	},
	{
		pkg:   "capture",
		title: "File captures",
		about: `Reading the benchmark file through capture (zero-copy, Next's copy, NextInto, and with a
userspace filter) against pcapio's zero-copy reader alone, in CPU nanoseconds per packet: the
cost of the capture layer (a ratio below 1 is that layer's overhead).`,
		ratios: []ratio{
			{label: "pcap zerocopy", anchorLabel: "pcapio NextZeroCopy", ours: "BenchmarkFileRead/pcap/zerocopy", oursUnit: "cpu-ns/pkt", anchor: "BenchmarkFileRead/pcap/pcapio-anchor", anchorUnit: "cpu-ns/pkt"},
			{label: "pcap zerocopy + filter", anchorLabel: "pcapio NextZeroCopy", ours: "BenchmarkFileRead/pcap/zerocopy-filter", oursUnit: "cpu-ns/pkt", anchor: "BenchmarkFileRead/pcap/pcapio-anchor", anchorUnit: "cpu-ns/pkt"},
			{label: "pcapng zerocopy", anchorLabel: "pcapio NextZeroCopy", ours: "BenchmarkFileRead/pcapng/zerocopy", oursUnit: "cpu-ns/pkt", anchor: "BenchmarkFileRead/pcapng/pcapio-anchor", anchorUnit: "cpu-ns/pkt"},
			{label: "pcapng zerocopy + filter", anchorLabel: "pcapio NextZeroCopy", ours: "BenchmarkFileRead/pcapng/zerocopy-filter", oursUnit: "cpu-ns/pkt", anchor: "BenchmarkFileRead/pcapng/pcapio-anchor", anchorUnit: "cpu-ns/pkt"},
		},
	},
	{
		pkg:   "platform",
		title: "Live capture (Linux AF_PACKET)",
		about: `BenchmarkLiveCapture blasts UDP frames over a veth pair in network namespaces (root) and
measures the CPU time per captured packet of pkttap, tcpdump and gopacket's afpacket capturing the
same traffic at the same time. The benchmark reports pkttap's CPU per packet over each anchor's;
the table shows its inverse.`,
		ratios: []ratio{
			{label: "live capture", anchorLabel: "tcpdump", bench: "BenchmarkLiveCapture", unit: "pkttap/tcpdump", invert: true},
			{label: "live capture", anchorLabel: "gopacket afpacket", bench: "BenchmarkLiveCapture", unit: "pkttap/gopacket", invert: true},
		},
	},
}
