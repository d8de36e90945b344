package streams

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/follow"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// followResult is what compareFollowOracle found in a capture.
type followResult struct {
	streams int // TCP streams compared, all equal
	gaps    int // streams tshark shows a gap in ("[N bytes missing in capture file]")
	bytes   int // of payload followed
}

// compareFollowOracle follows every TCP stream of the capture at path
// with package follow (over this package's tracking, as pkttap-inspect
// does) and with tshark -z follow,tcp,raw,N, and requires the same text.
func compareFollowOracle(t *testing.T, name, path string) followResult {
	t.Helper()
	tshark := testenv.LookPath(t, "tshark", "tshark")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapio.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	type run struct {
		sel    follow.Selector
		f      *follow.Follower
		chunks []follow.Chunk
	}
	var runs []*run
	tr := New()
	for n := 1; ; n++ {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		si := tr.Add(p.LinkType, p.Data, p.Length, p.Timestamp)
		for int(si.TCPStream) > len(runs) {
			ru := &run{sel: follow.Selector{Proto: follow.TCP, Stream: uint32(len(runs))}}
			ru.f = follow.New(follow.TCP, func(c *follow.Chunk) {
				c2 := *c
				c2.Data = append([]byte(nil), c.Data...)
				ru.chunks = append(ru.chunks, c2)
			})
			runs = append(runs, ru)
		}
		if si.TCPStream == 0 {
			continue
		}
		ru := runs[si.TCPStream-1]
		pk := follow.Packet{Frame: uint32(n), Link: p.LinkType, Data: p.Data, WireLen: p.Length, Stream: &si}
		if seg, _, ok := ru.sel.Segment(&pk, nil); ok {
			ru.f.Add(&seg)
		}
	}
	args := []string{"-n", "-r", path, "-q"}
	for i := range runs {
		args = append(args, "-z", fmt.Sprintf("follow,tcp,raw,%d", i))
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("%s: tshark: %v", name, err)
	}
	want := map[string]string{}
	for _, b := range strings.Split(string(out), "\n===================================================================\nFollow: ") {
		if _, rest, ok := strings.Cut(b, "\nFilter: "); ok {
			filter, _, _ := strings.Cut(rest, "\n")
			want[filter] = "Follow: " + b
		}
	}
	var res followResult
	for i, ru := range runs {
		var buf bytes.Buffer
		c, s := ru.f.Nodes()
		tw := follow.NewTextWriter(&buf, follow.TCP, follow.Raw, ru.sel.Filter(), c, s)
		for _, ch := range ru.chunks {
			tw.Chunk(ch.Dir, ch.Data)
			res.bytes += len(ch.Data)
			if ch.Missing != 0 {
				res.gaps++
			}
		}
		tw.Close()
		got := strings.TrimPrefix(buf.String(), "\n===================================================================\n")
		w := want[ru.sel.Filter()]
		if !strings.HasSuffix(w, "===\n") { // the last block keeps its closing line
			w += "\n===================================================================\n"
		}
		if got != w {
			t.Errorf("%s: -z follow,tcp,raw,%d differs from tshark's:\n tshark: %.600q\n pkttap: %.600q", name, i, w, got)
			continue
		}
		res.streams++
	}
	return res
}
