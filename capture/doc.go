// Package capture is pkttap's public face: one API for packets from a live
// network interface and from .pcap / .pcapng files, filtered by tcpdump's
// filter language, and for writing captures back to files.
//
// # Reading packets
//
// A capture is described with a builder and opened with Open:
//
//	c, err := capture.Live("eth0").Promiscuous(true).Snaplen(128).Filter("tcp port 443").Open()
//	c, err := capture.FromFile("trace.pcapng").Filter("tcp[tcpflags] & tcp-syn != 0").Open()
//
// Other sources plug in with FromSource: package capture/remote captures on
// another machine over SSH (tcpdump there, its pcap stream read here) or
// through rpcapd (libpcap's remote capture protocol) and returns the same
// *Capture.
//
// Capture.Next blocks until a packet arrives and returns io.EOF only at the
// end of a file; Capture.Packets is the same as a range-over-func iterator.
// Next returns packets the caller owns. NextZeroCopy returns packets whose
// Data is only valid until the next call: it is the fast path for code that
// looks at each packet once (counting, filtering, writing to a Dump), and it
// makes no allocation per packet. NextInto copies each packet into a buffer
// the caller passes and owns: handing the previous packet's Data back reads
// with no allocation per packet and no lifetime rule to remember. When
// unsure, use Next. (From a file, Next hands out the read buffer the packet
// arrived in rather than a copy, so a packet kept long keeps up to 64 KiB of
// that buffer alive; copy its Data to keep only its own bytes.)
//
// Close may be called from any goroutine at any time, for instance from a
// Ctrl-C handler while the main loop reads: a reader blocked waiting for
// packets returns ErrClosed at once, and a packet NextZeroCopy returned
// stays readable until the reader's next call (see Capture.NextZeroCopy).
//
// # Filters
//
// Filter takes a tcpdump/libpcap expression (pcap-filter(7)); an empty
// string means no filter, so an optional command-line flag can be passed
// straight through. pkttap compiles the expression itself (package filter).
// A live capture hands the program to the operating system, so unwanted
// packets never cross into user space; on Linux the program is compiled for
// the socket (VLAN tags and the "any" device's fields read from the kernel's
// packet metadata). A file capture runs the program in pkttap's userspace
// BPF VM (package filter/vm) for each packet, compiled for that packet's own
// link type: a pcapng file may hold interfaces of different link types, and
// each is filtered correctly (an expression that cannot apply to one, such as
// "ether host" on raw IP, matches none of its packets). FilterProgram installs a program compiled
// beforehand with filter.Compile; one program can serve many captures.
//
// # Snap length
//
// Snaplen cuts every packet, live or from a file, to at most that many
// bytes; a cut packet keeps its on-wire Length, so Packet.IsTruncated
// reports it. The filter sees the whole packet before it is cut, as a kernel
// filter does. One rule holds throughout pkttap: a snap length of 0 means
// MaxSnaplen (262144 bytes, libpcap's MAXIMUM_SNAPLEN, as tcpdump -s 0). A
// live capture keeps MaxSnaplen bytes unless Snaplen says otherwise; a file
// is never cut unless Snaplen is called, so reading and rewriting a file
// keeps every byte it holds (even a packet longer than MaxSnaplen, which
// some link types allow). Capture.FileInterfaces gives each interface's
// snap length, for a copy to record (DumpBuilder.Snaplen, .Interfaces).
//
// # Writing packets
//
//	d, err := capture.ToFile("out.pcap").LinkType(c.LinkType()).Open() // format from the extension
//	err = d.WritePacket(pkt)
//	err = d.Close()
//	err = capture.DumpPackets("out.pcapng", pcapio.LinkTypeEthernet, pkts)
//
// # Errors
//
// Errors can be told apart with errors.Is and errors.As:
// ErrPermissionDenied when the process may not capture (run as root or grant
// CAP_NET_RAW), *filter.Error for a filter that does not compile (with the
// column of the fault), *PlatformError when the operating system refuses
// (no such interface, an interface that is down, Npcap not installed, ...),
// *pcapio.FormatError for a damaged file (with the byte offset of the
// fault), and the *fs.PathError and other I/O errors of the file system,
// wrapped. Every message says what to do about it.
package capture
