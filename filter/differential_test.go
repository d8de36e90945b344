package filter

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
)

// optimizerDetectsRejectAll says Compile reports "expression rejects all
// packets" as libpcap's optimizer does.
const optimizerDetectsRejectAll = true

// TestDifferentialVerdicts compiles every public expression for every
// corpus capture of a tested link type, as libpcap does for a savefile,
// runs it on the VM over every packet, and compares the matching packets
// and return values with libpcap's verdicts.
func TestDifferentialVerdicts(t *testing.T) {
	shared := testenv.SharedDir(t)
	files := loadCorpus(t)
	rows, err := readTSV(filepath.Join(shared, "filters", "libpcap-verdicts.tsv"))
	if err != nil {
		t.Fatalf("read verdicts: %v", err)
	}
	snaplens := map[string]int{}
	for _, r := range rows {
		if len(r) >= 7 && r[3] != "ERROR" && r[6] != "-" {
			if n, err := strconv.Atoi(strings.Split(r[6], ",")[0]); err == nil {
				snaplens[r[0]] = n
			}
		}
	}
	var agree, disagree, rejectAll, strongerOpt, total int
	pairs := map[string]bool{}    // expr|linktype seen
	badPairs := map[string]bool{} // expr|linktype with a disagreement
	for _, r := range rows {
		cf, ok := files[r[0]]
		if !ok {
			continue
		}
		total++
		expr := r[2]
		pair := expr + "|" + r[1]
		pairs[pair] = true
		prog, err := compileCached(expr, cf, snaplens[r[0]])
		if r[3] == "ERROR" {
			if err == nil && r[4] == "expression rejects all packets" && !optimizerDetectsRejectAll {
				// Reported by libpcap's optimizer; until ours reports it, the
				// program must at least reject every packet.
				if v := runVerdict(cf, prog.Matcher().Run); v.count != 0 {
					disagree++
					badPairs[pair] = true
					t.Errorf("%s %s %q: libpcap: expression rejects all packets; pkttap's program accepts %d", r[0], r[1], expr, v.count)
				} else {
					rejectAll++
				}
				continue
			}
			if err == nil {
				disagree++
				badPairs[pair] = true
				t.Errorf("%s %s %q: libpcap rejects it (%s), pkttap compiles it", r[0], r[1], expr, r[4])
			} else {
				agree++
			}
			continue
		}
		if err != nil {
			if strings.Contains(err.Error(), "expression rejects all packets") && r[3] == "0" {
				// Our optimizer proves more than libpcap's (e.g. "-len < 0"):
				// the program would match nothing, but Compile reports it.
				strongerOpt++
				badPairs[pair] = true
				continue
			}
			disagree++
			badPairs[pair] = true
			t.Errorf("%s %s %q: libpcap compiles it, pkttap: %v", r[0], r[1], expr, err)
			continue
		}
		count, _ := strconv.Atoi(r[3])
		want := verdict{count: count, hash: r[4], retvals: r[6]}
		got := runVerdict(cf, prog.Matcher().Run)
		if got != want {
			disagree++
			badPairs[pair] = true
			t.Errorf("%s %s %q:\n got  %v\n want %v\nprogram:\n%s", r[0], r[1], expr, got, want, prog)
			continue
		}
		agree++
	}
	if total == 0 {
		t.Fatal("no verdict rows matched the corpus")
	}
	t.Logf("verdicts: %d/%d (file, expression) rows agree, %d disagree, %d reject every packet where libpcap reports \"expression rejects all packets\", %d rejected as matching nothing where libpcap compiles a program matching nothing; (expression, link type) pairs: %d/%d agree on every file",
		agree, total, disagree, rejectAll, strongerOpt, len(pairs)-len(badPairs), len(pairs))
}
