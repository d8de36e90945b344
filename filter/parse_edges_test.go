package filter_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// TestQualifiedPrimitiveErrorColumn checks the column of an error in a
// primitive with a protocol qualifier ("ip broadcast", "arp multicast",
// "ip type mgt", "ip subtype 1", "ip dir 1"): it points at the qualifier,
// where the primitive starts. (Kills the mutants of parseOther that negate
// proto == "", which points at the keyword after the qualifier, and that
// refuse a qualifier before subtype or dir.)
func TestQualifiedPrimitiveErrorColumn(t *testing.T) {
	for _, expr := range []string{"tcp or ip broadcast", "tcp or arp multicast", "tcp or ip type mgt", "tcp or ip subtype 1", "tcp or ip dir 1"} {
		_, err := filter.Compile(expr, filter.Options{LinkType: pcapio.LinkTypeEthernet})
		var fe *filter.Error
		if !errors.As(err, &fe) || fe.Column != 8 {
			t.Errorf("%q: error %v, want a *filter.Error at column 8, the qualifier", expr, err)
		}
	}
}

// TestParenthesizedNumbers compiles the primitives whose number may be
// given in parentheses, as libpcap's grammar allows (pnum: NUM | '(' pnum
// ')'), to the same program as without them. (Kills the mutants of
// parseOther's optPnum that count the parentheses the wrong way.)
func TestParenthesizedNumbers(t *testing.T) {
	for _, tt := range []struct{ paren, plain string }{
		{"vlan (100)", "vlan 100"},
		{"vlan ((100)) and ip", "vlan 100 and ip"},
		{"mpls (5)", "mpls 5"},
		{"geneve ((7))", "geneve 7"},
	} {
		opts := filter.Options{LinkType: pcapio.LinkTypeEthernet}
		want, err := filter.Compile(tt.plain, opts)
		if err != nil {
			t.Fatalf("%q: %v", tt.plain, err)
		}
		got, err := filter.Compile(tt.paren, opts)
		if err != nil {
			t.Errorf("%q: %v, want the program of %q", tt.paren, err, tt.plain)
		} else if !slices.Equal(got.Raw, want.Raw) {
			t.Errorf("%q compiles to %d instructions, %q to %d: want the same program", tt.paren, len(got.Raw), tt.plain, len(want.Raw))
		}
	}
}

// TestByteOperators compiles "byte N op M" with each operator libpcap's
// grammar allows there ('&', '|', '<', '>', '=') and refuses another
// ('+'), as libpcap does. (Kills the mutants of parseOther that negate
// one of the operator tests, which then let every other operator in.)
func TestByteOperators(t *testing.T) {
	opts := filter.Options{LinkType: pcapio.LinkTypeEthernet}
	for _, op := range []string{"&", "|", "<", ">", "="} {
		if _, err := filter.Compile("byte 0 "+op+" 1", opts); err != nil {
			t.Errorf("byte 0 %s 1: %v", op, err)
		}
	}
	_, err := filter.Compile("byte 0 + 1", opts)
	var fe *filter.Error
	if !errors.As(err, &fe) || fe.Column != 8 || !strings.Contains(fe.Msg, "after 'byte N'") {
		t.Errorf("byte 0 + 1: error %v, want one at column 8 naming the operators allowed after 'byte N'", err)
	}
}

// TestLLCRNR compiles "llc rnr", whose operand is a keyword of its own
// (not a name), to libpcap's test of the Receiver Not Ready S-frame, not
// to plain "llc". (Kills the mutants of parseOther that negate the tests
// of the rnr keyword.)
func TestLLCRNR(t *testing.T) {
	opts := filter.Options{LinkType: pcapio.LinkTypeEthernet}
	llc, err := filter.Compile("llc", opts)
	if err != nil {
		t.Fatal(err)
	}
	rnr, err := filter.Compile("llc rnr", opts)
	if err != nil {
		t.Fatalf("llc rnr: %v", err)
	}
	if slices.Equal(rnr.Raw, llc.Raw) {
		t.Errorf("llc rnr compiles to the program of llc")
	}
}
