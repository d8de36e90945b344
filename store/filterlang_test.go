package store

import (
	"errors"
	"slices"
	"testing"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/filter"
)

// TestFilterLanguage: a filter job takes either language from one string,
// a display filter when it compiles as one (a BPF expression with a
// bracket aside), else BPF; a display filter matches the packets of its
// BPF equivalent, with frame.number counted from 1 in the capture; an
// expression valid in neither fails with the error, and its column, of
// the language it looks like.
func TestFilterLanguage(t *testing.T) {
	p := newTestPool(t, Config{})
	s := openCapture(t, p, 300)
	matches := func(expr string) ([]uint32, Language) {
		t.Helper()
		j := startJob(t, s, expr, "A")
		waitDone(t, j)
		st := j.Status()
		m, err := j.snapshot()
		if err != nil || st.Error != "" || st.Scanned != s.Count() {
			t.Fatalf("%q: %+v, %v", expr, st, err)
		}
		return m.Window(nil, 0, m.Len()), st.Language
	}
	for _, tt := range []struct {
		expr, same string // same: a BPF expression matching the same packets
		lang       Language
	}{
		{"tcp.port == 443", "tcp port 443", Display},
		{"tcp.dstport == 443 && ip.len > 100", "tcp dst port 443 and ip[2:2] > 100", Display},
		{"udp || arp", "(udp or arp) and len >= 0", Display},
		{"tcp", "ip proto 6", Display}, // valid in both: the display filter
		{"not ip", "not ip and len >= 0", Display},
		{`dns.qry.name contains "example"`, "udp port 53", Display},
		{"frame.number <= 5", "", Display},
		{"tcp port 443", "", BPF},
		{"tcp[13] & 2 != 0", "", BPF}, // valid in both: tcpdump's bracket
		{"ip and len >= 0", "", BPF},
	} {
		t.Run(tt.expr, func(t *testing.T) {
			got, lang := matches(tt.expr)
			if lang != tt.lang {
				t.Errorf("language %q, want %q", lang, tt.lang)
			}
			var want []uint32
			switch {
			case tt.expr == "frame.number <= 5":
				want = []uint32{0, 1, 2, 3, 4}
			case tt.same == "":
				return
			default:
				var wl Language
				if want, wl = matches(tt.same); wl != BPF {
					t.Fatalf("%q is %q, not BPF", tt.same, wl)
				}
			}
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("%d matches %v, want %d %v", len(got), got, len(want), want)
			}
		})
	}
}

// TestFilterLanguageErrors: an expression neither language compiles is
// refused with the error of the language it looks like, at its column.
func TestFilterLanguageErrors(t *testing.T) {
	p := newTestPool(t, Config{})
	s := openCapture(t, p, 10)
	for _, tt := range []struct {
		expr   string
		lang   Language
		column int
	}{
		{"tcp port", BPF, 9},
		{"host 1.2.3.4 and", BPF, 17},
		{"udp prot 53", BPF, 5},
		{"bogus", BPF, 1},                      // neither: tcpdump's, as always
		{"tcp.prot == 80", Display, 1},         // a field of a known protocol
		{"ip.src == 1.2.3", Display, 11},       // a bad value
		{"tcp.port == 80 &&", Display, 18},     // unexpected end
		{"foo == 1", Display, 1},               // == without tcpdump's words
		{`http.host contains "x`, Display, 22}, // unterminated string
		{"frame.len > 10 and port 80", Display, 25},
		{"src port 80 && bogus", BPF, 16},
	} {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := s.StartFilter(tt.expr, "A")
			var de *dfilter.Error
			var fe *filter.Error
			switch {
			case errors.As(err, &de):
				if tt.lang != Display || de.Column != tt.column {
					t.Errorf("display filter error %v, want a %s error at column %d", err, tt.lang, tt.column)
				}
			case errors.As(err, &fe):
				if tt.lang != BPF || fe.Column != tt.column {
					t.Errorf("BPF error %v, want a %s error at column %d", err, tt.lang, tt.column)
				}
			default:
				t.Errorf("error %v, want a %s error at column %d", err, tt.lang, tt.column)
			}
		})
	}
}
