package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/internal/testenv"
)

// knownFieldDiffs are the fields whose -T fields values differ from
// tshark's on packets both decode to the same protocols, with the reason.
var knownFieldDiffs = map[string]string{
	"data.data":               "tshark shows a bad-length UDP datagram's payload as data; pkttap marks it malformed",
	"data.len":                "tshark shows a bad-length UDP datagram's payload as data; pkttap marks it malformed",
	"udp.payload":             "tshark shows a bad-length UDP datagram's payload; pkttap marks it malformed",
	"dhcp.hw.mac_addr":        "tshark also decodes the client identifier option's hardware address",
	"dhcp.hw.type":            "tshark also decodes the client identifier option's hardware type",
	"dhcp.option.type":        "tshark gives the End option the value 0",
	"dns.flags.authenticated": "tshark shows the AD bit of a query that sets it",
	"eth.padding":             "tshark counts an Ethernet trailer as padding differently",
	"eth.trailer":             "tshark counts an Ethernet trailer as padding differently",
	"http.file_data":          "tshark leaves a binary body's text out",
	"http.request.line":       "SSDP header lines are ssdp.request.line to pkttap",
	"icmpv6.echo.identifier":  "tshark decodes echo fields in more ICMPv6 types",
	"llc.pid":                 "tshark names SNAP PIDs of other OUIs differently",
	"pppoed.tag":              "tshark decodes PPPoE tags under their own names",
	"pppoed.tag_length":       "tshark decodes PPPoE tags under their own names",
	"quic.dcid":               "tshark decodes QUIC connection IDs across packets",
	"quic.long.packet_type":   "tshark decodes QUIC coalesced packets",
	"quic.protected_payload":  "tshark decrypts QUIC Initial packets",
	"sll.src.eth":             "tshark names an all-zero SLL address sll.src.eth",
	"sll.src.other":           "tshark names an all-zero SLL address sll.src.eth",
	"tcp.flags.ae":            "tshark leaves the flag bits of a SYN with reserved bits out",
	"tcp.flags.cwr":           "tshark leaves the flag bits of a SYN with reserved bits out",
	"tcp.flags.ece":           "tshark leaves the flag bits of a SYN with reserved bits out",
	"tcp.option_kind":         "tshark shows the kind of every EOL padding byte",
	"tcp.options.sack_le":     "tshark's SACK edges are relative to the stream's first sequence number (cross-packet)",
	"tcp.options.sack_re":     "tshark's SACK edges are relative to the stream's first sequence number (cross-packet)",
	"tls.app_data":            "TLS 1.3: tshark knows a session's later records as encrypted (cross-packet)",
	"tls.record.content_type": "TLS 1.3: tshark names a session's later records opaque_type (cross-packet)",
	"tls.record.length":       "TLS 1.3: tshark knows a session's later records as encrypted (cross-packet)",
	"tls.record.version":      "TLS 1.3: tshark names a session's later records legacy_version (cross-packet)",
	"tls.handshake.extensions.supported_version": "tshark also lists a ClientHello's supported versions",
	"vlan.etype": "tshark gives stacked tags one inner type",
	// Frame 5276: an IPv6 packet of payload length 0 whose Fragment Header
	// tshark marks malformed, with none of its fields; pkttap shows them.
	"ipv6.fraghdr.ident":  "tshark gives a Fragment Header after a payload length of 0 no fields (frame 5276)",
	"ipv6.fraghdr.more":   "tshark gives a Fragment Header after a payload length of 0 no fields (frame 5276)",
	"ipv6.fraghdr.nxt":    "tshark gives a Fragment Header after a payload length of 0 no fields (frame 5276)",
	"ipv6.fraghdr.offset": "tshark gives a Fragment Header after a payload length of 0 no fields (frame 5276)",
	// Stream tracking is checked packet by packet in package streams'
	// differential test, which names each difference; these come from
	// packets pkttap does not decode as tshark does.
	"tcp.analysis.acks_frame": "tshark decompresses IPComp, so it sees segments of those streams pkttap does not",
	"tcp.analysis.ack_rtt":    "tshark decompresses IPComp, so it sees segments of those streams pkttap does not",
	"udp.stream":              "tshark decodes OpenFlow and NSH, whose inner UDP datagrams start streams pkttap does not see",
}

// TestFieldValuesTshark compares pkttap-inspect -T fields with tshark's,
// for every field of the registry that has a value, on every packet of the
// shared display-filter capture that both decode to the same protocols
// (frame.protocols, data layers aside): the typed values display filters
// compare must be tshark's.
func TestFieldValuesTshark(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	capture := filepath.Join(testenv.SharedDir(t), "dfilters", "capture.pcapng")
	names := []string{"frame.number", "frame.protocols"}
	for _, f := range dissect.Fields() {
		switch {
		case f.Type == dissect.TypeNone || f.IsProtocol() || strings.HasPrefix(f.Name, "frame."):
		case f.Name == "sctp.chunk" || f.Name == "tls.continuation_data" || strings.HasPrefix(f.Name, "ssdp.") || strings.HasPrefix(f.Name, "tcp.options.mptcp"):
			// pkttap's own names
		default:
			names = append(names, f.Name)
		}
	}
	args := []string{"-n", "-r", capture, "-o", "tcp.desegment_tcp_streams:FALSE", "-T", "fields"}
	var mine []string
	for _, n := range names {
		args = append(args, "-e", n)
		mine = append(mine, "-e", n)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	stdout, stderr, code := runCLI(t, append(append([]string{"-T", "fields"}, mine...), capture)...)
	if code != 0 {
		t.Fatalf("pkttap-inspect -T fields: exit %d: %s", code, stderr)
	}
	theirs, ours := strings.Split(string(out), "\n"), strings.Split(stdout, "\n")
	compared, bad := 0, map[string]int{}
	for i := 0; i < len(theirs) && i < len(ours); i++ {
		a, b := strings.Split(theirs[i], "\t"), strings.Split(ours[i], "\t")
		if len(a) != len(names) || len(b) != len(names) {
			continue
		}
		if a[0] != b[0] {
			t.Fatalf("line %d: frame %s against %s", i+1, a[0], b[0])
		}
		if strings.ReplaceAll(a[1], ":data", "") != strings.ReplaceAll(b[1], ":data", "") {
			continue
		}
		compared++
		for j := 2; j < len(names); j++ {
			if a[j] == b[j] {
				continue
			}
			if _, known := knownFieldDiffs[names[j]]; !known && bad[names[j]] == 0 {
				t.Errorf("frame %s, %s: pkttap %.80q, tshark %.80q", a[0], names[j], b[j], a[j])
			}
			bad[names[j]]++
		}
	}
	t.Logf("compared %d fields on %d packets; %d fields differ on some (known)", len(names)-2, compared, len(bad))
	if compared < 1000 {
		t.Errorf("only %d packets compared", compared)
	}
}
