package filter

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/pcapio"
)

// socketView turns a captured packet into what a Linux packet socket
// filter sees: for cooked captures the packet from the network header with
// the cooked fields as metadata; for Ethernet the frame with its outer VLAN
// tag stripped into metadata, as the kernel does.
func socketView(lt pcapio.LinkType, data []byte, wireLen int) ([]byte, int, *vm.Metadata, bool) {
	md := &vm.Metadata{}
	switch lt {
	case pcapio.LinkTypeLinuxSLL:
		if len(data) < sllHdrLen {
			return nil, 0, nil, false
		}
		md.PktType = uint8(binary.BigEndian.Uint16(data[0:]))
		md.Protocol = binary.BigEndian.Uint16(data[14:])
		return data[sllHdrLen:], wireLen - sllHdrLen, md, true
	case pcapio.LinkTypeLinuxSLL2:
		if len(data) < sll2HdrLen {
			return nil, 0, nil, false
		}
		md.Protocol = binary.BigEndian.Uint16(data[0:])
		md.IfIndex = int32(binary.BigEndian.Uint32(data[4:]))
		md.PktType = data[10]
		return data[sll2HdrLen:], wireLen - sll2HdrLen, md, true
	case pcapio.LinkTypeEthernet:
		if len(data) >= 18 {
			switch tpid := binary.BigEndian.Uint16(data[12:]); tpid {
			case ethertype8021Q, ethertype8021AD, ethertype8021QINQ:
				md.VLANPresent = true
				md.VLANTPID = tpid
				md.VLANTCI = binary.BigEndian.Uint16(data[14:])
				stripped := append(append([]byte{}, data[:12]...), data[16:]...)
				return stripped, wireLen - 4, md, true
			}
		}
		return data, wireLen, md, true
	}
	return nil, 0, nil, false
}

// TestLinuxSocketTarget compiles expressions for a live Linux socket and
// runs them, with the kernel's view of each corpus packet (cooked header
// and outer VLAN tag moved into metadata), against the file program on the
// packet as captured: the verdicts must agree. ("len" is left out: the
// kernel's length excludes the cooked header and the stripped tag, for
// libpcap's programs too.)
func TestLinuxSocketTarget(t *testing.T) {
	files := loadCorpus(t)
	exprs := []string{
		"ip", "ip6", "arp", "tcp port 80", "udp", "host 10.0.0.1 or net 192.168.0.0/16",
		"tcp[tcpflags] & tcp-syn != 0", "inbound", "outbound", "not inbound and ip6",
		"vlan", "vlan and ip", "vlan 100", "vlan and tcp", "ip proto 47", "icmp6",
		"ifindex 2", "ip6 and udp port 53",
	}
	checked := 0
	for _, cf := range files {
		lt := cf.linkType
		if lt != pcapio.LinkTypeLinuxSLL && lt != pcapio.LinkTypeLinuxSLL2 && lt != pcapio.LinkTypeEthernet {
			continue
		}
		for _, e := range exprs {
			fileProg, ferr := Compile(e, Options{LinkType: lt, SavefileByteOrder: cf.byteOrder})
			sockProg, serr := Compile(e, Options{LinkType: lt, Target: TargetLinuxSocket})
			if ferr != nil || serr != nil {
				if serr != nil && ferr == nil {
					t.Errorf("%s %q: compiles for a file, not for a socket: %v", lt, e, serr)
				}
				continue
			}
			fm, sm := fileProg.Matcher(), sockProg.Matcher()
			for i, p := range cf.packets {
				data, wl, md, ok := socketView(lt, p.data, p.wireLen)
				if !ok {
					continue
				}
				// Without "vlan", a socket program sees a tagged frame as
				// untagged (the kernel's view, libpcap's too): not comparable.
				if md.VLANPresent && !strings.Contains(e, "vlan") {
					continue
				}
				want := fm.Run(p.data, p.wireLen)
				got := sm.RunWithMetadata(data, wl, md)
				if (want == 0) != (got == 0) {
					t.Errorf("%s %s %q packet %d: socket program %d, file program %d\nsocket program:\n%s", cf.name, lt, e, i, got, want, sockProg)
					break
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no packet checked")
	}
	t.Logf("%d (packet, expression) socket verdicts agree with the file verdicts", checked)
}
