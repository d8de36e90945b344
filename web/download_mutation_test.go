package web

import (
	"io"
	"mime"
	"net/http"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

// TestDownloadMutationHeaders checks the headers of a download in each
// format: the media type of the format (application/vnd.tcpdump.pcap,
// application/x-pcapng), an attachment named with the format's extension,
// and no caching. (Kills the mutant of handleDownload that negates
// format == pcapio.FormatPcapNg, which swaps the media types.)
func TestDownloadMutationHeaders(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	id := waitIndexed(t, ts, upload(t, ts, "h.pcap", synthetic(t, pcapio.FormatPcap, 5)).ID).ID
	tests := []struct{ format, ctype, file string }{
		{"", "application/vnd.tcpdump.pcap", "h.pcap"},
		{"pcap", "application/vnd.tcpdump.pcap", "h.pcap"},
		{"pcapng", "application/x-pcapng", "h.pcapng"},
	}
	for _, tt := range tests {
		res := do(t, "GET", ts.URL+"/api/captures/"+id+"/download?format="+tt.format, nil, nil)
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("format %q: status %d", tt.format, res.StatusCode)
		}
		if got := res.Header.Get("Content-Type"); got != tt.ctype {
			t.Errorf("format %q: Content-Type %q, want %q", tt.format, got, tt.ctype)
		}
		_, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition"))
		if err != nil || params["filename"] != tt.file {
			t.Errorf("format %q: Content-Disposition %q (%v), want an attachment named %s", tt.format, res.Header.Get("Content-Disposition"), err, tt.file)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("format %q: Cache-Control %q, want no-store", tt.format, got)
		}
	}
}
