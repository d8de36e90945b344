package filter

import (
	"errors"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

var fuzzLinkTypes = []pcapio.LinkType{pcapio.LinkTypeEthernet, pcapio.LinkTypeRaw, pcapio.LinkTypeLinuxSLL,
	pcapio.LinkTypeLinuxSLL2, pcapio.LinkTypeNull, pcapio.LinkTypeLoop, pcapio.LinkTypeIEEE802_11}

// FuzzCompile feeds arbitrary text to the lexer, parser and code generator:
// Compile must not panic or hang, must fail only with *Error (with a column
// inside the input), and what it compiles must be a valid program.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"", "tcp port 80", "host 10.0.0.1 and (10.0.0.2 or 10.0.0.3)", "ether[0] & 1 != 0",
		"vlan 10 and mpls 3 and ip", "ip6 protochain 6", "geneve 5 and ether host 0:1:2:3:4:5",
		"not (tcp or udp)", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn", "-1 % 2 ^ 3 = 4",
		"port ftp-data or portrange 1-2", "net 10 mask 255.0.0.0", "wlan addr2 1:2:3:4:5:6",
		"type mgt subtype beacon", "llc u", "decnet src 1.2", "((((((", "ip[", "\\", "$1",
		"0x", "08", "fe80::1/200", "a:b:c", "inbound or ifindex 3", "pppoes 1 and ip6",
	} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, expr string, lt uint8) {
		opts := Options{LinkType: fuzzLinkTypes[int(lt)%len(fuzzLinkTypes)], Resolver: staticResolver{}}
		for _, noOpt := range []bool{true, false} {
			opts.NoOptimize = noOpt
			p, err := Compile(expr, opts)
			if err != nil {
				var fe *Error
				if !errors.As(err, &fe) {
					t.Fatalf("Compile(%q): %T %v, want *Error", expr, err, err)
				}
				if fe.Column < 1 || fe.Column > len(expr)+1 {
					t.Fatalf("Compile(%q): column %d outside the input", expr, fe.Column)
				}
				continue
			}
			m := p.Matcher()
			m.Run(make([]byte, 64), 64)
		}
	})
}
