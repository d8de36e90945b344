package pcapio

import "time"

// MaxSnaplen is the snap length "0" stands for everywhere in pkttap (a
// capture's Snaplen, a filter's, a live source's, a written file's header,
// pkttap-web's /api/live), and the largest snap length a live capture or a
// filter accepts: libpcap's MAXIMUM_SNAPLEN, 262144 bytes, which tcpdump -s 0
// selects too. It is also the largest packet a reader accepts for most link
// types (a few, such as USBPcap and D-Bus, allow more, as in libpcap).
const MaxSnaplen = 262144

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
