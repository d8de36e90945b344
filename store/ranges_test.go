package store

import (
	"errors"
	"strings"
	"testing"
)

// TestParseRange: Wireshark's packet range syntax, what it holds, and an
// error naming the part at fault for anything else.
func TestParseRange(t *testing.T) {
	valid := []struct {
		text string
		want string // String() of the result
		in   []int
		out  []int
	}{
		{"1-10,15,20-", "1-10,15,20-", []int{1, 5, 10, 15, 20, 1 << 30}, []int{11, 14, 16, 19}},
		{"5", "5", []int{5}, []int{4, 6}},
		{" 3 - 4 , 7 ", "3-4,7", []int{3, 4, 7}, []int{2, 5, 6, 8}},
		{"-3", "1-3", []int{1, 2, 3}, []int{4}},
		{"10-5", "5-10", []int{5, 10}, []int{4, 11}},
		{"7,1-3,2-5", "1-5,7", []int{1, 4, 5, 7}, []int{6, 8}},
		{"1-3,4-6", "1-6", []int{3, 4}, []int{7}},
		{"2-,5-9", "2-", []int{2, 100}, []int{1}},
		{"4294967295", "4294967295", []int{4294967295}, []int{1}},
	}
	for _, tc := range valid {
		r, err := ParseRange(tc.text)
		if err != nil {
			t.Errorf("ParseRange(%q): %v", tc.text, err)
			continue
		}
		if got := r.String(); got != tc.want {
			t.Errorf("ParseRange(%q) = %q, want %q", tc.text, got, tc.want)
		}
		for _, no := range tc.in {
			if !r.Contains(no) {
				t.Errorf("%q does not hold %d", tc.text, no)
			}
		}
		for _, no := range tc.out {
			if r.Contains(no) {
				t.Errorf("%q holds %d", tc.text, no)
			}
		}
	}
	invalid := []struct{ text, want string }{
		{"", "empty"},
		{"  ", "empty"},
		{"1,,2", "part 2 is empty"},
		{"1,", "part 2 is empty"},
		{"0", "start at 1, not 0"},
		{"3-0", "start at 1, not 0"},
		{"1-x", `"x" is not a packet number`},
		{"abc", `"abc" is not a packet number`},
		{"-", "a dash needs a packet number"},
		{"1-2-3", `"2-3" is not a packet number`},
		{"+5", `"+5" is not a packet number`},
		{"99999999999", "larger than any packet number"},
		{strings.Repeat("1,", 1000) + "1", "1001 parts, more than 1000"},
		{strings.Repeat("1", 5000), "5000 bytes long"},
	}
	for _, tc := range invalid {
		_, err := ParseRange(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrBadRange) {
			t.Errorf("ParseRange(%.40q) = %v, want an ErrBadRange saying %q", tc.text, err, tc.want)
		}
	}
}

// FuzzParseRange: any text is read or refused without a panic; a range
// read is written back as text that reads as the same range.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"1-10,15,20-", "-3", "10-5", "0", "1,,2", " 7 , 1-3 ", "4294967295-", "2-,5-9", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, err := ParseRange(text)
		if err != nil {
			if !errors.Is(err, ErrBadRange) {
				t.Fatalf("%q: %v is not an ErrBadRange", text, err)
			}
			return
		}
		again, err := ParseRange(r.String())
		if err != nil || again.String() != r.String() {
			t.Fatalf("%q reads as %q, which reads as %q (%v)", text, r.String(), again.String(), err)
		}
		for i, sp := range r.spans {
			if i > 0 && (r.spans[i-1].hi == 0 || sp.lo <= r.spans[i-1].hi+1) {
				t.Fatalf("%q: spans %v overlap or touch: not merged", text, r.spans)
			}
			for _, no := range []int{sp.lo - 1, sp.lo, sp.hi, sp.hi + 1} {
				if no > 0 && r.Contains(no) != slicesHas(r.spans, no) {
					t.Fatalf("%q (%s): Contains(%d) = %v, a scan says otherwise", text, r.String(), no, r.Contains(no))
				}
			}
		}
	})
}

// slicesHas reports whether some span holds no, by a linear scan.
func slicesHas(spans []span, no int) bool {
	for _, sp := range spans {
		if sp.lo <= no && (sp.hi == 0 || no <= sp.hi) {
			return true
		}
	}
	return false
}
