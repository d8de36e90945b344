package web

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// TestUploadMutationShortBodies uploads bodies of 0, 2 and 3 bytes, around
// the 2 bytes the magic check needs at least: none is a capture (415), and
// each is refused for its own reason. The 2-byte gzip magic alone is a
// gzip stream cut at its start, not an unknown file; 3 bytes of text are
// an unknown file, named. (Kills the mutants of receive that take
// len(magic) <= 2 or >= 2 for < 2.)
func TestUploadMutationShortBodies(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	tests := []struct {
		name   string
		body   []byte
		reason string // the start of the error message
	}{
		{"empty", nil, "x.pcap: the file is empty"},
		{"gzip magic alone", []byte{0x1f, 0x8b}, "x.pcap: not a valid capture file: bad gzip stream"},
		{"three bytes of text", []byte("GET"), "x.pcap: not a .pcap, .pcapng or gzip file"},
	}
	for _, tt := range tests {
		var e apiError
		res := do(t, "POST", ts.URL+"/api/captures?name=x.pcap", bytes.NewReader(tt.body), &e)
		if res.StatusCode != http.StatusUnsupportedMediaType || !strings.HasPrefix(e.Error, tt.reason) {
			t.Errorf("%s: status %d %q, want %d with a message starting %q", tt.name, res.StatusCode, e.Error, http.StatusUnsupportedMediaType, tt.reason)
		}
	}
}
