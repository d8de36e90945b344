package web

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"strings"
	"testing"
)

// TestUploadBodyAtTheAllowance checks the early refusal by declared
// length at its edge: a multipart body of exactly MaxUpload plus the
// multipart allowance, carrying a file of MaxUpload bytes beside a field
// that fills the rest, is taken; one byte more is refused with 413.
func TestUploadBodyAtTheAllowance(t *testing.T) {
	const limit = 10_000
	dir := t.TempDir()
	_, ts := newTestServer(t, Config{MaxUpload: limit, DataDir: dir})
	file, packets := captureOfSize(t, limit)
	// body returns a multipart body of exactly size bytes: the file and a
	// field padded to fit.
	body := func(size int) ([]byte, string) {
		build := func(pad int) ([]byte, string) {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			if err := mw.SetBoundary("edgeedgeedgeedgeedgeedge"); err != nil {
				t.Fatal(err)
			}
			mw.WriteField("comment", strings.Repeat("x", pad))
			fw, _ := mw.CreateFormFile("file", "edge.pcap")
			fw.Write(file)
			mw.Close()
			return b.Bytes(), mw.FormDataContentType()
		}
		b, _ := build(0)
		b, ct := build(size - len(b))
		if len(b) != size {
			t.Fatalf("built a body of %d bytes, want %d", len(b), size)
		}
		return b, ct
	}
	for _, tt := range []struct {
		size int
		ok   bool
	}{
		{limit + multipartSlack, true},
		{limit + multipartSlack + 1, false},
	} {
		t.Run(fmt.Sprintf("body of limit+allowance%+d", tt.size-limit-multipartSlack), func(t *testing.T) {
			b, ct := body(tt.size)
			res := do(t, "POST", ts.URL+"/api/captures", bytes.NewReader(b), nil, "Content-Type", ct)
			checkUploadVerdict(t, ts, dir, res, len(b), limit, packets, tt.ok)
		})
	}
}
