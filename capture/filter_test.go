package capture_test

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// testExprs are filter expressions with a varied mix of verdicts on the
// test packets.
var testExprs = []string{
	"",
	"   ",
	"udp",
	"tcp",
	"udp port 53",
	"tcp[tcpflags] & tcp-syn != 0",
	"tcp[tcpflags] & (tcp-rst|tcp-fin) != 0",
	"arp",
	"ip6",
	"ip6 and tcp",
	"host 198.18.0.1",
	"src host 198.18.0.2 and tcp",
	"greater 1000",
	"less 80",
	"not tcp",
	"ether broadcast",
	"ether src 02:00:00:00:00:0b",
	"port 5353 or port 22",
	"udp and not port 53",
}

// verdicts runs expr, compiled by package filter for each packet's link
// type, in the VM over pkts and returns the indices of the matches.
func verdicts(t *testing.T, expr string, pkts []pcapio.Packet) []int {
	t.Helper()
	var idx []int
	for i, p := range pkts {
		prog, err := filter.Compile(expr, filter.Options{LinkType: p.LinkType, Snaplen: capture.MaxSnaplen})
		if err != nil {
			continue // cannot apply to this link type: no match
		}
		m, err := vm.New(prog.Raw)
		if err != nil {
			t.Fatalf("vm.New(%q): %v", expr, err)
		}
		if m.Run(p.Data, p.Length) != 0 {
			idx = append(idx, i)
		}
	}
	return idx
}

// matched opens path with b's filter and returns the indices (by
// timestamp) of the packets the capture returns.
func matched(t *testing.T, b capture.Builder, pkts []pcapio.Packet) []int {
	t.Helper()
	c, err := b.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return indices(t, readAll(t, c), pkts)
}

// indices maps packets read back to their index in pkts by timestamp.
func indices(t *testing.T, got, pkts []pcapio.Packet) []int {
	t.Helper()
	idx := make([]int, 0, len(got))
	for _, p := range got {
		i := slices.IndexFunc(pkts, func(q pcapio.Packet) bool { return q.Timestamp.Unix() == p.Timestamp.Unix() })
		if i < 0 {
			t.Fatalf("read a packet with timestamp %v that was never written", p.Timestamp)
		}
		idx = append(idx, i)
	}
	return idx
}

func TestFileFilterEqualsFilterVerdicts(t *testing.T) {
	pkts := ethernetPackets()
	for _, name := range []string{"t.pcap", "t.pcapng"} {
		path := writeFile(t, name, pcapio.LinkTypeEthernet, pkts)
		for _, expr := range testExprs {
			got := matched(t, capture.FromFile(path).Filter(expr), pkts)
			want := verdicts(t, expr, pkts)
			if !slices.Equal(got, want) {
				t.Errorf("%s: Filter(%q) returned packets %v, the filter's verdicts are %v", name, expr, got, want)
			}
		}
	}
}

// TestFileFilterEqualsTcpdump checks the same filters against libpcap
// itself: tcpdump -r reads the file and prints the packets it accepts.
func TestFileFilterEqualsTcpdump(t *testing.T) {
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	pkts := ethernetPackets()
	path := writeFile(t, "t.pcap", pcapio.LinkTypeEthernet, pkts)
	for _, expr := range testExprs {
		out, err := exec.Command(tcpdump, "-n", "-tt", "-r", path, expr).Output()
		if err != nil {
			t.Fatalf("tcpdump -r %q: %v", expr, err)
		}
		var want []int
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			sec, _, ok := strings.Cut(line, ".")
			if !ok {
				continue
			}
			s, err := strconv.ParseInt(sec, 10, 64)
			if err != nil {
				continue // a continuation line
			}
			want = append(want, int(s-baseTime.Unix()))
		}
		if got := matched(t, capture.FromFile(path).Filter(expr), pkts); !slices.Equal(got, want) {
			t.Errorf("Filter(%q) returned packets %v, tcpdump accepts %v", expr, got, want)
		}
	}
}

// mixedFile writes a pcapng file with an Ethernet interface and a raw IP
// interface, their packets interleaved, and returns it with the packets.
func mixedFile(t *testing.T) (string, []pcapio.Packet) {
	t.Helper()
	eth, raw := ethernetPackets(), rawPackets()
	var pkts []pcapio.Packet
	for i := range max(len(eth), len(raw)) {
		if i < len(eth) {
			pkts = append(pkts, eth[i])
		}
		if i < len(raw) {
			p := raw[i]
			p.InterfaceIndex = 1
			pkts = append(pkts, p)
		}
	}
	for i := range pkts { // one second apart, for indices()
		pkts[i].Timestamp = baseTime.Add(time.Duration(i) * time.Second)
	}
	path := filepath.Join(t.TempDir(), "mixed.pcapng")
	d, err := capture.ToFile(path).Interfaces([]pcapio.Interface{
		{LinkType: pcapio.LinkTypeEthernet, Name: "eth0", Snaplen: 65535},
		{LinkType: pcapio.LinkTypeRaw, Name: "tun0", Snaplen: 65535},
	}).Open()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if err := d.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return path, pkts
}

