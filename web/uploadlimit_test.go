package web

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// captureOfSize returns a valid pcap file of exactly size bytes (at least
// 24+16+14) and the number of packets in it.
func captureOfSize(t testing.TB, size int) ([]byte, int) {
	t.Helper()
	const rec, maxData = 16, 4000 // record header, largest packet written
	var b bytes.Buffer
	pw, err := pcapio.NewWriter(&b, pcapio.WriterOptions{Format: pcapio.FormatPcap, LinkType: pcapio.LinkTypeEthernet, Snaplen: 262144})
	if err != nil {
		t.Fatal(err)
	}
	left := size - 24
	n := 0
	for left > 0 {
		l := maxData
		switch {
		case left <= rec+maxData:
			l = left - rec
		case left-(rec+maxData) < rec+14:
			l = maxData / 2 // leave room for a last packet of an Ethernet header or more
		}
		if l < 14 {
			t.Fatalf("captureOfSize(%d): no room for a packet", size)
		}
		data := make([]byte, l)
		copy(data, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5}) // broadcast, local experimental EtherType
		p := pcapio.Packet{Timestamp: time.Unix(1_700_000_000, int64(n)*1000), Data: data, Length: l, LinkType: pcapio.LinkTypeEthernet}
		if err := pw.WritePacket(&p); err != nil {
			t.Fatal(err)
		}
		left -= rec + l
		n++
	}
	if err := pw.Flush(); err != nil {
		t.Fatal(err)
	}
	if b.Len() != size {
		t.Fatalf("captureOfSize(%d): wrote %d bytes", size, b.Len())
	}
	return b.Bytes(), n
}

// TestUploadLimitBoundary checks the size limit at its edge, for raw and
// multipart bodies, with a declared length and chunked: a file of up to
// MaxUpload bytes is taken whole, and a file of one byte more is refused
// with 413, also where the body stays under MaxUpload plus the allowance a
// multipart body has for its boundaries and part headers. That allowance
// is for the framing only: it never lets a bigger file through.
func TestUploadLimitBoundary(t *testing.T) {
	const limit = 10_000
	dir := t.TempDir()
	_, ts := newTestServer(t, Config{MaxUpload: limit, DataDir: dir})
	sizes := []struct {
		size int
		ok   bool
	}{
		{limit - 1, true},
		{limit, true},
		{limit + 1, false},
		{limit + 1000, false},
		{limit + multipartSlack - 1, false},
		{limit + multipartSlack + 1, false},
	}
	type body struct {
		data        []byte
		contentType string
	}
	raw := func(file []byte) body { return body{file, ""} }
	form := func(comment int) func(file []byte) body {
		return func(file []byte) body {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			if comment > 0 {
				mw.WriteField("comment", strings.Repeat("x", comment))
			}
			fw, _ := mw.CreateFormFile("file", "edge.pcap")
			fw.Write(file)
			mw.Close()
			return body{b.Bytes(), mw.FormDataContentType()}
		}
	}
	encodings := []struct {
		name string
		make func(file []byte) body
	}{
		{"raw", raw},
		{"multipart", form(0)},
		{"multipart with a 1000-byte field", form(1000)},
	}
	for _, enc := range encodings {
		for _, chunked := range []bool{false, true} {
			for _, sz := range sizes {
				name := fmt.Sprintf("%s/length %v/file of limit%+d", enc.name, !chunked, sz.size-limit)
				t.Run(name, func(t *testing.T) {
					file, packets := captureOfSize(t, sz.size)
					b := enc.make(file)
					var r io.Reader = bytes.NewReader(b.data)
					if chunked {
						r = io.MultiReader(r) // Content-Length unknown
					}
					hdr := []string{}
					if b.contentType != "" {
						hdr = append(hdr, "Content-Type", b.contentType)
					}
					res := do(t, "POST", ts.URL+"/api/captures?name=edge.pcap", r, nil, hdr...)
					checkUploadVerdict(t, ts, dir, res, len(b.data), sz.size, packets, sz.ok)
				})
			}
		}
	}

	// The multipart allowance is for the framing: a body that carries
	// more than that beside the file is refused even when the file itself
	// is within the limit.
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("multipart with a field over the allowance/length %v", !chunked), func(t *testing.T) {
			file, packets := captureOfSize(t, limit)
			b := form(multipartSlack)(file)
			var r io.Reader = bytes.NewReader(b.data)
			if chunked {
				r = io.MultiReader(r)
			}
			res := do(t, "POST", ts.URL+"/api/captures", r, nil, "Content-Type", b.contentType)
			checkUploadVerdict(t, ts, dir, res, len(b.data), limit, packets, false)
		})
	}
}

// checkUploadVerdict checks the answer to an upload of a file of size
// bytes (in a body of bodySize): a whole capture when ok, else a 413 JSON
// error naming the limit and nothing left on disk. A capture made, rightly
// or not, is deleted again.
func checkUploadVerdict(t *testing.T, ts *httptest.Server, dir string, res *http.Response, bodySize, size, packets int, ok bool) {
	t.Helper()
	raw, _ := io.ReadAll(res.Body)
	var info CaptureInfo
	if res.StatusCode == http.StatusCreated {
		// Deleted in the end, so that a wrongly accepted upload leaves
		// nothing behind to fail the next cases.
		if err := jsonUnmarshal(raw, &info); err != nil {
			t.Fatal(err)
		}
		defer func() {
			waitIndexed(t, ts, info.ID)
			if res := do(t, "DELETE", ts.URL+"/api/captures/"+info.ID, nil, nil); res.StatusCode >= 300 {
				t.Fatalf("delete %s: status %d", info.ID, res.StatusCode)
			}
		}()
	}
	if !ok {
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("file of %d bytes in a body of %d: status %d, want 413: %s", size, bodySize, res.StatusCode, raw)
		}
		res.Body = io.NopCloser(bytes.NewReader(raw))
		checkJSONError(t, res)
		if !strings.Contains(string(raw), "limit") {
			t.Errorf("error %s does not name the limit", raw)
		}
		if left := dirEntries(t, dir); len(left) != 0 {
			t.Errorf("files left behind: %v", left)
		}
		return
	}
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("file of %d bytes in a body of %d: status %d, want 201: %s", size, bodySize, res.StatusCode, raw)
	}
	info = waitIndexed(t, ts, info.ID)
	if info.State != store.StateReady || info.Size != int64(size) || info.Packets != int64(packets) {
		t.Errorf("file of %d bytes with %d packets: %+v", size, packets, info)
	}
}
