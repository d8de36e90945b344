package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
)

// displayCapture writes four packets, an HTTP request, a DNS-less UDP
// datagram, a TCP SYN and an ARP request, to a pcap file.
func displayCapture(t *testing.T) string {
	t.Helper()
	eth := func(et uint16, payload []byte) []byte {
		b := append(append(append([]byte(nil), testpkt.MACB...), testpkt.MACA...), byte(et>>8), byte(et))
		return append(b, payload...)
	}
	frames := [][]byte{
		eth(testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoTCP, testpkt.IPv4A, testpkt.IPv4B,
			testpkt.TCP(40000, 80, 1, 0x18, 65535, []byte("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))),
		eth(testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoUDP, testpkt.IPv4B, testpkt.IPv4A, testpkt.UDP(5000, 9, []byte("hi")))),
		eth(testpkt.EtherTypeIPv4, testpkt.IPv4(testpkt.ProtoTCP, testpkt.IPv4A, testpkt.IPv4B, testpkt.TCP(40001, 443, 7, 0x02, 1024, nil))),
		eth(testpkt.EtherTypeARP, testpkt.ARPRequest(testpkt.MACA, testpkt.IPv4A, testpkt.IPv4B)),
	}
	var pkts []pcapio.Packet
	for i, f := range frames {
		pkts = append(pkts, pcapio.Packet{Timestamp: time.Unix(1700000000+int64(i), 0), Data: f, Length: len(f), LinkType: pcapio.LinkTypeEthernet})
	}
	path := filepath.Join(t.TempDir(), "display.pcap")
	if err := capture.DumpPackets(path, pcapio.LinkTypeEthernet, pkts); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDisplayFilter(t *testing.T) {
	file := displayCapture(t)
	tests := []struct {
		name string
		args []string
		want string // stdout
	}{
		{"count", []string{"-q", "-Y", "tcp", file}, "displayed 2 of 4 packets\n"},
		{"after BPF", []string{"-q", "-Y", "tcp.flags.syn == 1", file, "tcp"}, "displayed 1 of 2 packets\n"},
		{"numbers", []string{"-S", "-Y", "udp || arp", file}, ""},
		{"fields", []string{"-T", "fields", "-e", "frame.number", "-e", "ip.addr", "-e", "tcp.port", "-e", "http.host", "-e", "tcp.flags", "-e", "tcp.flags.syn", "-Y", "tcp", file},
			"1\t198.18.0.1,198.18.0.2\t40000,80\ta.test\t0x0018\t0\n3\t198.18.0.1,198.18.0.2\t40001,443\t\t0x0002\t1\ndisplayed 2 of 4 packets\n"},
	}
	for _, tt := range tests {
		stdout, stderr, code := runCLI(t, tt.args...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", tt.name, code, stderr)
			continue
		}
		if tt.name == "numbers" {
			var nums []string
			for _, l := range strings.Split(stdout, "\n") {
				if f := strings.Fields(l); len(f) > 0 {
					nums = append(nums, f[0])
				}
			}
			if got := strings.Join(nums, " "); got != "2 4 displayed" {
				t.Errorf("numbers: first columns %q, want the packets' numbers in the file, 2 and 4:\n%s", got, stdout)
			}
			continue
		}
		if stdout != tt.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tt.name, stdout, tt.want)
		}
	}
}

func TestDisplayFilterInvalid(t *testing.T) {
	file := displayCapture(t)
	for _, tt := range []struct{ expr, want string }{
		{"tcp.port == 70000", "column 13: \"70000\" too big for this field, maximum 65535.\n    tcp.port == 70000\n                ^~~~~"},
		{"(tcp", "column 5: Unexpected end of filter expression."},
		{"tcp.prot", "tcp.prot is neither a field nor a protocol name. Did you mean tcp.port?"},
	} {
		stdout, stderr, code := runCLI(t, "-S", "-Y", tt.expr, file)
		if code == 0 || stdout != "" || !strings.Contains(stderr, tt.want) {
			t.Errorf("-Y %q: exit %d, stdout %q, stderr %q; want a failure saying %q and no packets", tt.expr, code, stdout, stderr, tt.want)
		}
	}
	if _, stderr, code := runCLI(t, "-T", "fields", "-e", "tcp.nosuch", file); code != exitUsage || !strings.Contains(stderr, "no such field") {
		t.Errorf("-e tcp.nosuch: exit %d, %q", code, stderr)
	}
}

func TestFieldList(t *testing.T) {
	stdout, _, code := runCLI(t, "-G", "fields")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"P\tTransmission Control Protocol\ttcp\n",
		"F\tSource Port\ttcp.srcport\tFT_UINT16\ttcp\tBASE_DEC\t0x0\t\n",
		"F\tSource or Destination Address\tip.addr\tFT_IPv4\tip\tBASE_NONE\t0x0\t\n",
		"F\tResponse\tdns.flags.response\tFT_BOOLEAN\tdns\tBASE_NONE\t0x8000\t\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("-G fields lacks %q", want)
		}
	}
}
