package pcapio

import "time"

// Packet is one captured packet: its bytes as captured, the length it had on
// the wire, when it was captured and on which interface.
type Packet struct {
	// Timestamp is when the packet was captured, with nanosecond precision
	// where the source has it.
	Timestamp time.Time
	// Data holds the captured bytes: at most the snap length, possibly fewer
	// than Length.
	Data []byte
	// Length is the packet's length on the wire (the "original length").
	Length int
	// LinkType is the link-layer header type of the packet's interface.
	LinkType LinkType
	// InterfaceIndex is the pcapng Interface Description Block number within
	// its section for a file (0 for classic pcap), and the operating system's
	// interface index for a live capture.
	InterfaceIndex int
	// Comment is the packet's comment (pcapng opt_comment), if any.
	Comment string
}

// IsTruncated reports whether fewer bytes were captured than were on the wire.
func (p *Packet) IsTruncated() bool { return len(p.Data) < p.Length }
