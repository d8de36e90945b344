package dfilter

import (
	"errors"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// eth frames an IP packet in Ethernet from testpkt.MACA to MACB.
func eth(etherType uint16, payload []byte) []byte {
	b := append(append(append([]byte(nil), testpkt.MACB...), testpkt.MACA...), byte(etherType>>8), byte(etherType))
	return append(b, payload...)
}

var (
	httpGet = eth(testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoTCP, testpkt.IPv4A, testpkt.IPv4B,
		testpkt.TCP(40000, 80, 1, 0x18, 65535, []byte("GET /index.html HTTP/1.1\r\nHost: www.Example.test\r\nUser-Agent: curl/8\r\n\r\n"))))
	tcpSYN = eth(testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoTCP, testpkt.IPv4A, testpkt.IPv4B,
		testpkt.TCP(443, 443, 7, 0x02, 1024, nil)))
	udp6 = eth(testpkt.EtherTypeIPv6, testpkt.IPv6(testpkt.ProtoUDP, testpkt.IPv6A, testpkt.IPv6B,
		testpkt.UDP(5000, 9, []byte{0, 0, 0, 1, 2, 3})))
	arpReq = eth(testpkt.EtherTypeARP, testpkt.ARPRequest(testpkt.MACA, testpkt.IPv4A, testpkt.IPv4B))
)

// TestMatch evaluates expressions on packets built here, each verdict
// checked by hand against Wireshark 4.0's rules.
func TestMatch(t *testing.T) {
	pkts := map[string][]byte{"http": httpGet, "syn": tcpSYN, "udp6": udp6, "arp": arpReq}
	tests := []struct {
		pkt, expr string
		want      bool
	}{
		{"http", "tcp", true},
		{"http", "udp", false},
		{"http", "http", true},
		{"http", "ip.src == 198.18.0.1", true},
		{"http", "ip.src == 198.18.0.0/15", true},
		{"http", "ip.src == 198.18.0.2", false},
		{"http", "ip.addr == 198.18.0.2", true},
		{"http", "ip.addr != 198.18.0.2", false},    // all not equal
		{"http", "ip.addr ~= 198.18.0.2", true},     // any not equal
		{"http", "ip.addr !== 198.18.0.2", true},    // any not equal
		{"http", "ip.addr === 198.18.0.2", false},   // all equal
		{"http", "ip.addr === 198.18.0.0/15", true}, // all equal under the prefix
		{"http", "!(ip.addr == 198.18.0.2)", false}, // negation
		{"udp6", "ip.addr != 198.18.0.2", false},    // no value: false
		{"udp6", "!(ip.addr == 198.18.0.2)", true},  // negation of false
		{"http", "tcp.port == 80", true},            // alias of srcport and dstport
		{"http", "tcp.port in {1..100}", true},      // range
		{"http", "tcp.port in {1, 2, 3}", false},    // set
		{"http", "tcp.port not in {1, 2, 3}", true}, // not in
		{"http", "tcp.dstport > 79 and tcp.dstport < 81", true},
		{"http", "tcp.flags == 0x018", true},
		{"http", "tcp.flags & 0x02", false},
		{"syn", "tcp.flags & 0x02", true},
		{"syn", "tcp.flags.syn == 1 && tcp.flags.ack == 0", true},
		{"syn", "tcp.flags.syn == True", true},
		{"syn", "tcp.srcport == tcp.dstport", true}, // field to field
		{"http", "tcp.srcport == tcp.dstport", false},
		{"http", "ip.src == ip.dst", false},
		{"http", "tcp.len == 72", true},
		{"http", "tcp.payload", true},
		{"syn", "tcp.payload", false},
		{"http", "tcp contains \"GET\"", true},
		{"http", "tcp contains \"get\"", false}, // contains is case-sensitive
		{"http", "http.request.method == \"GET\"", true},
		{"http", "http.request.method in {\"GET\", \"HEAD\"}", true},
		{"http", "http.host == \"www.Example.test\"", true},
		{"http", "http.host matches \"^www\\\\.example\"", true}, // matches ignores case, as 4.0's
		{"http", "http.host matches \"(?i)EXAMPLE\"", true},
		{"http", "lower(http.host) contains \"example\"", true},
		{"http", "upper(http.request.method) == \"GET\"", true},
		{"http", "http.request.full_uri == \"http://www.Example.test/index.html\"", true},
		{"http", "http.request", true},
		{"http", "http.response", false},
		{"http", "len(http.host) == 16", true},
		{"http", "len(tcp.payload) > 60", true},
		{"http", "count(ip.addr) == 2", true},
		{"http", "count(tcp.port) == 2", true},
		{"http", "string(tcp.dstport) == \"80\"", true},
		{"http", "max(tcp.srcport, tcp.dstport) == 40000", true},
		{"http", "min(tcp.srcport, tcp.dstport) == 80", true},
		{"http", "tcp.dstport + 1 == 81", true},
		{"http", "tcp.srcport - tcp.dstport == 39920", true},
		{"http", "tcp.dstport * 2 == 160 and tcp.dstport / 8 == 10 and tcp.dstport % 7 == 3", true},
		{"http", "abs(-tcp.dstport) == 80", true},
		{"http", "eth.src == 02:00:00:00:00:0a", true},
		{"http", "eth.src == 02-00-00-00-00-0a", true},
		{"http", "eth.src == 0200.0000.000a", true},
		{"http", "eth.addr == 02:00:00:00:00:0b", true},
		{"http", "eth.src[0:3] == 02:00:00", true},
		{"http", "eth.src[0-2] == 02:00:00", true},
		{"http", "eth.src[-1] == 0a", true},
		{"http", "eth.src[3:] == 00:00:0a", true},
		{"http", "eth.src[:1] == 02", true},
		{"http", "eth.src[0:1,5] == 02:0a", true},
		{"http", "eth.dst[0] & 1", false},
		{"http", "frame.len == 126", true},
		{"http", "frame.cap_len < frame.len", false},
		{"http", "frame.number == 7", true},
		{"http", "frame.protocols == \"eth:ethertype:ip:tcp:http\"", true},
		{"http", "frame contains \"HTTP\"", true},
		{"http", "ip.ttl == 64 && ip.version == 4 && ip.hdr_len == 20", true},
		{"http", "ip.proto == 6 || udp", true},
		{"http", "ip.flags.df == 0", true},
		{"http", "tcp.port == 80 && !udp && (ip || ipv6)", true},
		{"udp6", "ipv6.addr == 2001:db8::/32", true},
		{"udp6", "ipv6.src == 2001:db8::1", true},
		{"udp6", "ipv6.dst == 2001:db8::1", false},
		{"udp6", "udp.payload == 00:00:00:01:02:03", true},
		{"udp6", "udp contains 01:02:03", true},
		{"udp6", "udp.port == 9 && udp.length == 14", true},
		{"udp6", "ip", false},
		{"arp", "arp.opcode == 1", true},
		{"arp", "arp.src.proto_ipv4 == 198.18.0.1", true},
		{"arp", "eth.dst == ff:ff:ff:ff:ff:ff", false},
	}
	for _, tt := range tests {
		f, err := Compile(tt.expr)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.expr, err)
			continue
		}
		data := pkts[tt.pkt]
		got := f.Match(Packet{LinkType: pcapio.LinkTypeEthernet, Data: data, Length: len(data), Number: 7})
		if got != tt.want {
			t.Errorf("%s: %q = %v, want %v", tt.pkt, tt.expr, got, tt.want)
		}
	}
}

