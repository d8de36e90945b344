package web

import (
	"bytes"
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

// TestSampleReused: the Sample button opens the sample capture already
// open instead of adding another copy of the same name each click (the
// copies were the same read-only packets, and the capture menu could not
// tell them apart); deleted, it is made anew. An upload that only has the
// sample's name is not taken for it.
func TestSampleReused(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	sample := func(want int) CaptureInfo {
		t.Helper()
		var info CaptureInfo
		if res := do(t, "POST", ts.URL+"/api/captures/sample", nil, &info); res.StatusCode != want {
			t.Fatalf("sample: status %d, want %d", res.StatusCode, want)
		}
		return info
	}
	list := func() []CaptureInfo {
		t.Helper()
		var l []CaptureInfo
		do(t, "GET", ts.URL+"/api/captures", nil, &l)
		return l
	}
	impostor := upload(t, ts, "pkttap-sample.pcapng", synthetic(t, pcapio.FormatPcapNg, 3))

	first := sample(http.StatusCreated)
	again := sample(http.StatusOK)
	if again.ID != first.ID || again.Name != "pkttap-sample.pcapng" {
		t.Errorf("second click: capture %s %q, want the first one, %s", again.ID, again.Name, first.ID)
	}
	if l := list(); len(l) != 2 || l[0].ID != impostor.ID || l[1].ID != first.ID {
		t.Errorf("captures after two clicks: %+v, want the upload and one sample", l)
	}
	if res := do(t, "DELETE", ts.URL+"/api/captures/"+first.ID, nil, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: status %d", res.StatusCode)
	}
	if anew := sample(http.StatusCreated); anew.ID == first.ID || anew.ID == impostor.ID {
		t.Errorf("sample after delete: %s, want a new capture", anew.ID)
	}
}

// TestCaptureListTellsApart: the capture list carries what the capture menu
// shows to tell captures of one name apart: when each was opened (to the
// millisecond, in a fixed-width form that sorts as text), size, packets,
// and for a live one whether it runs.
func TestCaptureListTellsApart(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	a := waitIndexed(t, ts, upload(t, ts, "trace.pcap", synthetic(t, pcapio.FormatPcap, 5)).ID)
	b := waitIndexed(t, ts, upload(t, ts, "trace.pcap", synthetic(t, pcapio.FormatPcap, 7)).ID)
	var l []CaptureInfo
	do(t, "GET", ts.URL+"/api/captures", nil, &l)
	if len(l) != 2 || l[0].ID != a.ID || l[1].ID != b.ID {
		t.Fatalf("list %+v, want the two uploads, oldest first", l)
	}
	created := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	for _, c := range l {
		if !created.MatchString(c.Created) {
			t.Errorf("%s: created %q, want UTC to the millisecond", c.ID, c.Created)
		}
	}
	if !slices.IsSortedFunc(l, func(x, y CaptureInfo) int { return bytes.Compare([]byte(x.Created), []byte(y.Created)) }) {
		t.Errorf("created %q, %q out of order", l[0].Created, l[1].Created)
	}
	if l[0].Name != l[1].Name || l[0].Packets == l[1].Packets || l[0].Size == l[1].Size {
		t.Errorf("same-named captures: %+v", l)
	}
}
