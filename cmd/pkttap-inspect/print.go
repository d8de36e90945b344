package main

import (
	"bufio"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/internal/hexdump"
	"github.com/pkttap/pkttap/pcapio"
)

// printer writes the per-packet output of pkttap-inspect.
type printer struct {
	w       *bufio.Writer
	hex     bool            // header line + hex dump (the default view)
	summary bool            // -S
	tree    bool            // -V
	opts    dissect.Options // --verify-checksums
	fields  []string        // -T fields -e ...
	first   time.Time       // packet 1's timestamp, for -S's relative times
	buf     []byte
}

// printPacket prints packet number n (1-based) in the selected views;
// si is what the stream tracker found for it, r the datagram its IP
// fragment completes (nil when none).
func (pr *printer) printPacket(n int, p *pcapio.Packet, si *dissect.StreamInfo, r *dissect.Reassembled) {
	b := pr.buf[:0]
	opts := pr.opts
	opts.Stream, opts.Reassembled = si, r
	if len(pr.fields) > 0 {
		b = appendFields(b, opts, pr.fields, n, p)
	}
	if pr.summary {
		b = appendSummary(b, opts, n, p, p.Timestamp.Sub(pr.first))
	}
	if pr.hex || pr.tree {
		b = appendHeader(b, n, p)
	}
	if pr.tree {
		for _, l := range opts.Dissect(p.LinkType, p.Data, p.Length).Layers {
			b = appendNode(b, l, 0)
		}
	}
	if pr.hex || pr.tree {
		b = hexdump.Append(b, p.Data)
	}
	pr.w.Write(b)
	pr.buf = b
}

// appendLinkTypes appends the lines that head the hex and tree views:
// "link type: NAME" with the capture's link type lt, or its interfaces'
// when ifs (a file's) are known; a file whose interfaces have several link
// types gets one line per interface, "link type: NAME (interface i, if_name)".
// NAME is pcapio's DisplayName ("Ethernet", "RawIp", "LinuxSll").
func appendLinkTypes(b []byte, lt pcapio.LinkType, ifs []pcapio.Interface) []byte {
	if len(ifs) > 0 {
		lt = ifs[0].LinkType
	}
	if !slices.ContainsFunc(ifs, func(ifc pcapio.Interface) bool { return ifc.LinkType != lt }) {
		return fmt.Appendf(b, "link type: %s\n", lt.DisplayName())
	}
	for i, ifc := range ifs {
		b = fmt.Appendf(b, "link type: %s (interface %d", ifc.LinkType.DisplayName(), i)
		if ifc.Name != "" {
			b = fmt.Appendf(b, ", %s", ifc.Name)
		}
		b = append(b, ")\n"...)
	}
	return b
}

// appendHeader appends the line that heads a packet's hex dump:
// "[   n] seconds.microseconds LINKTYPE N bytes [truncated to N]", the link
// type by its display name ("Ethernet").
func appendHeader(b []byte, n int, p *pcapio.Packet) []byte {
	b = fmt.Appendf(b, "[%4d] ", n)
	b = appendTime(b, p.Timestamp)
	b = fmt.Appendf(b, " %s %d bytes", p.LinkType.DisplayName(), p.Length)
	if p.IsTruncated() {
		b = fmt.Appendf(b, " [truncated to %d]", len(p.Data))
	}
	return append(b, '\n')
}

// appendTime appends t as Unix seconds and microseconds, "1700000000.123456".
func appendTime(b []byte, t time.Time) []byte {
	us := t.UnixMicro()
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		sec, frac = sec-1, frac+1e6
	}
	b = strconv.AppendInt(b, sec, 10)
	b = append(b, '.')
	s := strconv.AppendInt(nil, frac, 10)
	for range 6 - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendSummary appends a tshark-like summary line: No., Time (seconds since
// the first packet printed), Source, Destination, Protocol, Length, Info.
func appendSummary(b []byte, opts dissect.Options, n int, p *pcapio.Packet, rel time.Duration) []byte {
	s := opts.Summarize(p.LinkType, p.Data, p.Length)
	return fmt.Appendf(b, "%5d %11.6f %s → %s %s %d %s\n", n, rel.Seconds(), orDash(s.Source), orDash(s.Destination), orDash(s.Protocol), p.Length, s.Info)
}

// orDash stands in for an empty column so the line keeps its shape.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// appendNode appends a dissect tree node and its children, indented four
// spaces a level, each with the byte range it covers in the packet.
func appendNode(b []byte, nd *dissect.Node, depth int) []byte {
	for range depth {
		b = append(b, "    "...)
	}
	b = fmt.Appendf(b, "%s (offset %d, length %d)\n", nd.Label, nd.Offset, nd.Length)
	if depth < 64 {
		for _, c := range nd.Children {
			b = appendNode(b, c, depth+1)
		}
	}
	return b
}
