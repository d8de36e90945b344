// Package pcapio reads and writes packet capture files: classic libpcap
// .pcap (microsecond and nanosecond timestamps, either byte order) and
// .pcapng.
//
// # Reading
//
// NewReader detects the format from the first bytes of the stream, never
// from a file name, and reads sequentially in large chunks without seeking,
// so it works the same on a file of many gigabytes, a pipe, stdin or an
// HTTP request body:
//
//	r, err := pcapio.NewReader(f)
//	if err != nil { ... }
//	for {
//		p, err := r.Next()
//		if err == io.EOF {
//			break
//		}
//		if err != nil { ... }
//		use(p)
//	}
//
// Three calls read a packet; they differ in whose memory Data is:
//
//   - Next returns Data the caller owns, in memory the reader allocated:
//     it hands out the buffer the bytes were read into and continues in a
//     new one, so packets read together share one allocation of 64 KiB.
//     Use it to keep packets.
//   - NextInto copies Data into a buffer the caller passes, as append
//     does. The caller owns it and decides when to reuse it: passing the
//     previous packet's Data back reads a file with no allocation per
//     packet, at two to three times the speed of Next, since fresh memory
//     is what Next spends most of its time on.
//   - NextZeroCopy returns Data pointing into a buffer the reader reuses,
//     valid only until the next call: it allocates and copies nothing and
//     is the call for hot paths that look at each packet once.
//
// In pcapng, every Section Header Block starts a new section with its own
// byte order and interfaces (Reader.Section, Reader.SectionInfo,
// Reader.Interfaces); each packet carries the link type of its own
// interface, so one file may mix link types. Timestamps are converted
// exactly from any if_tsresol (10^-n up to 10^-19, 2^-n up to 2^-63;
// fractions of a nanosecond are truncated) and if_tsoffset is applied.
// Simple Packet Blocks have no timestamp: their packets have the zero
// time.Time. Name Resolution, Interface Statistics, Decryption Secrets,
// custom and unknown blocks are checked for sane lengths and skipped.
//
// Like libpcap, the reader accepts pcap versions 2.0 to 2.4 (with the
// swapped length fields of 2.0–2.3), the "modified pcap" magic 0xa1b2cd34,
// a link type field whose upper 16 bits carry the FCS length, and records
// whose captured length exceeds the header's snaplen.
//
// # Errors
//
// Malformed data gives a *FormatError naming the byte offset of the fault:
// an unknown magic number, a block whose length is under 12, not a multiple
// of 4, over 16 MiB or different from its trailer, a captured length larger
// than its block or than 256 KiB (more for the few link types libpcap
// allows more), a packet naming an interface the section lacks. Lengths
// from the file never size an allocation by themselves: buffers grow only
// as the bytes actually arrive.
//
// A stream that ends cleanly between packets ends with io.EOF. A stream
// cut off inside a header, record or block yields every complete packet
// before the cut, then a *FormatError wrapping io.ErrUnexpectedEOF, so
// errors.Is(err, io.ErrUnexpectedEOF) tells a truncated capture from a
// corrupt one. Errors of the underlying reader are returned wrapped. After a
// *FormatError the reader cannot resynchronise: every later call returns
// the same error.
//
// # Writing
//
// NewWriter writes pcap, nanosecond pcap or pcapng (a Section Header Block
// and one Interface Description Block per Interface, then one Enhanced
// Packet Block per packet, with its comment). Timestamps round-trip exactly
// in nanosecond pcap and in pcapng at the default nanosecond resolution; a
// truncated packet keeps its on-wire length. FormatFromPath picks the
// format from a file name's extension.
package pcapio