// TestCompileErrors checks that invalid expressions are refused with the
// column of the fault and tshark's words for it.
func TestCompileErrors(t *testing.T) {
	tests := []struct {
		expr   string
		column int
		msg    string
	}{
		{"ip.src ==", 10, "Unexpected end of filter expression."},
		{"== 80", 1, `"==" was unexpected in this context.`},
		{"(tcp.port == 80", 16, "Unexpected end"},
		{"tcp.port == 80)", 15, `")" was unexpected`},
		{"ip.src == 999.1.1.1", 11, `"999.1.1.1" is not a valid hostname or IPv4 address.`},
		{"ip.src == 1.2.3.4/33", 11, "Netmask bits in a CIDR IPv4 address should be <= 32, not 33"},
		{"eth.src == 00:11:22:33:44", 12, "contains too few bytes to be a valid Ethernet address."},
		{"eth.src == 00:11:22:33:44:55:66", 12, "too many bytes"},
		{"eth.src == zz:11:22:33:44:55", 12, "not a valid Ethernet address"},
		{`tcp.port == "eighty"`, 13, `Unsigned integer (2 bytes) cannot be converted from a string ("eighty").`},
		{"nosuchproto", 1, "nosuchproto is neither a field nor a protocol name."},
		{"tcp.prot == 1", 1, "Did you mean tcp.port?"},
		{"tcp.nosuchfield == 1", 1, `Left side of "==" expression must be a field or function, not tcp.nosuchfield.`},
		{`dns.qry.name matches "("`, 22, "Regex compilation error: missing closing )"},
		{"tcp.port in {}", 14, `"}" was unexpected`},
		{"tcp.port in {1..}", 17, `"}" was unexpected`},
		{"tcp.port == 70000", 13, `"70000" too big for this field, maximum 65535.`},
		{"ip.ttl == 256", 11, `"256" too big for this field, maximum 255.`},
		{"tcp.port == -1", 13, "too small for this field, minimum 0."},
		{"tcp.srcport[0:2] == 00:50", 1, `"tcp.srcport" is a Unsigned integer (2 bytes) and cannot be sliced into a sequence of bytes.`},
		{"len(ip.src ==", 12, `"==" was unexpected in this context.`},
		{"ip.src ==== 1.2.3.4", 11, `"=" was unexpected in this context.`},
		{"&& tcp", 1, `"&&" was unexpected`},
		{"tcp || || udp", 8, `"||" was unexpected`},
		{"ip.addr == 1.2.3.4 1.2.3.5", 20, `"1.2.3.5" was unexpected`},
		{`frame.len > "a"`, 13, `Unsigned integer (4 bytes) cannot be converted from a string ("a").`},
		{`"just a string"`, 1, "is neither a field nor a protocol name."},
		{`http.host == "unterminated`, 27, "The final quote was missing from a quoted string."},
		{"ipv6.src == 2001:db8::/129", 13, "Prefix in a IPv6 address should be <= 128, not 129"},
		{"ipv6.src == 10.0.0.1", 13, "not a valid hostname or IPv6 address"},
		{"vlan.id == 0x", 12, `"0x" is not a valid number.`},
		{"tcp.port == 08", 13, `"08" is not a valid number.`},
		{"tcp.port == 80 or 443", 19, "443 is neither a field nor a protocol name."},
		{"ip.src == tcp.port", 1, "are not of compatible types"},
		{"tcp.port contains 80", 1, "cannot be tested with contains"},
		{`tcp.port matches "8"`, 1, "cannot be tested with matches"},
		{"nosuch(tcp.port)", 1, "The function 'nosuch' does not exist."},
		{"len(tcp.port)", 5, "len() takes bytes or a string"},
		{"count(tcp.port, udp.port)", 1, "takes 1 argument"},
		{"upper(tcp.port) == 1", 7, "upper() takes a string"},
		{"tcp.port $ 1", 10, `"$" was unexpected`},
		{"", 1, "empty"},
		{"eth.src[1-0] == 00", 12, "comes before its start"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.expr)
		var de *Error
		if !errors.As(err, &de) {
			t.Errorf("Compile(%q) = %v, want an *Error", tt.expr, err)
			continue
		}
		if de.Column != tt.column || !strings.Contains(de.Msg, tt.msg) {
			t.Errorf("Compile(%q): column %d %q, want column %d %q", tt.expr, de.Column, de.Msg, tt.column, tt.msg)
		}
	}
}

