package filter

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// TestInvalidExpressions requires every expression libpcap rejects (the
// shared invalid.tsv, for each link type it lists, and the rejections
// recorded with libpcap's programs) to be rejected with an *Error whose
// column lies inside the expression.
func TestInvalidExpressions(t *testing.T) {
	shared := testenv.SharedDir(t)
	rows, err := readTSV(filepath.Join(shared, "filters", "invalid.tsv"))
	if err != nil {
		t.Fatalf("read invalid.tsv: %v", err)
	}
	cols := []string{"EN10MB", "RAW", "LINUX_SLL", "LINUX_SLL2", "NULL", "LOOP", "IEEE802_11"}
	n := 0
	for _, r := range rows {
		for i, name := range cols {
			if r[4+i] != "ERR" {
				continue
			}
			lt, _ := pcapio.LinkTypeFromName(name)
			checkRejected(t, r[0], Options{LinkType: lt}, "invalid.tsv ("+r[1]+"): "+r[2])
			n++
		}
	}
	errRows, err := readTSV(filepath.Join(shared, "filters", "libpcap-programs.errors.tsv"))
	if err != nil {
		t.Fatalf("read libpcap-programs.errors.tsv: %v", err)
	}
	// that file has no header line: readTSV dropped the first row
	b := [][]string{}
	if first, err := readFirstLine(filepath.Join(shared, "filters", "libpcap-programs.errors.tsv")); err == nil {
		b = append(b, strings.Split(first, "\t"))
	}
	for _, r := range append(b, errRows...) {
		lt, err := pcapio.LinkTypeFromName(r[0])
		if err != nil {
			t.Fatalf("link type %q: %v", r[0], err)
		}
		checkRejected(t, r[1], Options{LinkType: lt}, "libpcap: "+r[2])
		n++
	}
	t.Logf("%d (expression, link type) pairs that libpcap rejects are rejected", n)
}

func checkRejected(t *testing.T, expr string, opts Options, why string) {
	t.Helper()
	p, err := Compile(expr, opts)
	if err == nil {
		t.Errorf("%s %q: compiled, want an error (%s); program:\n%s", opts.LinkType, expr, why, p)
		return
	}
	var fe *Error
	if !errors.As(err, &fe) {
		t.Errorf("%s %q: error %v is %T, want *filter.Error", opts.LinkType, expr, err, err)
		return
	}
	if fe.Column < 1 || fe.Column > len(expr)+1 {
		t.Errorf("%s %q: column %d outside the expression", opts.LinkType, expr, fe.Column)
	}
}

// TestUnsupportedLinkTypeNamesSupported requires the error for a link type
// the compiler does not support to name every link type it does support.
func TestUnsupportedLinkTypeNamesSupported(t *testing.T) {
	_, err := Compile("ip", Options{LinkType: pcapio.LinkType(1000)})
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("link type 1000: got %v, want an *Error", err)
	}
	for name, lt := range testedLinkTypes {
		if _, err := Compile("ip", Options{LinkType: lt}); err != nil {
			continue // filtered only with link[...], len and the like
		}
		if !strings.Contains(fe.Msg, " "+name+",") {
			t.Errorf("the error %q does not name the supported link type %s", fe.Msg, name)
		}
	}
}
