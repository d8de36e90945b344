package platform

import (
	"bytes"
	"errors"
	"net"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/pcapio"
)

func TestLinkTypeForARPHRD(t *testing.T) {
	tests := []struct {
		arphrd uint16
		lt     pcapio.LinkType
		cooked bool
	}{
		{arphrdEther, pcapio.LinkTypeEthernet, false},
		{arphrdLoopback, pcapio.LinkTypeEthernet, false},
		{arphrdNone, pcapio.LinkTypeRaw, false},
		{arphrdRawIP, pcapio.LinkTypeRaw, false},
		{arphrdTunnel, pcapio.LinkTypeRaw, false},
		{arphrdTunnel6, pcapio.LinkTypeRaw, false},
		{arphrdSit, pcapio.LinkTypeRaw, false},
		{arphrdIEEE80211, pcapio.LinkTypeIEEE802_11, false},
		{arphrdIEEE80211Radio, pcapio.LinkTypeIEEE802_11Radio, false},
		{arphrdNetlink, pcapio.LinkTypeNetlink, false},
		{512 /* PPP */, pcapio.LinkTypeLinuxSLL, true},
		{778 /* IPGRE */, pcapio.LinkTypeLinuxSLL, true},
		{32 /* INFINIBAND */, pcapio.LinkTypeLinuxSLL, true},
	}
	for _, tc := range tests {
		lt, cooked := linkTypeForARPHRD(tc.arphrd)
		if lt != tc.lt || cooked != tc.cooked {
			t.Errorf("linkTypeForARPHRD(%d) = %s, %v; want %s, %v", tc.arphrd, lt, cooked, tc.lt, tc.cooked)
		}
	}
}

func TestInsertVLAN(t *testing.T) {
	tests := []struct {
		name      string
		lt        pcapio.LinkType
		packet    string // bytes after the 4 bytes of headroom
		tpid, tci uint16
		want      string
	}{
		{"ethernet", pcapio.LinkTypeEthernet,
			"dddddddddddd" + "ssssssssssss" + "0800" + "45",
			0x8100, 0x2064,
			"dddddddddddd" + "ssssssssssss" + "81002064" + "0800" + "45"},
		{"ethernet 802.1ad", pcapio.LinkTypeEthernet,
			"dddddddddddd" + "ssssssssssss" + "86dd",
			0x88a8, 0x0001,
			"dddddddddddd" + "ssssssssssss" + "88a80001" + "86dd"},
		{"sll", pcapio.LinkTypeLinuxSLL,
			"0000" + "0001" + "0006" + "aaaaaaaaaaaa0000" + "0800" + "45",
			0x8100, 0x0000,
			"0000" + "0001" + "0006" + "aaaaaaaaaaaa0000" + "81000000" + "0800" + "45"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkt := unhex(t, tc.packet)
			buf := append([]byte{0xee, 0xee, 0xee, 0xee}, pkt...)
			start := insertVLAN(buf, 4, vlanOffset(tc.lt), tc.tpid, tc.tci)
			if start != 0 {
				t.Fatalf("new start %d, want 0", start)
			}
			if want := unhex(t, tc.want); !bytes.Equal(buf, want) {
				t.Errorf("got %x\nwant %x", buf, want)
			}
		})
	}
	for _, lt := range []pcapio.LinkType{pcapio.LinkTypeRaw, pcapio.LinkTypeIEEE802_11Radio, pcapio.LinkTypeLinuxSLL2} {
		if off := vlanOffset(lt); off != -1 {
			t.Errorf("vlanOffset(%s) = %d, want -1 (libpcap re-inserts tags for EN10MB and LINUX_SLL only)", lt, off)
		}
	}
}

func TestPutSLLHeader(t *testing.T) {
	dst := bytes.Repeat([]byte{0xff}, 18)
	putSLLHeader(dst, 4 /* outgoing */, 1, 6, []byte{1, 2, 3, 4, 5, 6, 0, 0}, [2]byte{0x08, 0x06})
	want := unhex(t, "0004"+"0001"+"0006"+"0102030405060000"+"0806"+"ffff")
	if !bytes.Equal(dst, want) {
		t.Errorf("got %x\nwant %x", dst, want)
	}
}

