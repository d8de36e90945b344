package store

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// mappedRSS returns the resident bytes of this process's mappings of the
// files at paths, as /proc/self/smaps counts them.
func mappedRSS(t *testing.T, paths ...string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
	}
	var total int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			in = len(fields) >= 6 && want[fields[5]]
		case in && len(fields) == 3 && fields[0] == "Rss:":
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatalf("smaps: %q: %v", sc.Text(), err)
			}
			total += kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}

// TestScanForgetsMappedPages checks that a filter scan gives back the
// mapped pages of the ranges it is done with: after scanning a capture of
// about 20 MB through the maps, the process holds almost none of its
// spool's or index's pages resident (it held them all before the scan
// forgot them), while the maps are still open for the next scan.
func TestScanForgetsMappedPages(t *testing.T) {
	const n = 40_000
	p := newTestPool(t, Config{})
	s := addCapture(t, p, "big.pcap", synthetic(t, pcapio.FormatPcap, n))
	m := bpfMatcher{filter.NewMatcher("tcp port 443", s.FilterOptions())}
	for _, par := range []int{1, 2} {
		if got := len(scanAll(t, s, m, par, 1024)); got != n/2 {
			t.Fatalf("%d workers: %d matches, want %d", par, got, n/2)
		}
		spool, index := s.spool.Name(), s.index.Name()
		st, err := os.Stat(spool)
		if err != nil {
			t.Fatal(err)
		}
		rss := mappedRSS(t, spool, index)
		t.Logf("%d workers: %d KiB of the %d KiB spool and its index resident after the scan", par, rss>>10, st.Size()>>10)
		if limit := int64(1 << 20); rss > limit {
			t.Errorf("%d workers: %d KiB of the capture's mappings resident after the scan, want at most %d KiB", par, rss>>10, limit>>10)
		}
	}
}
