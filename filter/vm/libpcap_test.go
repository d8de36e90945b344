package vm

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/filter/internal/golden"
	"github.com/pkttap/pkttap/internal/testenv"
	"golang.org/x/net/bpf"
)

// namedProgram is a program with the filter expression it came from.
type namedProgram struct {
	expr string
	prog []bpf.RawInstruction
}

// corpusPrograms reads libpcap's programs for every expression of the
// shared filter set, both as `tcpdump -ddd -y` compiles them and as
// libpcap compiles them for a savefile, grouped by link type.
func corpusPrograms(t *testing.T, shared string) map[string][]namedProgram {
	byLT := map[string][]namedProgram{}
	seen := map[string]bool{}
	add := func(lt, expr, text string) {
		if seen[lt+"\t"+text] {
			return
		}
		seen[lt+"\t"+text] = true
		prog, err := golden.ParseDDD(text)
		if err != nil {
			t.Fatalf("%s %q: %v", lt, expr, err)
		}
		byLT[lt] = append(byLT[lt], namedProgram{expr, prog})
	}
	for _, row := range readTSV(t, filepath.Join(shared, "filters", "libpcap-programs.tsv")) {
		if len(row) == 3 {
			add(row[0], row[1], row[2])
		}
	}
	for _, row := range readTSV(t, filepath.Join(shared, "filters", "libpcap-programs-savefile.tsv")) {
		if len(row) == 4 && row[2] != "ERROR" {
			add(row[0], row[1]+" (savefile)", row[3])
		}
	}
	return byLT
}

// TestLibpcapCorpusPrograms runs every libpcap program of the shared filter
// set over every corpus packet of its link type, with libpcap's bpf_filter
// and with the VM, and wants the same return value for each packet.
func TestLibpcapCorpusPrograms(t *testing.T) {
	shared := testenv.SharedDir(t)
	bin := buildHarness(t)
	byLT := corpusPrograms(t, shared)
	if len(byLT) == 0 {
		t.Fatal("no programs in the shared filter set")
	}
	pkts := map[string][]testPacket{}
	for _, row := range readTSV(t, filepath.Join(shared, "corpus", "MANIFEST.tsv")) {
		if _, ok := byLT[row[1]]; !ok {
			continue
		}
		lt, p := dumpCapture(t, bin, filepath.Join(shared, "corpus", row[0]))
		if lt != row[1] {
			t.Fatalf("%s: libpcap says link type %s, the manifest %s", row[0], lt, row[1])
		}
		pkts[lt] = append(pkts[lt], p...)
	}
	for lt, progs := range byLT {
		t.Run(lt, func(t *testing.T) {
			if len(pkts[lt]) == 0 {
				t.Fatalf("no corpus packets of link type %s", lt)
			}
			raw := make([][]bpf.RawInstruction, len(progs))
			for i, p := range progs {
				raw[i] = p.prog
			}
			valid, want := libpcapRun(t, bin, raw, pkts[lt])
			compared, matched := 0, 0
			for i, p := range progs {
				if !valid[i] {
					t.Errorf("%q: libpcap's bpf_validate rejects its own program", p.expr)
					continue
				}
				v, err := New(p.prog)
				if err != nil {
					t.Errorf("%q: New: %v", p.expr, err)
					continue
				}
				bad := 0
				for j, pk := range pkts[lt] {
					got := v.Run(pk.data, pk.wireLen)
					compared++
					if got != 0 {
						matched++
					}
					if got != want[i][j] {
						if bad++; bad <= 3 {
							t.Errorf("%q packet %d (caplen %d, len %d): VM returns %d, libpcap %d", p.expr, j, len(pk.data), pk.wireLen, got, want[i][j])
						}
					}
				}
			}
			t.Logf("%s: %d programs x %d packets: %d runs agree with libpcap (%d accepted)", lt, len(progs), len(pkts[lt]), compared, matched)
		})
	}
}

