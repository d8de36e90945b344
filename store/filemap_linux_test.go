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

// TestMapLimit checks that a file larger than the map limit is scanned
// with pread, leaving none of its pages resident in the process, while a
// file within it is read through its mapping (whose pages a scan leaves
// resident: what the limit bounds); both scans find the same packets.
func TestMapLimit(t *testing.T) {
	const n = 40_000 // a spool of about 19 MB, an index of under 2 MB
	data := synthetic(t, pcapio.FormatPcap, n)
	p := newTestPool(t, Config{})
	for _, tc := range []struct {
		limit  int64
		mapped bool
	}{{8 << 20, false}, {0, true}} { // 0: mapLimit
		s := addCapture(t, p, "big.pcap", data)
		s.maps.limit = tc.limit // before its first scan
		m := bpfMatcher{filter.NewMatcher("tcp port 443", s.FilterOptions())}
		for _, par := range []int{1, 2} {
			if got := len(scanAll(t, s, m, par, 1024)); got != n/2 {
				t.Fatalf("limit %d, %d workers: %d matches, want %d", tc.limit, par, got, n/2)
			}
		}
		spool := s.spool.Name()
		st, err := os.Stat(spool)
		if err != nil {
			t.Fatal(err)
		}
		rss := mappedRSS(t, spool)
		t.Logf("limit %d: %d KiB of the %d KiB spool resident after the scans", tc.limit, rss>>10, st.Size()>>10)
		if tc.mapped && rss < st.Size()/2 {
			t.Errorf("a spool within the limit: %d KiB of its %d KiB mapped and resident after a scan, want it read through its mapping", rss>>10, st.Size()>>10)
		}
		if !tc.mapped && rss != 0 {
			t.Errorf("a spool past the limit: %d KiB of it mapped and resident after a scan, want none (read with pread)", rss>>10)
		}
	}
}
