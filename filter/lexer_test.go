package filter

import (
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/filter/internal/golden"
	"github.com/pkttap/pkttap/internal/testenv"
)

// TestCandidatesAsRegexps checks that the scanner's shortcuts (rules not
// tried where their first bytes cannot match) find exactly what running
// every rule's regular expression finds, at every position of the shared
// expressions and of random strings over the bytes that matter.
func TestCandidatesAsRegexps(t *testing.T) {
	reV6Run := longest(`^[0-9A-Fa-f:.]+`)
	v6 := func(s string) int { // v6Len as it was, on the regexp's run
		for l := matchLen(reV6Run, s); l >= 2; l-- {
			c := s[:l]
			if !strings.Contains(c, ":") {
				return 0
			}
			if a, err := netip.ParseAddr(c); err == nil && a.Is6() && a.Zone() == "" {
				return l
			}
		}
		return 0
	}
	want := func(s string) tokenLens {
		l := candidates(s)
		if c := s[0]; isHex(c) || c == ':' {
			l.mac, l.num, l.hid = matchLen(reMAC, s), matchLen(reNum, s), matchLen(reHID, s)
			l.v6, l.bogus = v6(s), matchLen(reBogus, s)
		}
		return l
	}
	check := func(t *testing.T, inputs []string) {
		for _, in := range inputs {
			for i := range len(in) {
				s := in[i:]
				if got, w := candidates(s), want(s); got != w {
					t.Fatalf("at %q: %+v, the regexps find %+v", s, got, w)
				}
			}
		}
	}
	var inputs []string
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789abcdefxABCDEFX:.-_ $\\gz"
	for range 20000 {
		b := make([]byte, 1+rng.IntN(24))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(b))
	}
	check(t, inputs)
	t.Run("shared", func(t *testing.T) {
		var inputs []string
		dir := testenv.SharedDir(t)
		for _, f := range []string{"public.txt", "invalid.txt"} {
			exprs, err := golden.ReadExprList(filepath.Join(dir, "filters", f))
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, exprs...)
		}
		check(t, inputs)
	})
}
