package vm

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
)

// checkTrace fails when the trace's verdict is not Run's, or when its
// steps are not a path through the program whose loads read the packet's
// bytes.
func checkTrace(t *testing.T, v *VM, prog []bpf.RawInstruction, data []byte, wire int, md *Metadata) {
	t.Helper()
	tr := v.Trace(data, wire, md)
	if want := v.RunWithMetadata(data, wire, md); tr.Result != want {
		t.Fatalf("trace returns %d, Run %d (wire %d, packet % x)\n%s", tr.Result, want, wire, data, listing(prog))
	}
	if len(tr.Steps) == 0 || tr.Steps[0].PC != 0 {
		t.Fatalf("trace does not start at instruction 0: %+v", tr.Steps)
	}
	for i, s := range tr.Steps {
		if s.Ins != prog[s.PC] {
			t.Fatalf("step %d: instruction %v, program has %v", i, s.Ins, prog[s.PC])
		}
		if l := s.Load; l != nil && !l.Ancillary && !l.Failed {
			var val uint32
			for j := 0; j < l.Size; j++ {
				val = val<<8 | uint32(data[l.Offset+uint64(j)])
			}
			if bpfop.Mode(s.Ins.Op) == bpfop.ModeMSH {
				val = 4 * (val & 0xf)
			}
			if val != l.Value {
				t.Fatalf("step %d: load of %d bytes at %d says %#x, packet has %#x", i, l.Size, l.Offset, l.Value, val)
			}
		}
		if l := s.Load; l != nil && l.Failed && (i != len(tr.Steps)-1 || tr.Result != 0 || tr.Fault == "") {
			t.Fatalf("step %d: a failed load does not end the trace with 0 and a fault", i)
		}
		if i+1 < len(tr.Steps) && tr.Elided == 0 {
			next := s.PC + 1
			switch {
			case s.Cmp != nil && s.Cmp.Result:
				next += int(s.Ins.Jt)
			case s.Cmp != nil:
				next += int(s.Ins.Jf)
			case s.Ins.Op == bpfop.ClassJMP|bpfop.OpJA:
				next += int(int32(s.Ins.K))
			}
			if tr.Steps[i+1].PC != next {
				t.Fatalf("step %d at %d is followed by %d, want %d", i, s.PC, tr.Steps[i+1].PC, next)
			}
		}
	}
	if last := tr.Steps[len(tr.Steps)-1]; tr.Elided == 0 && tr.Fault == "" && bpfop.Class(last.Ins.Op) != bpfop.ClassRET {
		t.Fatalf("trace ends in %v without a fault", last.Ins)
	}
}

// TestTraceMatchesRun runs random programs on random packets: the trace's
// verdict is Run's and its steps are a real path.
func TestTraceMatchesRun(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 16))
	pkts := randomPackets(r, 16)
	mds := []*Metadata{nil, {VLANPresent: true, VLANTCI: 0x2005, VLANTPID: 0x88a8, Protocol: 0x86dd, PktType: 4, IfIndex: 3}}
	for range 3000 {
		prog := randomProgram(r)
		v := mustNew(t, prog)
		for j, pk := range pkts {
			checkTrace(t, v, prog, pk.data, pk.wireLen, mds[j%2])
		}
	}
}

// TestTraceTruncated: the load that falls off the end of a truncated packet
// is the last step, marked failed, and the verdict is 0.
func TestTraceTruncated(t *testing.T) {
	prog := []bpf.RawInstruction{
		{Op: bpfop.ClassLD | bpfop.SizeH | bpfop.ModeABS, K: 12},
		{Op: bpfop.ClassJMP | bpfop.OpJEQ | bpfop.SrcK, K: 0x800, Jt: 0, Jf: 3},
		{Op: bpfop.ClassLD | bpfop.SizeB | bpfop.ModeABS, K: 23},
		{Op: bpfop.ClassJMP | bpfop.OpJEQ | bpfop.SrcK, K: 6, Jt: 0, Jf: 1},
		{Op: bpfop.ClassRET | bpfop.RvalK, K: 65535},
		{Op: bpfop.ClassRET | bpfop.RvalK, K: 0},
	}
	v := mustNew(t, prog)
	data := make([]byte, 20)
	data[12], data[13] = 0x08, 0x00
	tr := v.Trace(data, 60, nil)
	if len(tr.Steps) != 3 || tr.Result != 0 || tr.Fault == "" {
		t.Fatalf("trace %+v", tr)
	}
	if c := tr.Steps[1].Cmp; c == nil || !c.Result || c.A != 0x800 {
		t.Fatalf("comparison %+v", c)
	}
	if l := tr.Steps[2].Load; l == nil || !l.Failed || l.Offset != 23 || l.Size != 1 {
		t.Fatalf("failed load %+v", l)
	}
	data = append(data, make([]byte, 4)...)
	data[23] = 6
	if tr := v.Trace(data, 60, nil); tr.Result != 65535 || len(tr.Steps) != 5 || tr.Steps[2].Load.Value != 6 {
		t.Fatalf("trace %+v", tr)
	}
}
