package filter

import (
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
	"github.com/pkttap/pkttap/pcapio"
)

// Cooked header lengths.
const (
	sllHdrLen  = 16
	sll2HdrLen = 20
)

// fixCookedOffsets rewrites a program for a cooked (LINUX_SLL/SLL2) Linux
// socket, as libpcap's fix_program does: the kernel runs socket filters on
// the packet from the network header, without the cooked header libpcap
// builds afterwards, so loads past the header move back by its length and
// loads of its fields become ancillary loads (SKF_AD_PKTTYPE,
// SKF_AD_PROTOCOL, SKF_AD_IFINDEX). A load of any other header field has
// no kernel equivalent and is an error.
func fixCookedOffsets(raw []bpf.RawInstruction, lt pcapio.LinkType) error {
	for i := range raw {
		p := &raw[i]
		cls := bpfop.Class(p.Op)
		mode := bpfop.Mode(p.Op)
		if (cls != bpfop.ClassLD && cls != bpfop.ClassLDX) || (mode != bpfop.ModeABS && mode != bpfop.ModeIND && mode != bpfop.ModeMSH) {
			continue
		}
		if p.K >= bpfop.SKFAdOff {
			continue
		}
		var hdr uint32 = sllHdrLen
		fields := map[uint32]uint32{0: bpfop.SKFAdPktType, 14: bpfop.SKFAdProtocol}
		if lt == pcapio.LinkTypeLinuxSLL2 {
			hdr = sll2HdrLen
			fields = map[uint32]uint32{0: bpfop.SKFAdProtocol, 4: bpfop.SKFAdIfIndex, 10: bpfop.SKFAdPktType}
		}
		switch f, ok := fields[p.K]; {
		case p.K >= hdr:
			p.K -= hdr
		case ok:
			p.K = bpfop.SKFAdOff + f
		case int32(p.K) > 0:
			return fmt.Errorf("instruction %d reads byte %d of the %s header, which a Linux socket filter cannot see; filter after capture instead (TargetFile)", i, p.K, lt)
		}
	}
	return nil
}
