package dfilter

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

// seedExprs are the fuzzers' starting expressions: the shared public and
// invalid sets when present, and a few of every construct.
func seedExprs(f *testing.F) {
	for _, e := range []string{
		"tcp.port == 80", "ip.addr == 10.0.0.0/8 && !udp", "eth.src[0:3] == 00:11:22", "tcp.flags & 0x02",
		`http.host matches "(?i)^www\\."`, "tcp.port in {80, 443, 8000..8080}", "len(dns.qry.name) > 20",
		"count(ip.addr) == 2", "max(tcp.srcport, tcp.dstport) > 1024", `upper(http.request.method) == "GET"`,
		"frame[-4:] == 00:00:00:00", "tcp.dstport - tcp.srcport > 0", "ipv6.src == fe80::/10", `tcp contains "GET"`,
		"(ip.src == ip.dst) or (tcp.srcport == tcp.dstport)", "ip.addr ~= 1.2.3.4 and ip.addr !== 1.2.3.4", "ip.addr === 1.2.3.4",
		"abs(-frame.len) == frame.len", `string(ip.ttl) == "64"`, "eth.dst[0:1,5] & 01:01", "'a' == tcp.payload[0]",
	} {
		f.Add(e)
	}
	dir := filepath.Join("..", "..", "shared", "dfilters")
	for _, name := range []string{"public.txt", "invalid.txt"} {
		fh, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			f.Add(sc.Text())
		}
		fh.Close()
	}
}

// FuzzCompile checks that any text compiles or is refused with an *Error
// whose column lies within the expression (or just past its end), and
// never panics.
func FuzzCompile(f *testing.F) {
	seedExprs(f)
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := Compile(expr)
		if err == nil {
			if flt == nil {
				t.Fatal("no filter and no error")
			}
			return
		}
		var de *Error
		if !errors.As(err, &de) {
			t.Fatalf("Compile(%q): %v is not an *Error", expr, err)
		}
		if de.Column < 1 || de.Column > len(expr)+1 {
			t.Fatalf("Compile(%q): column %d outside the expression", expr, de.Column)
		}
	})
}

// FuzzMatch evaluates compiled expressions on arbitrary packet bytes: no
// panic, and a filter and its negation never agree.
func FuzzMatch(f *testing.F) {
	seedPackets(f)
	f.Fuzz(func(t *testing.T, expr string, data []byte) {
		flt, err := Compile(expr)
		if err != nil {
			return
		}
		neg, err := Compile("!(" + expr + ")")
		if err != nil {
			t.Fatalf("%q compiles but its negation does not: %v", expr, err)
		}
		p := Packet{LinkType: pcapio.LinkTypeEthernet, Data: data, Length: len(data), Number: 1}
		if flt.Match(p) == neg.Match(p) {
			t.Fatalf("%q and its negation agree on % x", expr, data)
		}
	})
}

// seedPackets adds expressions of every kind on three packets.
func seedPackets(f *testing.F) {
	for _, e := range []string{"tcp.port == 80", "ip.addr == 198.18.0.0/15", "eth.src[0:3] == 02:00:00", "tcp.flags & 0x12",
		`http.host contains "x"`, "len(tcp.payload) > 3", "count(ip.src) == 1", "udp.payload[-2:] == 02:03", "ipv6.addr == ::/0",
		"ip.addr != 10.0.0.1 || tcp.port not in {80, 443..444}", `max(tcp.srcport, tcp.dstport) > 1000 && http matches "get"`} {
		f.Add(e, httpGet)
		f.Add(e, udp6)
		f.Add(e, tcpSYN[:30])
	}
}

// FuzzTrace traces compiled expressions on arbitrary packet bytes: no
// panic, Match's verdict, every value's bytes followed and in the
// packet, and every leaf's checks giving the outcome Match's closure
// gives.
func FuzzTrace(f *testing.F) {
	seedPackets(f)
	f.Fuzz(func(t *testing.T, expr string, data []byte) {
		flt, err := Compile(expr)
		if err != nil {
			return
		}
		p := Packet{LinkType: pcapio.LinkTypeEthernet, Data: data, Length: len(data), Number: 1}
		checkTrace(t, flt, p, flt.Trace(p))
	})
}
