package vm

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// decodeFuzz turns fuzz input into a program, a packet, a wire length and
// metadata. The first byte chooses the decoding: odd, instructions are
// taken raw (8 bytes each: code, jt, jf, k) so that validation sees
// anything; even, opcodes are mapped onto the valid ones, jumps onto
// targets inside the program and the last instruction made a return, so
// that nearly every input is a program that runs.
func decodeFuzz(in []byte) ([]bpf.RawInstruction, []byte, int, *Metadata) {
	if len(in) < 4 {
		return nil, nil, 0, nil
	}
	raw := in[0]&1 == 1
	n := 1 + int(in[1])%48
	wire := int(binary.LittleEndian.Uint16(in[2:]))
	in = in[4:]
	prog := make([]bpf.RawInstruction, 0, n)
	for len(in) >= 8 && len(prog) < n {
		ri := bpf.RawInstruction{Op: binary.LittleEndian.Uint16(in), Jt: in[2], Jf: in[3], K: binary.LittleEndian.Uint32(in[4:])}
		in = in[8:]
		if !raw {
			i := len(prog)
			ri.Op = allCodes[int(ri.Op)%len(allCodes)]
			room := n - i - 1 // instructions after this one
			if room > 0 {
				ri.Jt = uint8(int(ri.Jt) % min(room, 256))
				ri.Jf = uint8(int(ri.Jf) % min(room, 256))
			}
			switch ri.Op {
			case codeLdMem, codeLdxMem, codeSt, codeStx:
				ri.K %= bpfop.MemWords
			case codeDivK, codeModK:
				ri.K |= 1
			case codeJa:
				// Forward, or backward by a little: loops are legal.
				ri.K = uint32(int32(ri.K%uint32(room+4)) - 3)
			}
		}
		prog = append(prog, ri)
	}
	if !raw && len(prog) > 0 {
		last := &prog[len(prog)-1]
		if last.Op != codeRetA && last.Op != codeRetK {
			last.Op = codeRetA
		}
	}
	md := &Metadata{VLANPresent: wire&1 == 1, VLANTCI: uint16(wire * 7), VLANTPID: 0x8100, Protocol: 0x0800, PktType: uint8(wire), IfIndex: int32(wire)}
	return prog, in, wire, md
}

// FuzzRun checks that no program New accepts makes Run panic, and that
// the translated, fused program gives the reference interpreter's result.
func FuzzRun(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 24 {
		prog := randomProgram(r)
		pkt := randomPacket(r)
		in := []byte{1, byte(len(prog) - 1), byte(pkt.wireLen), byte(pkt.wireLen >> 8)}
		for _, ri := range prog[:min(len(prog), 48)] {
			in = binary.LittleEndian.AppendUint16(in, ri.Op)
			in = append(in, ri.Jt, ri.Jf)
			in = binary.LittleEndian.AppendUint32(in, ri.K)
		}
		f.Add(append(in, pkt.data...))
	}
	f.Add([]byte{0, 3, 60, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 0x05, 0, 0xff, 0xff, 0xfd, 0xff, 0xff, 0xff, 0x16, 0, 0, 0, 0, 0, 0, 0, 0x45, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		prog, data, wire, md := decodeFuzz(in)
		v, err := New(prog)
		if err != nil {
			return
		}
		for _, m := range []*Metadata{nil, md} {
			got := v.RunWithMetadata(data, wire, m)
			if want := reference(prog, data, uint32(wire), m); got != want {
				t.Fatalf("VM returns %d, reference %d (wire %d, packet % x)\n%s", got, want, wire, data, listing(prog))
			}
			checkTrace(t, v, prog, data, wire, m)
		}
	})
}

// TestRandomProgramsReference compares the VM with the reference
// interpreter on many random programs; unlike the libpcap tests it needs
// no C compiler.
func TestRandomProgramsReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	pkts := randomPackets(r, 24)
	mds := []*Metadata{nil, {VLANPresent: true, VLANTCI: 0x2005, VLANTPID: 0x88a8, Protocol: 0x86dd, PktType: 4, IfIndex: 3}}
	for i := range 20000 {
		prog := randomProgram(r)
		v := mustNew(t, prog)
		for j, pk := range pkts {
			md := mds[j%2]
			if got, want := v.RunWithMetadata(pk.data, pk.wireLen, md), reference(prog, pk.data, uint32(pk.wireLen), md); got != want {
				t.Fatalf("program %d, packet %d: VM returns %d, reference %d\n%s", i, j, got, want, listing(prog))
			}
		}
	}
}
