package filter

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
)

// buildPcapmatch compiles the shared pcapmatch.c harness against libpcap
// into a temporary directory.
func buildPcapmatch(t testing.TB, shared string) string {
	t.Helper()
	return testenv.BuildWithLibpcap(t, filepath.Join(shared, "tools", "pcapmatch.c"))
}

// TestPcapmatchJudgesPrograms hands every program pkttap compiles for the
// public expressions to libpcap itself (pcapmatch -R: bpf_validate, then
// libpcap's interpreter over the capture) and compares the outcome with
// libpcap's verdicts for its own programs.
func TestPcapmatchJudgesPrograms(t *testing.T) {
	shared := testenv.SharedDir(t)
	bin := buildPcapmatch(t, shared)
	files := loadCorpus(t)
	rows, err := readTSV(filepath.Join(shared, "filters", "libpcap-verdicts.tsv"))
	if err != nil {
		t.Fatalf("read verdicts: %v", err)
	}
	type want struct{ count, hash, retvals string }
	byFile := map[string]map[string]want{}
	snaplens := map[string]int{}
	for _, r := range rows {
		if _, ok := files[r[0]]; !ok || r[3] == "ERROR" {
			continue
		}
		if byFile[r[0]] == nil {
			byFile[r[0]] = map[string]want{}
		}
		byFile[r[0]][r[2]] = want{r[3], r[4], r[6]}
		if r[6] != "-" {
			snaplens[r[0]], _ = strconv.Atoi(strings.Split(r[6], ",")[0])
		}
	}
	dir := t.TempDir()
	judged, agree := 0, 0
	for name, exprs := range byFile {
		cf := files[name]
		var sb strings.Builder
		for expr := range exprs {
			p, err := compileCached(expr, cf, snaplens[name])
			if err != nil {
				continue // counted by TestDifferentialVerdicts
			}
			var ins []string
			for _, in := range p.Raw {
				ins = append(ins, fmt.Sprintf("%d %d %d %d", in.Op, in.Jt, in.Jf, in.K))
			}
			fmt.Fprintf(&sb, "%s\t%d,%s\n", expr, len(p.Raw), strings.Join(ins, ","))
		}
		progs := filepath.Join(dir, name+".progs")
		if err := os.WriteFile(progs, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "-R", progs, filepath.Join(shared, "corpus", name)).Output()
		if err != nil {
			t.Fatalf("pcapmatch -R %s: %v", name, err)
		}
		for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			f := strings.Split(l, "\t")
			if len(f) < 5 {
				t.Errorf("%s: libpcap rejects pkttap's program: %s", name, l)
				continue
			}
			judged++
			w := exprs[f[0]]
			if f[1] != w.count || f[2] != w.hash || f[4] != w.retvals {
				t.Errorf("%s %q: libpcap running pkttap's program: count=%s hash=%s retvals=%s, its own: count=%s hash=%s retvals=%s",
					name, f[0], f[1], f[2], f[4], w.count, w.hash, w.retvals)
				continue
			}
			agree++
		}
	}
	if judged == 0 {
		t.Fatal("nothing judged")
	}
	t.Logf("libpcap's validator and interpreter ran %d pkttap programs: %d give libpcap's verdicts", judged, agree)
}
