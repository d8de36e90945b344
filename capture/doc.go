// Package capture is pkttap's public face: one API for packets from .pcap /
// .pcapng files (live network interfaces are being added), filtered by
// tcpdump's filter language, and for writing captures back to files.
//
// # Reading packets
//
// A capture is described with a builder and opened with Open:
//
//	c, err := capture.FromFile("trace.pcapng").Filter("tcp[tcpflags] & tcp-syn != 0").Open()
//
// Capture.Next blocks until a packet arrives and returns io.EOF only at the
// end of a file; Capture.Packets is the same as a range-over-func iterator.
// Next returns packets the caller owns. NextZeroCopy returns packets whose
// Data is only valid until the next call: it is the fast path for code that
// looks at each packet once (counting, filtering, writing to a Dump), and is
// what benchmarks and the web server's hot paths use. When unsure, use Next.
//
// # Filters
//
// Filter takes a tcpdump/libpcap expression (pcap-filter(7)); an empty
// string means no filter, so an optional command-line flag can be passed
// straight through. pkttap compiles the expression itself (package filter).
// A file capture runs the program in pkttap's userspace
// BPF VM (package filter/vm) for each packet, compiled for that packet's own
// link type: a pcapng file may hold interfaces of different link types, and
// each is filtered correctly. FilterProgram installs a program compiled
// beforehand with filter.Compile; one program can serve many captures.
//
// # Snap length
//
// Snaplen (default 65535) cuts every packet, live or from a file, to at most
// that many bytes; a cut packet keeps its on-wire Length, so
// Packet.IsTruncated reports it.
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
// Errors can be told apart with errors.Is and errors.As: *filter.Error for a
// filter that does not compile (with the column of the fault),
// *pcapio.FormatError for a
// damaged file (with the byte offset of the fault), and the *fs.PathError
// and other I/O errors of the file system, wrapped. Every message says what
// to do about it.
package capture
