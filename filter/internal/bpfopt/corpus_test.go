package bpfopt

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// corpusFile is one capture of the shared corpus.
type corpusFile struct {
	name, linkType string
	path           string
}

// corpusFiles lists the shared captures of the link types in the golden
// file, from corpus/MANIFEST.tsv.
func corpusFiles(t *testing.T) []corpusFile {
	t.Helper()
	dir := filepath.Join(testenv.SharedDir(t), "corpus")
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		testenv.Missing(t, "corpus", "corpus/MANIFEST.tsv: "+err.Error())
	}
	defer f.Close()
	want := map[string]bool{"EN10MB": true, "RAW": true, "LINUX_SLL": true, "LINUX_SLL2": true, "NULL": true, "LOOP": true}
	var files []corpusFile
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 || cols[0] == "file" || !want[cols[1]] {
			continue
		}
		files = append(files, corpusFile{name: cols[0], linkType: cols[1], path: filepath.Join(dir, cols[0])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return files
}

// readPackets reads every packet of a capture with pcapio.
func readPackets(t *testing.T, path string) []pcapio.Packet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapio.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var pkts []pcapio.Packet
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return pkts
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		pkts = append(pkts, p)
	}
}

// TestCorpusVerdicts runs, for every golden expression and every shared
// capture of its link type, libpcap's unoptimized and optimized programs and
// ours (libpcap's unoptimized program through Optimize and Assemble) on
// every packet: ours must return what the unoptimized program returns and
// what libpcap's optimized program returns. Ours also runs in filter/vm, as
// a check of this test's interpreter.
func TestCorpusVerdicts(t *testing.T) {
	files := corpusFiles(t)
	byLT := make(map[string][]goldenCase)
	for _, c := range loadGolden(t) {
		byLT[c.linkType] = append(byLT[c.linkType], c)
	}
	type compiled struct {
		c         goldenCase
		ref       []Insn // c.unopt without the loads Optimize may drop
		ours      []Insn
		oursVM    *vm.VM
		libpcapOK bool
	}
	progs := make(map[string][]compiled)
	for lt, cases := range byLT {
		for _, c := range cases {
			raw, err := Assemble(Optimize(c.unopt))
			if err != nil {
				t.Fatalf("%s %q: %v", lt, c.expr, err)
			}
			m, err := vm.New(raw)
			if err != nil {
				t.Fatalf("%s %q: filter/vm rejects our program: %v", lt, c.expr, err)
			}
			progs[lt] = append(progs[lt], compiled{c: c, ref: reference(c.unopt), ours: FromRaw(raw), oursVM: m, libpcapOK: c.opt != nil})
		}
	}
	checked, libpcapDiffers := 0, 0
	for _, f := range files {
		pkts := readPackets(t, f.path)
		for _, p := range progs[f.linkType] {
			for i, pk := range pkts {
				wl := uint32(pk.Length)
				unopt := interpret(p.ref, pk.Data, wl, nil)
				ours := interpret(p.ours, pk.Data, wl, nil)
				if ours != unopt {
					t.Errorf("%s packet %d, %s %q: ours returns %d, libpcap's unoptimized program %d", f.name, i, f.linkType, p.c.expr, ours, unopt)
					break
				}
				if v := p.oursVM.Run(pk.Data, pk.Length); v != ours {
					t.Errorf("%s packet %d, %s %q: filter/vm returns %d, this test's interpreter %d", f.name, i, f.linkType, p.c.expr, v, ours)
					break
				}
				if p.libpcapOK {
					if lo := interpret(p.c.opt, pk.Data, wl, nil); lo != ours {
						if lo == unopt {
							t.Errorf("%s packet %d, %s %q: ours returns %d, libpcap's optimized program %d", f.name, i, f.linkType, p.c.expr, ours, lo)
							break
						}
						libpcapDiffers++
					}
				}
				checked++
			}
		}
	}
	t.Logf("%d (program, packet) verdicts checked over %d captures; libpcap's optimizer changed %d verdicts of its own unoptimized programs", checked, len(files), libpcapDiffers)
}