func TestKernelProgram(t *testing.T) {
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x800, SkipFalse: 2},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{Val: 64},
		bpf.RetConstant{Val: 0},
		bpf.RetA{},
	})
	if err != nil {
		t.Fatal(err)
	}
	orig := append([]bpf.RawInstruction(nil), prog...)
	got := kernelProgram(prog, 100)
	wantK := []uint32{12, 0x800, 100, 64, 0, 0}
	for i, ins := range got {
		if ins.K != wantK[i] || ins.Op != orig[i].Op || ins.Jt != orig[i].Jt || ins.Jf != orig[i].Jf {
			t.Errorf("instruction %d = %+v, want %+v with k %d", i, ins, orig[i], wantK[i])
		}
	}
	for i := range prog {
		if prog[i] != orig[i] {
			t.Errorf("kernelProgram modified its input at %d", i)
		}
	}
	if all := kernelProgram(nil, 1500); len(all) != 1 || all[0] != (bpf.RawInstruction{Op: opRetK, K: 1500}) {
		t.Errorf("kernelProgram(nil, 1500) = %+v, want [ret #1500]", all)
	}
}

func TestParseProcNetDevDrops(t *testing.T) {
	text := []byte(`Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0: 123456789  98765    1   42    0     0          0        12  5555555   4444    0    7    0     0       0          0
veth-long-name12:0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0
`)
	tests := []struct {
		name string
		want uint64
		ok   bool
	}{
		{"lo", 0, true},
		{"eth0", 42, true},
		{"veth-long-name12", 17, true},
		{"eth1", 0, false},
		{"eth", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseProcNetDevDrops(text, tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseProcNetDevDrops(%q) = %d, %v; want %d, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPlatformError(t *testing.T) {
	inner := errorString("boom")
	e := &PlatformError{Op: "open", Interface: "eth0", Err: inner}
	if got, want := e.Error(), "platform: open eth0: boom"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if e.Unwrap() != inner {
		t.Errorf("Unwrap() = %v", e.Unwrap())
	}
	if got, want := (&PlatformError{Op: "list interfaces", Err: inner}).Error(), "platform: list interfaces: boom"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestProgramFor(t *testing.T) {
	prog, err := programFor(nil, pcapio.LinkTypeEthernet, 96)
	if err != nil || len(prog) != 1 || prog[0] != (bpf.RawInstruction{Op: opRetK, K: 96}) {
		t.Errorf("programFor(nil) = %+v, %v; want [ret #96]", prog, err)
	}
	var asked pcapio.LinkType
	prog, err = programFor(func(lt pcapio.LinkType) ([]bpf.RawInstruction, error) {
		asked = lt
		return []bpf.RawInstruction{{Op: opRetK, K: 262144}}, nil
	}, pcapio.LinkTypeLinuxSLL, 1000)
	if err != nil || asked != pcapio.LinkTypeLinuxSLL || prog[0].K != 1000 {
		t.Errorf("programFor = %+v, %v (asked for %s); want [ret #1000] for LINUX_SLL", prog, err, asked)
	}
	bad := errorString("column 3: syntax error")
	_, err = programFor(func(pcapio.LinkType) ([]bpf.RawInstruction, error) { return nil, bad }, pcapio.LinkTypeRaw, 1)
	if !errors.Is(err, bad) || err.Error() != "filter for RAW: column 3: syntax error" {
		t.Errorf("programFor with a failing filter = %v, want it wrapped with the link type", err)
	}
}

func TestUsualLinkType(t *testing.T) {
	tests := []struct {
		mac  net.HardwareAddr
		want pcapio.LinkType
	}{
		{net.HardwareAddr{0x02, 0, 0, 0, 0, 1}, pcapio.LinkTypeEthernet}, // en0, Wi-Fi, bridge0
		{nil, pcapio.LinkTypeNull},                                       // lo0, utun0, gif0
		{net.HardwareAddr{1, 2, 3, 4, 5, 6, 7, 8}, pcapio.LinkTypeNull},  // not Ethernet-sized
	}
	for _, tc := range tests {
		if got := usualLinkType(tc.mac); got != tc.want {
			t.Errorf("usualLinkType(%v) = %s, want %s", tc.mac, got, tc.want)
		}
	}
}