func TestPerInterfaceLinkTypes(t *testing.T) {
	path, pkts := mixedFile(t)
	c, err := capture.FromFile(path).Open()
	if err != nil {
		t.Fatal(err)
	}
	ifs := c.FileInterfaces()
	got := readAll(t, c)
	c.Close()
	if len(ifs) != 2 || ifs[0].LinkType != pcapio.LinkTypeEthernet || ifs[0].Name != "eth0" || ifs[1].LinkType != pcapio.LinkTypeRaw || ifs[1].Name != "tun0" {
		t.Errorf("FileInterfaces() = %+v, want eth0 (EN10MB) and tun0 (RAW)", ifs)
	}
	if len(got) != len(pkts) {
		t.Fatalf("read %d packets, want %d", len(got), len(pkts))
	}
	for i := range got {
		if got[i].LinkType != pkts[i].LinkType || got[i].InterfaceIndex != pkts[i].InterfaceIndex {
			t.Fatalf("packet %d: link type %s on interface %d, want %s on %d", i, got[i].LinkType, got[i].InterfaceIndex, pkts[i].LinkType, pkts[i].InterfaceIndex)
		}
	}
	if _, err := filter.Compile("ether host 02:00:00:00:00:0a", filter.Options{LinkType: pcapio.LinkTypeRaw}); err == nil {
		t.Fatal(`"ether host" compiles for RAW; the test below needs an expression that does not`)
	}
	for _, expr := range append(testExprs, "ether host 02:00:00:00:00:0a", "ip[9] = 17") {
		want := verdicts(t, expr, pkts)
		if got := matched(t, capture.FromFile(path).Filter(expr), pkts); !slices.Equal(got, want) {
			t.Errorf("Filter(%q) on a file with Ethernet and raw IP interfaces returned %v, the filter's verdicts per link type are %v", expr, got, want)
		}
	}
}

func TestFilterProgramReuse(t *testing.T) {
	pkts := ethernetPackets()
	paths := []string{writeFile(t, "a.pcap", pcapio.LinkTypeEthernet, pkts), writeFile(t, "b.pcapng", pcapio.LinkTypeEthernet, pkts)}
	for _, expr := range []string{"tcp port 80", "udp or arp", "ip6"} {
		prog, err := filter.Compile(expr, filter.Options{LinkType: pcapio.LinkTypeEthernet})
		if err != nil {
			t.Fatal(err)
		}
		before := fmt.Sprint(prog.Raw)
		want := verdicts(t, expr, pkts)
		var wg sync.WaitGroup
		results := make([][]int, 2*len(paths))
		for i := range results {
			wg.Go(func() {
				c, err := capture.FromFile(paths[i%len(paths)]).FilterProgram(prog).Open()
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				var idx []int
				for p, err := range c.Packets() {
					if err != nil {
						t.Error(err)
						return
					}
					idx = append(idx, int(p.Timestamp.Unix()-baseTime.Unix()))
				}
				results[i] = idx
			})
		}
		wg.Wait()
		for i, got := range results {
			if !slices.Equal(got, want) {
				t.Errorf("FilterProgram(%q) capture %d returned %v, want %v", expr, i, got, want)
			}
		}
		if after := fmt.Sprint(prog.Raw); after != before {
			t.Errorf("using the program changed it")
		}
	}
	// Filter after FilterProgram replaces it, and the other way round.
	prog, _ := filter.Compile("arp", filter.Options{LinkType: pcapio.LinkTypeEthernet})
	if got, want := matched(t, capture.FromFile(paths[0]).FilterProgram(prog).Filter("udp"), pkts), verdicts(t, "udp", pkts); !slices.Equal(got, want) {
		t.Errorf("FilterProgram then Filter(udp): %v, want %v", got, want)
	}
	if got, want := matched(t, capture.FromFile(paths[0]).Filter("udp").FilterProgram(prog), pkts), verdicts(t, "arp", pkts); !slices.Equal(got, want) {
		t.Errorf("Filter(udp) then FilterProgram(arp): %v, want %v", got, want)
	}
}

func TestFilterErrors(t *testing.T) {
	path := writeFile(t, "t.pcap", pcapio.LinkTypeEthernet, ethernetPackets())
	for _, expr := range []string{"tcp port", "udp and and tcp", "host", "tcp[0:3] = 1", "nosuchkeyword"} {
		_, err := capture.FromFile(path).Filter(expr).Open()
		var fe *filter.Error
		if !errors.As(err, &fe) {
			t.Errorf("Filter(%q).Open() = %v, want a *filter.Error", expr, err)
			continue
		}
		if fe.Column < 1 || !strings.Contains(err.Error(), expr) {
			t.Errorf("Filter(%q).Open() = %q (column %d): want the expression and a column", expr, err, fe.Column)
		}
	}
}

func TestFilterOptions(t *testing.T) {
	pkts := ethernetPackets()
	path := writeFile(t, "t.pcapng", pcapio.LinkTypeEthernet, pkts)
	c, err := capture.FromFile(path).Snaplen(200).Open()
	if err != nil {
		t.Fatal(err)
	}
	opts := c.FilterOptions()
	c.Close()
	if opts.LinkType != pcapio.LinkTypeEthernet || opts.Snaplen != 200 || opts.Target != filter.TargetFile || opts.SavefileByteOrder == nil {
		t.Fatalf("FilterOptions() = %+v, want EN10MB, snaplen 200, the file target and the file's byte order", opts)
	}
	for _, expr := range []string{"udp or arp", "tcp[tcpflags] & tcp-syn != 0"} {
		prog, err := filter.Compile(expr, opts)
		if err != nil {
			t.Fatal(err)
		}
		got := matched(t, capture.FromFile(path).FilterProgram(prog), pkts)
		if want := matched(t, capture.FromFile(path).Filter(expr), pkts); !slices.Equal(got, want) {
			t.Errorf("%q compiled with FilterOptions matched %v, Filter %v", expr, got, want)
		}
	}
}
