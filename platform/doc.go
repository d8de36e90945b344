// Package platform holds pkttap's operating-system packet sources: the
// code that opens a network interface, installs a compiled classic BPF
// program in the kernel and hands back packets with as little copying as the
// OS allows. Package capture builds the public API on top of it; most
// programs should use capture, not platform.
//
// # Linux
//
// An AF_PACKET socket with a TPACKET_V3 memory-mapped receive ring. The
// socket is opened with protocol 0 (it receives nothing), the filter is
// attached, and only then is the socket bound to the interface, so no packet
// the filter rejects ever reaches the ring. Packets are read straight out of
// the ring: NextZeroCopy walks a block's packets without system calls and
// polls only when the current block is exhausted. VLAN tags that the kernel
// moved into packet metadata are put back into the bytes as libpcap does (in
// headroom reserved in the ring, so without a copy). The link type follows
// the interface's ARPHRD type: Ethernet and loopback give EN10MB, interfaces
// without a link header (tunnels, ARPHRD_NONE, RAWIP) give RAW, 802.11
// gives IEEE802_11 or IEEE802_11_RADIO, and everything else, including the
// "any" pseudo-interface, is captured cooked as LINUX_SLL with the 16-byte
// header synthesized from the kernel's sockaddr_ll.
//
// The ring defaults to 64 blocks of 256 KiB, each handed over when full or
// after 50 ms (see Config and DefaultBlockSize): about 100 000 small packets
// of buffer under heavy traffic, 3.2 s of a stalled reader under light
// traffic, and a delivery latency of at most 50 ms. Set BlockTimeout lower
// for lower latency, at the price of more wake-ups.
//
// The filter's accept values are capped at the snap length, so the kernel
// copies no more of a packet into the ring than will be kept; with no filter
// a one-instruction "ret #snaplen" program is installed for the same reason.
// Outgoing copies of loopback packets are skipped, as libpcap skips them
// (the kernel shows each packet on lo twice).
//
// Close wakes a reader blocked in poll through an eventfd (closing the
// socket does not wake poll) and waits for it to leave the ring. If the
// reader still holds a packet from NextZeroCopy, Close first puts a private
// copy of the pages under that packet in their place (mremap, in one step),
// then unmaps the rest of the ring and closes the socket: the reader never
// faults, and the socket is released at Close, not at the reader's next
// call, which unmaps the copy.
//
// Opening a packet socket needs CAP_NET_RAW; without it Open returns an error
// wrapping ErrPermissionDenied.
//
// BenchmarkLiveCapture measures the CPU time spent per packet against
// tcpdump and gopacket's afpacket reading the same traffic at the same time
// in network namespaces (PKTTAP_BENCH_BIG=1 for a 2 s blast);
// BenchmarkRingWalk measures the user-space walk alone.
//
// # macOS
//
// A /dev/bpf device: the cloning /dev/bpf first, then /dev/bpf0, /dev/bpf1,
// ... skipping busy ones, each opened read-write or, when that is refused,
// read-only (as libpcap does: a user given read access to /dev/bpf*, as
// Wireshark's ChmodBPF does, may capture). The buffer size is set before the
// interface is bound (halving from 512 KiB until the kernel accepts it),
// "header complete" is switched on, the filter (or a "ret #snaplen" program
// when there is none, since BPF has no snap-length ioctl) is set with
// BIOCSETF, and the link type is read with BIOCGDLT after binding and mapped
// with libpcap's DLT_ table for macOS. A device that refuses promiscuous
// mode does not stop the capture: Warnings reports it, as libpcap warns.
//
// Immediate mode is off and the read timeout (BIOCSRTIMEOUT) is
// Config.BlockTimeout, as libpcap's default: the device hands a buffer over
// when it is full or when the timeout expires, so a packet waits at most
// about 50 ms and, under load, one read carries many packets instead of
// waking the reader for each (BenchmarkBPFReader measures the user-space
// cost per packet of both). Readers wait with poll(2), which has no limit on
// descriptor numbers (select's FD_SETSIZE is 1024), bounded by the same
// timeout; Close wakes them through a pipe. One read returns many bpf_hdr
// records, each aligned to 4 bytes (BPF_WORDALIGN); all of them are
// delivered. macOS accepts at most 512 instructions per program. The read
// loop (bpfReader) is platform-neutral and its tests run on Linux over a
// socket pair.
//
// # Windows
//
// Npcap's wpcap.dll, loaded at run time by full path (System32\Npcap, then
// System32 and absolute PATH directories, for WinPcap-compatible installs)
// with a restricted DLL search path, so programs start without Npcap
// installed and report "Npcap is not installed" only when a capture is
// opened or the interfaces are listed. Interfaces may be named by their
// friendly name ("Ethernet", "Wi-Fi") or by their \Device\NPF_{GUID} name.
// pcap_init(PCAP_CHAR_ENC_UTF_8) is called where wpcap.dll has it (Npcap
// 1.10 and later), so error messages and adapter descriptions are UTF-8.
// Readers wait on pcap_getevent's event handle; Close wakes them with
// pcap_breakloop and that event. A pcap_t is not thread-safe: pcap_next_ex,
// pcap_stats and pcap_close never run at the same time (Stats waits at
// most one read timeout for a reader), and a packet's bytes are copied out
// of wpcap's buffer before NextZeroCopy returns, so Close may come at any
// time. Npcap counts no interface drops: Stats.IfDropped is always 0. The
// read loop (npcapReader) is platform-neutral, behind an interface to
// wpcap.dll's calls, and its tests run everywhere against a fake.
package platform