// TestLexer checks tokens and their byte ranges.
func TestLexer(t *testing.T) {
	tests := []struct {
		src  string
		want string // kind:text@pos for each token
	}{
		{"tcp.port==80", "1:tcp.port@0 22:==@8 1:80@10"},
		{"a in {1..3}", "1:a@0 23:in@2 6:{@5 1:1@6 11:..@7 1:3@9 7:}@10"},
		{`x contains "a\x41\101\"b"`, `1:x@0 22:contains@2 2:aAA"b@11`},
		{"eth.src[0:3]", "1:eth.src@0 8:[@7 1:0@8 12::@9 1:3@10 9:]@11"},
		{"f[-1] ~ 'a'", "1:f@0 8:[@1 13:-@2 1:1@3 9:]@4 22:matches@6 3:a@8"},
		{"!a && not b || c or d and e", "21:!@0 1:a@1 19:&&@3 21:not@6 1:b@10 20:||@12 1:c@15 20:or@17 1:d@20 19:and@22 1:e@26"},
		{"fe80::/10 ::1 00-11-22", "1:fe80::/10@0 1:::1@10 1:00-11-22@14"},
	}
	for _, tt := range tests {
		l := lexer{src: tt.src}
		var got []string
		for {
			tok := l.next()
			if tok.kind == tEOF {
				break
			}
			got = append(got, strings.Join([]string{itoa(int(tok.kind)), ":", tok.text, "@", itoa(tok.pos)}, ""))
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("lex %q:\n got %s\nwant %s", tt.src, g, tt.want)
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestFields checks the fields a filter names, aliases as written.
func TestFields(t *testing.T) {
	f, err := Compile("tcp.port == 80 && len(http.host) > 3 || ip.addr == 1.2.3.4 && tcp.port > 1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(f.Fields(), ","), "tcp.port,http.host,ip.addr"; got != want {
		t.Errorf("Fields() = %s, want %s", got, want)
	}
}
