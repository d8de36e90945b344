package web

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// rawChunks is a stream's payload as tshark -z follow,PROTO,raw,N prints
// it: each chunk's direction and bytes.
type rawChunks struct {
	dirs   []int
	chunks [][]byte
}

// tsharkFollowRaw follows the streams of a capture with one tshark run.
func tsharkFollowRaw(t *testing.T, tshark, path, proto string, streams []int) map[int]rawChunks {
	t.Helper()
	args := []string{"-n", "-r", path, "-q"}
	for _, s := range streams {
		args = append(args, "-z", fmt.Sprintf("follow,%s,raw,%d", proto, s))
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	m := map[int]rawChunks{}
	stream, in := -1, false
	var cur rawChunks
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(l, "Filter: "):
			fmt.Sscanf(l, "Filter: "+proto+".stream eq %d", &stream)
		case strings.HasPrefix(l, "Node 1: "):
			in, cur = true, rawChunks{}
		case strings.HasPrefix(l, "====="):
			if in {
				m[stream] = cur
			}
			in = false
		case in:
			dir := 0
			if strings.HasPrefix(l, "\t") {
				dir, l = 1, l[1:]
			}
			b, err := hex.DecodeString(l)
			if err != nil {
				t.Fatalf("tshark raw line %q: %v", l, err)
			}
			cur.dirs, cur.chunks = append(cur.dirs, dir), append(cur.chunks, b)
		}
	}
	return m
}

// TestFollowAPITshark follows TCP streams of the display-filter capture
// (the real HTTP and HTTPS traffic at its end, streams 90 to 100, and
// corpus streams with gaps and retransmissions) through the API and compares them with tshark's
// follow: each direction's download (raw bytes) and the pages of both
// directions, fetched a few hundred bytes at a time, joined.
func TestFollowAPITshark(t *testing.T) {
	tshark, path, ts, info := openDisplayFilterCapture(t)
	base := ts.URL + "/api/captures/" + info.ID + "/follow?proto=tcp"
	sawHTTP := false
	streams := []int{0, 3, 10, 20, 27, 58, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100}
	all := tsharkFollowRaw(t, tshark, path, "tcp", streams)
	for _, stream := range streams {
		dirs, chunks := all[stream].dirs, all[stream].chunks
		var want [2][]byte
		var both []byte
		for i, c := range chunks {
			want[dirs[i]] = append(want[dirs[i]], c...)
			both = append(both, c...)
		}
		if len(both) == 0 {
			t.Fatalf("tshark follows nothing in tcp.stream %d: the test compares nothing", stream)
		}
		for d, name := range []string{"client", "server"} {
			res := do(t, "GET", fmt.Sprintf("%s&stream=%d&format=raw&dir=%s&download=1", base, stream, name), nil, nil)
			got, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK || !bytes.Equal(got, want[d]) {
				t.Errorf("stream %d %s download: status %d, %d bytes, want tshark's %d", stream, name, res.StatusCode, len(got), len(want[d]))
			}
			if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
				t.Errorf("stream %d download: Content-Disposition %q", stream, cd)
			}
		}
		// Pages of 300 bytes, as hex digits, joined.
		var paged []byte
		var pieceDirs []uint8
		pages := 0
		for off := int64(0); ; pages++ {
			var page FollowResponse
			res := do(t, "GET", fmt.Sprintf("%s&stream=%d&format=raw&offset=%d&limit=300", base, stream, off), nil, &page)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("stream %d page at %d: status %d", stream, off, res.StatusCode)
			}
			if page.Total != int64(len(both)) || page.Filter != fmt.Sprintf("tcp.stream eq %d", stream) {
				t.Fatalf("stream %d: total %d filter %q, want %d bytes", stream, page.Total, page.Filter, len(both))
			}
			for _, p := range page.Pieces {
				b, err := hex.DecodeString(p.Text)
				if err != nil || len(b) != p.Len || p.Offset != int64(len(paged)) {
					t.Fatalf("stream %d: piece %+v at %d: %v", stream, p, len(paged), err)
				}
				paged = append(paged, b...)
				pieceDirs = append(pieceDirs, p.Dir)
			}
			if page.Next >= page.Total {
				break
			}
			if page.Next <= off {
				t.Fatalf("stream %d: page at %d does not advance (next %d)", stream, off, page.Next)
			}
			off = page.Next
		}
		if !bytes.Equal(paged, both) {
			t.Errorf("stream %d: %d paged bytes differ from tshark's %d", stream, len(paged), len(both))
		}
		if len(both) > 600 && pages < 2 {
			t.Errorf("stream %d: %d bytes in %d pages of 300", stream, len(both), pages)
		}
		var ascii FollowResponse
		do(t, "GET", fmt.Sprintf("%s&stream=%d&format=ascii", base, stream), nil, &ascii)
		if len(ascii.Pieces) > 1 && strings.HasPrefix(ascii.Pieces[0].Text, "GET /") && strings.HasPrefix(ascii.Pieces[1].Text, "HTTP/1.") && ascii.Pieces[1].Dir == 1 {
			sawHTTP = true
		}
	}
	if !sawHTTP {
		t.Error("no stream followed shows an HTTP request and its response")
	}
}

