package pcapio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// stallSource returns its bytes, then (0, nil) forever: a source that
// makes no progress and never says why.
type stallSource struct{ r *bytes.Reader }

func (s *stallSource) Read(p []byte) (int, error) {
	if s.r.Len() == 0 {
		return 0, nil
	}
	return s.r.Read(p)
}

// overSource returns its bytes, then claims one byte more than it was
// given room for.
type overSource struct{ r *bytes.Reader }

func (s *overSource) Read(p []byte) (int, error) {
	if s.r.Len() == 0 {
		return len(p) + 1, nil
	}
	return s.r.Read(p)
}

// TestBrokenSources checks that a source breaking io.Reader's contract
// ends the read with an error instead of a hang or a panic: one that
// returns no bytes and no error forever (io.ErrNoProgress), and one that
// reports more bytes than the slice it was given.
func TestBrokenSources(t *testing.T) {
	file := newPcapGen(le, magicMicro, 2, 4, 65535, 1).record(1, 0, 3, 3, []byte("abc")).buf
	tests := []struct {
		name string
		src  func(b []byte) io.Reader
		want string
	}{
		{"no progress", func(b []byte) io.Reader { return &stallSource{bytes.NewReader(b)} }, "no data or error"},
		{"count beyond the slice", func(b []byte) io.Reader { return &overSource{bytes.NewReader(b)} }, "invalid byte count"},
	}
	for _, tt := range tests {
		for _, cut := range []int{0, 2, len(file) - 2, len(file)} {
			r, err := NewReader(tt.src(file[:cut]))
			for n := 0; err == nil && n < 3; n++ {
				_, err = r.Next()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s, after %d bytes: error %v, want one saying %q", tt.name, cut, err, tt.want)
			}
			if tt.name == "no progress" && !errors.Is(err, io.ErrNoProgress) {
				t.Errorf("%s, after %d bytes: error %v, want io.ErrNoProgress", tt.name, cut, err)
			}
		}
	}
}

// TestTruncationCounts checks the byte counts a truncation error gives:
// how many bytes of the structure the input still had, of how many.
func TestTruncationCounts(t *testing.T) {
	file := newPcapGen(le, magicMicro, 2, 4, 65535, 1).record(1, 0, 100, 100, make([]byte, 100)).buf
	tests := []struct {
		cut  int
		want string
	}{
		{2, "truncated file header: input ends after 2 of its 4 bytes"},
		{10, "truncated pcap file header: input ends after 10 of its 24 bytes"},
		{24 + 5, "truncated pcap record header: input ends after 5 of its 16 bytes"},
		{24 + 16 + 60, "truncated pcap record: input ends after 76 of its 116 bytes"},
	}
	for _, tt := range tests {
		r, err := NewReader(bytes.NewReader(file[:tt.cut]))
		if err == nil {
			_, err = r.Next()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("file cut after %d bytes: error %v, want %q", tt.cut, err, tt.want)
		}
	}
}

// hiccupSource returns (0, nil) a few times before each real read, as
// io.Reader allows (discouraged, but legal).
type hiccupSource struct {
	r     *bytes.Reader
	calls int
}

func (s *hiccupSource) Read(p []byte) (int, error) {
	if s.calls++; s.calls%4 != 0 {
		return 0, nil
	}
	return s.r.Read(p[:min(len(p), 7)])
}

// TestSourceHiccups checks that a source that sometimes returns no bytes
// and no error is read to its end: only one that never progresses fails.
func TestSourceHiccups(t *testing.T) {
	file := newPcapGen(le, magicMicro, 2, 4, 65535, 1).record(1, 0, 3, 3, []byte("abc")).record(2, 0, 2, 2, []byte("de")).buf
	r, err := NewReader(&hiccupSource{r: bytes.NewReader(file)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next after %d packets: %v", len(got), err)
		}
		got = append(got, string(p.Data))
	}
	if strings.Join(got, ",") != "abc,de" {
		t.Errorf("packets %q, want abc and de", got)
	}
}

// stallsThen returns (0, nil) n times, then its bytes.
type stallsThen struct {
	n int
	r *bytes.Reader
}

func (s *stallsThen) Read(p []byte) (int, error) {
	if s.n > 0 {
		s.n--
		return 0, nil
	}
	return s.r.Read(p)
}

// TestNoProgressLimit checks where a stalled source is given up: after
// 100 reads in a row without bytes or error, as bufio does, and not
// before.
func TestNoProgressLimit(t *testing.T) {
	file := newPcapGen(le, magicMicro, 2, 4, 65535, 1).record(1, 0, 3, 3, []byte("abc")).buf
	for _, tt := range []struct {
		stalls int
		ok     bool
	}{{99, true}, {100, false}} {
		_, err := NewReader(&stallsThen{tt.stalls, bytes.NewReader(file)})
		if (err == nil) != tt.ok || !tt.ok && !errors.Is(err, io.ErrNoProgress) {
			t.Errorf("%d empty reads before the file: NewReader error %v, want ok %v", tt.stalls, err, tt.ok)
		}
	}
}
