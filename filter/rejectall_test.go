package filter

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/filter/internal/golden"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// TestRejectAllAgreesWithLibpcap checks the expressions for which pkttap
// reports "expression rejects all packets" while libpcap compiles a
// program: libpcap's own program, run by libpcap's interpreter (pcapmatch
// -R) over every corpus capture of the link type, must reject every
// packet there too. libpcap's programs come from the shared
// libpcap-programs.tsv (tcpdump -ddd -y, compiled as Compile does by
// default), libpcap-programs-savefile.tsv (compiled as for a capture file,
// as Compile does with SavefileByteOrder) and this package's golden
// golden store (filter/internal/golden: tcpdump -ddd -y, with the extra
// expressions). There are no exceptions: today the one such expression is
// the golden "ip[2:2] > 1000" on FRELAY (pkttap's stronger optimizer; the
// shared programs of the five main link types give none).
func TestRejectAllAgreesWithLibpcap(t *testing.T) {
	shared := testenv.SharedDir(t)
	bin := buildPcapmatch(t, shared)
	files := loadCorpus(t)
	byLT := map[pcapio.LinkType][]*corpusFile{}
	for _, cf := range files {
		byLT[cf.linkType] = append(byLT[cf.linkType], cf)
	}
	// (source, link type) -> "expr TAB program" lines for pcapmatch -R.
	type key struct {
		source   string
		lt       pcapio.LinkType
		savefile bool
	}
	progs := map[key]*strings.Builder{}
	add := func(k key, expr, prog string) {
		opts := Options{LinkType: k.lt}
		if k.savefile {
			opts.SavefileByteOrder = binary.LittleEndian // the shared programs were compiled on a little-endian host
		}
		if _, err := Compile(expr, opts); err == nil || !strings.Contains(err.Error(), "expression rejects all packets") {
			return
		}
		if progs[k] == nil {
			progs[k] = new(strings.Builder)
		}
		fmt.Fprintf(progs[k], "%s\t%s\n", expr, prog)
	}
	linkType := func(source, name string) pcapio.LinkType {
		lt, err := pcapio.LinkTypeFromName(name)
		if err != nil {
			t.Fatalf("%s: link type %q: %v", source, name, err)
		}
		return lt
	}
	for _, source := range []string{"libpcap-programs.tsv", "libpcap-programs-savefile.tsv"} {
		rows, err := readTSV(filepath.Join(shared, "filters", source))
		if err != nil {
			t.Fatalf("read %s: %v", source, err)
		}
		savefile := strings.Contains(source, "savefile")
		for _, r := range rows {
			switch {
			case !savefile && len(r) == 3: // linktype expr program
				add(key{source, linkType(source, r[0]), false}, r[1], r[2])
			case savefile && len(r) == 4 && r[2] != "ERROR": // linktype expr ninsns program
				add(key{source, linkType(source, r[0]), true}, r[1], r[3])
			case len(r) < 3:
				t.Fatalf("%s: bad row %q", source, r)
			}
		}
	}
	for _, r := range readGolden(t) {
		if r.Opt == nil {
			continue
		}
		add(key{"testdata/" + golden.ProgramsFile, linkType("golden", r.LinkType), false}, r.Expr, golden.FormatDDD(r.Opt))
	}
	if len(progs) == 0 {
		t.Fatal(`no expression where pkttap says "expression rejects all packets" and libpcap compiles a program: nothing checked`)
	}
	dir := t.TempDir()
	checked, runs, failures := 0, 0, 0
	var names []string
	for k, sb := range progs {
		checked += strings.Count(sb.String(), "\n")
		for _, l := range strings.Split(strings.TrimRight(sb.String(), "\n"), "\n") {
			names = append(names, fmt.Sprintf("%v %q", k.lt, strings.Split(l, "\t")[0]))
		}
		if len(byLT[k.lt]) == 0 {
			t.Errorf("%s: no corpus capture of link type %v to run libpcap's programs on", k.source, k.lt)
			continue
		}
		pf := filepath.Join(dir, fmt.Sprintf("%s-%d-%v.progs", filepath.Base(k.source), k.lt, k.savefile))
		if err := os.WriteFile(pf, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cf := range byLT[k.lt] {
			if k.savefile && k.lt == pcapio.LinkTypeNull && cf.byteOrder == binary.BigEndian {
				continue // NULL's family word is compared in the file's byte order: these programs are for little-endian files
			}
			out, err := exec.Command(bin, "-R", pf, filepath.Join(shared, "corpus", cf.name)).Output()
			if err != nil {
				t.Fatalf("pcapmatch -R %s: %v", cf.name, err)
			}
			for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
				f := strings.Split(l, "\t")
				if len(f) < 5 {
					t.Errorf("%s %v: libpcap rejects its own program: %s", k.source, k.lt, l)
					continue
				}
				runs++
				if f[1] != "0" {
					if failures++; failures > 20 {
						t.Fatalf("more than 20 disagreements")
					}
					t.Errorf("%s %v %q: pkttap says it rejects all packets; libpcap's program accepts %s packets of %s", k.source, k.lt, f[0], f[1], cf.name)
				}
			}
		}
	}
	sort.Strings(names)
	if len(names) > 10 {
		names = append(names[:10], "...")
	}
	t.Logf("%d libpcap programs pkttap calls reject-all (%s), run %d times over corpus captures of their link type", checked, strings.Join(names, ", "), runs)
}