// TestFollowAPIErrors checks the follow endpoint's refusals.
func TestFollowAPIErrors(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	info := upload(t, ts, "s.pcapng", sampleCapture)
	waitIndexed(t, ts, info.ID)
	base := ts.URL + "/api/captures/" + info.ID + "/follow?"
	for _, c := range []struct{ query, want string }{
		{"proto=sctp&stream=0", "proto"},
		{"proto=tcp&stream=x", "stream"},
		{"proto=tcp&stream=-1", "stream"},
		{"proto=tcp&stream=0&format=pdf", "format"},
		{"proto=tcp&stream=0&dir=up", "dir"},
		{"proto=tcp&stream=0&offset=-5", "offset"},
		{"proto=tcp&stream=0&limit=0", "limit"},
		{"proto=tcp&stream=0&limit=99999999", "limit"},
		{"proto=tcp&packet=0", "packet"},
		{"proto=tcp&packet=99999", "packet"},
	} {
		var e struct{ Error string }
		res := do(t, "GET", base+c.query, nil, &e)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(e.Error, c.want) {
			t.Errorf("%s: status %d, error %q; want 400 naming %s", c.query, res.StatusCode, e.Error, c.want)
		}
	}
	var e struct{ Error string }
	if res := do(t, "GET", base+"proto=udp&packet=1", nil, &e); res.StatusCode != http.StatusNotFound || !strings.Contains(e.Error, "no UDP stream") {
		t.Errorf("a TCP packet's UDP stream: status %d, %q; want 404", res.StatusCode, e.Error)
	}
	var page FollowResponse
	if res := do(t, "GET", base+"proto=tcp&packet=5", nil, &page); res.StatusCode != http.StatusOK || page.Stream != 0 || page.Packets == 0 {
		t.Errorf("packet 5's TCP stream: status %d, %+v", res.StatusCode, page)
	}
	page = FollowResponse{}
	res := do(t, "GET", base+"proto=tcp&stream=9999", nil, &page)
	if res.StatusCode != http.StatusOK || page.Packets != 0 || page.Total != 0 || len(page.Pieces) != 0 || page.Client != ":0" {
		t.Errorf("a stream without packets: status %d, %+v", res.StatusCode, page)
	}
}

// TestFollowAPIReassembled: a UDP stream whose datagrams come in IP
// fragments (udp.stream 13 of the display-filter capture, AFS replies of
// 5,700 bytes) is followed with each reassembled datagram's payload, as
// tshark follows it: the API's downloads equal tshark's bytes each way.
func TestFollowAPIReassembled(t *testing.T) {
	tshark, path, ts, info := openDisplayFilterCapture(t)
	const stream = 13
	all := tsharkFollowRaw(t, tshark, path, "udp", []int{stream})
	var want [2][]byte
	for i, c := range all[stream].chunks {
		want[all[stream].dirs[i]] = append(want[all[stream].dirs[i]], c...)
	}
	if len(want[0])+len(want[1]) < 20000 {
		t.Fatalf("tshark follows only %d bytes in udp.stream %d", len(want[0])+len(want[1]), stream)
	}
	for d, name := range []string{"client", "server"} {
		res := do(t, "GET", fmt.Sprintf("%s/api/captures/%s/follow?proto=udp&stream=%d&format=raw&dir=%s&download=1", ts.URL, info.ID, stream, name), nil, nil)
		got, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || !bytes.Equal(got, want[d]) {
			t.Errorf("udp stream %d %s download: status %d, %d bytes, want tshark's %d", stream, name, res.StatusCode, len(got), len(want[d]))
		}
	}
}