// TestLibpcapRandomPrograms compares the VM with libpcap's bpf_filter on
// random valid programs over random short packets.
func TestLibpcapRandomPrograms(t *testing.T) {
	bin := buildHarness(t)
	r := rand.New(rand.NewPCG(4, uint64(len("filter/vm"))))
	progs := randomPrograms(r, 3000, randomProgram)
	pkts := randomPackets(r, 120)
	valid, want := libpcapRun(t, bin, progs, pkts)
	nonzero := 0
	for i, prog := range progs {
		if !valid[i] {
			t.Fatalf("program %d: libpcap's bpf_validate rejects a generated program:\n%s", i, listing(prog))
		}
		v := mustNew(t, prog)
		for j, pk := range pkts {
			got := v.Run(pk.data, pk.wireLen)
			if got != 0 {
				nonzero++
			}
			if got != want[i][j] {
				t.Fatalf("program %d, packet %d (caplen %d, len %d, % x): VM returns %d, libpcap %d\n%s",
					i, j, len(pk.data), pk.wireLen, pk.data, got, want[i][j], listing(prog))
			}
			if ref := reference(prog, pk.data, uint32(pk.wireLen), nil); ref != got {
				t.Fatalf("program %d, packet %d: reference interpreter returns %d, VM and libpcap %d\n%s", i, j, ref, got, listing(prog))
			}
		}
	}
	// A test that cannot fail proves nothing: make sure the programs do
	// more than reject everything.
	if total := len(progs) * len(pkts); nonzero < total/20 {
		t.Fatalf("only %d of %d runs returned non-zero: the generator is too weak", nonzero, total)
	}
	t.Logf("%d programs x %d packets agree with libpcap (%d non-zero)", len(progs), len(pkts), nonzero)
}

// TestLibpcapValidation checks that New never accepts what libpcap's
// bpf_validate rejects, and accepts everything bpf_validate accepts whose
// opcodes libpcap's interpreter implements.
func TestLibpcapValidation(t *testing.T) {
	bin := buildHarness(t)
	r := rand.New(rand.NewPCG(44, 4))
	progs := make([][]bpf.RawInstruction, 5000)
	for i := range progs {
		p := randomProgram(r)
		// Damage a few instructions: random opcodes, indices, jumps.
		for range 1 + r.IntN(3) {
			ri := &p[r.IntN(len(p))]
			switch r.IntN(5) {
			case 0:
				ri.Op = uint16(r.IntN(256))
			case 1:
				ri.K = uint32(r.IntN(20))
			case 2:
				ri.Jt = uint8(r.Uint32())
			case 3:
				ri.K = r.Uint32()
			default:
				ri.Op = allCodes[r.IntN(len(allCodes))]
			}
		}
		if r.IntN(8) == 0 {
			p = p[:r.IntN(len(p))]
		}
		progs[i] = p
	}
	valid := libpcapValidate(t, bin, progs)
	accepted := 0
	for i, p := range progs {
		_, err := New(p)
		if err == nil {
			accepted++
		}
		allKnown := true
		for _, ri := range p {
			allKnown = allKnown && known(ri.Op)
		}
		switch {
		case err == nil && !valid[i]:
			t.Errorf("program %d: New accepts what bpf_validate rejects:\n%s", i, listing(p))
		case err != nil && valid[i] && allKnown:
			t.Errorf("program %d: New rejects what bpf_validate accepts: %v\n%s", i, err, listing(p))
		}
	}
	if accepted == 0 || accepted == len(progs) {
		t.Fatalf("New accepted %d of %d damaged programs: the test is not testing", accepted, len(progs))
	}
	t.Logf("%d of %d damaged programs valid", accepted, len(progs))
}

// libpcapValidate asks libpcap's bpf_validate about each program.
func libpcapValidate(t *testing.T, bin string, progs [][]bpf.RawInstruction) []bool {
	t.Helper()
	progPath, _ := writeInputs(t, t.TempDir(), progs, nil)
	out, err := execOutput(bin, "validate", progPath)
	if err != nil {
		t.Fatalf("libpcap harness validate: %v", err)
	}
	if len(out) != 4*len(progs) {
		t.Fatalf("libpcap harness validate: %d bytes for %d programs", len(out), len(progs))
	}
	valid := make([]bool, len(progs))
	for i := range valid {
		valid[i] = out[4*i] == 1
	}
	return valid
}

// listing prints a program as `tcpdump -d`-like lines for failure messages.
func listing(prog []bpf.RawInstruction) string {
	var b strings.Builder
	for i, ri := range prog {
		fmt.Fprintf(&b, "(%03d) { 0x%02x, %d, %d, 0x%08x }  %s\n", i, ri.Op, ri.Jt, ri.Jf, ri.K, describe(ri))
	}
	return b.String()
}
