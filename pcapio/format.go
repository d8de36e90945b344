package pcapio

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Format is a capture file format.
type Format int

// The capture file formats pcapio reads and writes.
const (
	// FormatPcap is classic libpcap format with microsecond timestamps.
	FormatPcap Format = iota
	// FormatPcapNano is classic libpcap format with nanosecond timestamps.
	FormatPcapNano
	// FormatPcapNg is the pcapng format.
	FormatPcapNg
)

// String returns "pcap", "pcap-nano" or "pcapng".
func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNano:
		return "pcap-nano"
	case FormatPcapNg:
		return "pcapng"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FormatFromPath chooses a format from a file name's extension
// (case-insensitive): .pcap and .cap give FormatPcap, .pcapng and .ntar give
// FormatPcapNg.
func FormatFromPath(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pcap", ".cap":
		return FormatPcap, nil
	case ".pcapng", ".ntar":
		return FormatPcapNg, nil
	}
	return 0, fmt.Errorf("pcapio: cannot tell the capture format of %q from its extension (use .pcap or .pcapng)", path)
}
