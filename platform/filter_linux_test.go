//go:build linux

package platform

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/pcapio"
)

// TestLiveVLANCompiledFilter runs "vlan 100" as pkttap compiles it: for the
// socket (the kernel sees the untagged frame and reads the tag from
// metadata) and for the packets as delivered (tag back in the bytes, run by
// the userspace VM). Both must pick the same frame. (libpcap, and so
// pkttap, has no "vlan" for LINUX_SLL, so the "any" device is not tried.)
func TestLiveVLANCompiledFilter(t *testing.T) {
	v := newVethNet(t)
	for _, iface := range []string{v.IfA} {
		t.Run(iface, func(t *testing.T) {
			src := openIn(t, v.NSA, Config{Interface: iface, FilterFor: func(lt pcapio.LinkType) ([]bpf.RawInstruction, error) {
				prog, err := filter.Compile("vlan 100", filter.Options{LinkType: lt, Target: filter.TargetLinuxSocket})
				if err != nil {
					return nil, err
				}
				return prog.Raw, nil
			}})
			snd := netnstest.NewRawSender(t, v.NSB, v.IfB)
			payload := bytes.Repeat([]byte{0x42}, 46)
			match := netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, payload, [4]byte{0x81, 0x00, 0x00, 100})
			snd.Send(t, netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, payload, [4]byte{0x81, 0x00, 0x00, 200}))
			snd.Send(t, netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, payload))
			snd.Send(t, match)
			p := collect(t, src, 1, 5*time.Second)[0]
			if !bytes.HasSuffix(p.Data, match[12:]) {
				t.Fatalf("captured %x, want the vid 100 frame with its tag (ending %x)", p.Data, match[12:])
			}
			time.Sleep(30 * time.Millisecond)
			if st, err := src.Stats(); err != nil || st.Received != 1 {
				t.Errorf("Stats() = %+v, %v; want Received 1 (the kernel filter passes vid 100 only)", st, err)
			}
			// The same expressions compiled for a file and run by the
			// userspace VM (package filter/vm) on the bytes as delivered.
			t.Run("userspace", func(t *testing.T) {
				for _, tc := range []struct {
					expr string
					want bool
				}{{"vlan 100", true}, {"vlan 200", false}, {"vlan", true}, {"not vlan", false}} {
					prog, err := filter.Compile(tc.expr, filter.Options{LinkType: src.LinkType(), Target: filter.TargetFile})
					if err != nil {
						t.Fatalf("compile %q: %v", tc.expr, err)
					}
					if got := prog.Match(p.Data, p.Length) != 0; got != tc.want {
						t.Errorf("filter/vm runs %q on the captured packet %x: match %v, want %v", tc.expr, p.Data, got, tc.want)
					}
				}
			})
		})
	}
}
