package filter

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// TestLiveSocketMatchesLibpcap compiles expressions on a live libpcap
// handle on the loopback interface (an Ethernet-type Linux packet socket,
// for which libpcap turns "vlan" into ancillary loads) and requires
// pkttap's unoptimized TargetLinuxSocket program to be identical.
func TestLiveSocketMatchesLibpcap(t *testing.T) {
	testenv.Root(t)
	bin := testenv.BuildWithLibpcap(t, filepath.Join("testdata", "livecompile.c"))
	exprs := []string{"vlan", "vlan 100", "vlan and ip", "vlan 100 and tcp port 80",
		"vlan and vlan 20 and udp", "not vlan", "vlan or arp", "inbound", "outbound and ip6",
		"ifindex 1", "ip and vlan", "tcp port 22 or vlan 5"}
	for _, e := range exprs {
		out, err := exec.Command(bin, "lo", e, "-O").Output()
		if err != nil {
			t.Fatalf("livecompile lo %q: %v", e, err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		lt, err := pcapio.LinkTypeFromName(lines[0])
		if err != nil {
			t.Fatalf("link type %q: %v", lines[0], err)
		}
		p, perr := Compile(e, Options{LinkType: lt, Target: TargetLinuxSocket, NoOptimize: true})
		if strings.HasPrefix(lines[1], "ERROR") {
			if perr == nil {
				t.Errorf("%q: libpcap: %s; pkttap compiles it", e, lines[1])
			}
			continue
		}
		if perr != nil {
			t.Errorf("%q: libpcap compiles it, pkttap: %v", e, perr)
			continue
		}
		want := strings.Join(lines[1:], "\n") + "\n"
		if got := p.Dump(3); got != want {
			t.Errorf("%q on a live %s socket:\npkttap:\n%s\nlibpcap:\n%s", e, lt, got, want)
		}
		// and the optimized program must run as libpcap's does
		if _, err := Compile(e, Options{LinkType: lt, Target: TargetLinuxSocket}); err != nil {
			t.Errorf("%q: optimized: %v", e, err)
		}
	}
}
