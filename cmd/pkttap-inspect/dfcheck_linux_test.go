package main

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
)

// dfcheckKnown are the public display filters on which pkttap-inspect's
// packets differ from tshark 4.0's, each for a reason outside the filter
// language (dfReasons): protocols pkttap does not decode, payloads tshark
// decompresses or decrypts into a second data source, and tshark's
// cross-packet state. The test fails for any other
// difference, and says when a listed one has gone.
var dfcheckKnown = map[string]string{}

// dfReasons groups the known differences by reason.
var dfReasons = map[string][]string{
	"IPComp: tshark inflates the deflate-compressed payload of IPComp (behind AH here) and decodes the IP packet inside, in a second data source; pkttap's tree holds byte ranges of the captured bytes only, so it shows the compressed payload as data": {
		"tcp",
		"http",
		"ip.proto == 6 && ip.len > 500",
		"ipv6.plen > 100",
		"tcp.port == 80",
		"tcp.dstport in {80, 443, 8080}",
		"tcp.port in {1..1024}",
		"tcp.port > 1023 && tcp.port < 5000",
		"tcp.flags.push == 1",
		"tcp.hdr_len > 20",
		"tcp.options.timestamp.tsval > 0",
		"not tcp.port == 80",
		"!tcp",
		`http.request.method == "GET"`,
		`http.request.method in {"GET", "HEAD"}`,
		`http.request.uri contains "/"`,
		"http.response.code == 200",
		`http.user_agent contains "Mozilla"`,
		`http.content_type contains "text"`,
		"ip.len > 1000 or ipv6.plen > 1000",
		`tcp contains "GET"`,
		"tcp.payload",
		`upper(http.request.method) == "GET"`,
	},
	"QUIC: tshark decrypts QUIC Initial packets (keys derived from the connection ID) and decodes the TLS handshake inside, in a second data source the tree model does not have": {
		"tls",
		"tls.handshake.type == 1",
		"tls.handshake.type == 2",
		"tls.handshake.type in {1, 2, 11}",
		"tls.handshake.extensions_server_name",
		"tls.handshake.version == 0x0303",
	},
	"OpenFlow: a packet-in message carries an Ethernet frame cut inside its IPv4 header (frame 7153); tshark decodes the header's fields that are there, pkttap marks the header cut short (count(ip.addr), count(ip.src): also frames 5477-5481, where tshark reassembles IP)": {
		"ip.addr == 192.168.0.0/16",
		"ip.ttl >= 128",
		"ip.proto == 17",
		"count(ip.addr) == 2",
		"count(ip.src) > 1",
	},
	"IPv6 extension headers: frame 5582 chains 100+ of them before its UDP header; pkttap stops following them (its nesting bound), tshark goes on": {
		"udp",
		"udp.srcport < udp.dstport",
		"udp.length < 20",
	},
	"link layers and protocols pkttap does not decode: ARCNET and radiotap 802.11 (llc); ATMARP, which tshark reads from ARP with hardware type ATM (arp, arp.opcode)": {
		"llc",
		"arp",
		"arp.opcode == 1",
	},
	"TLS 1.3: tshark names the records of an established session opaque_type and legacy_version, by what earlier packets said": {
		"tls.record.content_type == 23",
		"tls.record.version == 0x0303",
	},
	"data: tshark decodes as their protocols the payloads pkttap shows as data (OSPF, SSH, BGP, IS-IS, CDP, LLDP, ...), shows SCTP DATA chunks' and bad-length UDP datagrams' payloads as data, and no data for TCP retransmissions (its sequence analysis)": {
		"data.data",
		"data.len > 100",
	},
}

func init() {
	for reason, exprs := range dfReasons {
		for _, e := range exprs {
			dfcheckKnown[e] = reason
		}
	}
}

var dfcheckScore = regexp.MustCompile(`display filters identical to tshark: (\d+)/(\d+); invalid rejected: (\d+)/(\d+)`)

// TestDfcheck runs the shared display-filter judge, dfcheck.py, on a
// built pkttap-inspect: every public expression must select the packets
// tshark 4.0 selected (but the known differences), and every invalid one
// must be refused with a message and no packets.
func TestDfcheck(t *testing.T) {
	shared := testenv.SharedDir(t)
	script := filepath.Join(shared, "tools", "dfcheck.py")
	python := testenv.LookPath(t, "python3", "python3")
	bin := inspectBinary(t)
	out, _ := exec.Command(python, script, bin, "--notes").CombinedOutput()
	m := dfcheckScore.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("dfcheck.py gave no score:\n%s", out)
	}
	t.Logf("dfcheck: %s identical of %s, %s of %s invalid ones rejected", m[1], m[2], m[3], m[4])
	if m[3] != m[4] {
		t.Errorf("only %s of %s invalid expressions were refused", m[3], m[4])
	}
	differ := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "  '") && !strings.HasPrefix(line, `  "`) {
			continue
		}
		expr, why := splitNote(line)
		differ[expr] = true
		if _, known := dfcheckKnown[expr]; !known {
			t.Errorf("%s: %s", expr, why)
		}
	}
	for expr, reason := range dfcheckKnown {
		if !differ[expr] {
			t.Logf("%q now agrees with tshark: remove it from the known differences (%s)", expr, reason)
		}
	}
}

// splitNote splits one of dfcheck's notes, "  'expr': why" (Python's
// repr of the expression), into the expression and the reason.
func splitNote(line string) (expr, why string) {
	line = strings.TrimPrefix(line, "  ")
	q := line[0]
	var b strings.Builder
	i := 1
	for ; i < len(line) && line[i] != q; i++ {
		if line[i] == '\\' && i+1 < len(line) {
			i++
		}
		b.WriteByte(line[i])
	}
	return b.String(), strings.TrimPrefix(line[min(i+1, len(line)):], ": ")
}
