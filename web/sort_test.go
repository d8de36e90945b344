package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

// TestSortREST sorts a capture through the API, of every packet and of a
// filter's, by a column both ways, reading the rows in pages: the order is
// a stable sort of the unsorted rows (ties in packet number order), and
// Go to packet answers positions in that order.
func TestSortREST(t *testing.T) {
	const n = 1500
	_, ts := newTestServer(t, Config{})
	id := waitIndexed(t, ts, upload(t, ts, "s.pcap", synthetic(t, pcapio.FormatPcap, n)).ID).ID
	base := ts.URL + "/api/captures/" + id
	for _, tt := range []struct{ col, order, filter string }{
		{"len", "asc", ""}, {"len", "desc", ""}, {"proto", "desc", "tcp or udp"}, {"info", "asc", "udp"}, {"src", "desc", ""}, {"no", "desc", ""},
	} {
		t.Run(tt.col+"/"+tt.order+"/"+tt.filter, func(t *testing.T) {
			q := "&filter=" + url.QueryEscape(tt.filter)
			var plain RowsResponse
			if res := do(t, "GET", base+"/rows?count=2000"+q, nil, &plain); res.StatusCode != http.StatusOK {
				t.Fatalf("rows: status %d", res.StatusCode)
			}
			if tt.filter != "" {
				waitFilter(t, ts, id, tt.filter)
				do(t, "GET", base+"/rows?count=2000"+q, nil, &plain)
			}
			key := func(r Row) string {
				switch tt.col {
				case "len":
					return fmt.Sprintf("%08d", r.Length)
				case "proto":
					return r.Protocol
				case "info":
					return r.Info
				case "src":
					return r.Source
				}
				return fmt.Sprintf("%08d", r.No)
			}
			want := slices.Clone(plain.Rows)
			slices.SortStableFunc(want, func(a, b Row) int {
				c := cmp.Compare(key(a), key(b))
				if tt.order == "desc" {
					c = -c
				}
				return c
			})
			var st SortStatus
			sq := "sort=" + tt.col + "&order=" + tt.order + q
			if res := do(t, "POST", base+"/sort?"+sq, nil, &st); res.StatusCode != http.StatusOK || st.Column != tt.col {
				t.Fatalf("POST sort: status %d, %+v", res.StatusCode, st)
			}
			var got []Row
			for start := 0; start < len(want); start += 400 {
				var r RowsResponse
				if res := do(t, "GET", fmt.Sprintf("%s/rows?start=%d&count=400&%s", base, start, sq), nil, &r); res.StatusCode != http.StatusOK {
					t.Fatalf("sorted rows: status %d", res.StatusCode)
				}
				if r.Sort == nil || !r.Sort.Done || r.Displayed != len(want) {
					t.Fatalf("sorted rows: sort %+v, displayed %d, want %d", r.Sort, r.Displayed, len(want))
				}
				got = append(got, r.Rows...)
			}
			if len(got) != len(want) {
				t.Fatalf("%d sorted rows, want %d", len(got), len(want))
			}
			for k := range want {
				if got[k].No != want[k].No {
					t.Fatalf("position %d: packet %d, want %d", k, got[k].No, want[k].No)
				}
			}
			for _, k := range []int{0, len(want) / 3, len(want) - 1} {
				var pos struct {
					Position int
					Exact    bool
				}
				if res := do(t, "GET", fmt.Sprintf("%s/position?no=%d&%s", base, want[k].No, sq), nil, &pos); res.StatusCode != http.StatusOK || pos.Position != k || !pos.Exact {
					t.Errorf("position of packet %d: status %d, %+v, want %d", want[k].No, res.StatusCode, pos, k)
				}
			}
		})
	}
}

// TestSortRESTErrors answers bad sorts with 400 and a message naming the
// fault, and cancels a sort with DELETE.
func TestSortRESTErrors(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	id := waitIndexed(t, ts, upload(t, ts, "s.pcap", synthetic(t, pcapio.FormatPcap, 20)).ID).ID
	base := ts.URL + "/api/captures/" + id
	for _, tt := range []struct{ method, path, want string }{
		{"GET", "/rows?sort=nope", `"nope"`},
		{"GET", "/rows?sort=len&order=up", `"up"`},
		{"POST", "/sort", "parameter sort is missing"},
		{"GET", "/rows?fields=ip.ttl,ip.nonesuch", `"ip.nonesuch"`},
		{"GET", "/position?no=3&sort=x.y", `"x.y"`},
		{"GET", "/rows?names=mx", `"mx"`},
		{"GET", "/packets/1?names=n", `"n"`},
	} {
		var e apiError
		if res := do(t, tt.method, base+tt.path, nil, &e); res.StatusCode != http.StatusBadRequest || !strings.Contains(e.Error, tt.want) {
			t.Errorf("%s %s: status %d, %q, want 400 naming %s", tt.method, tt.path, res.StatusCode, e.Error, tt.want)
		}
	}
	do(t, "POST", base+"/sort?sort=len", nil, nil)
	if res := do(t, "DELETE", base+"/sort?sort=len", nil, nil); res.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE sort: status %d", res.StatusCode)
	}
	if res := do(t, "DELETE", base+"/sort?sort=len", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE of no sort: status %d", res.StatusCode)
	}
}

// TestFieldColumnsREST returns custom columns with the rows, sorted or not.
func TestFieldColumnsREST(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	id := waitIndexed(t, ts, upload(t, ts, "s.pcap", synthetic(t, pcapio.FormatPcap, 30)).ID).ID
	var r RowsResponse
	if res := do(t, "GET", ts.URL+"/api/captures/"+id+"/rows?count=30&fields=ip.ttl,udp.dstport&sort=len&order=desc", nil, &r); res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if len(r.Fields) != len(r.Rows) || len(r.Rows) != 30 {
		t.Fatalf("%d rows, %d fields", len(r.Rows), len(r.Fields))
	}
	for k, row := range r.Rows {
		wantPort := ""
		if row.Protocol == "DNS" {
			wantPort = "53"
		}
		wantTTL := "64"
		if row.Protocol == "ARP" {
			wantTTL = ""
		}
		if r.Fields[k][0] != wantTTL || r.Fields[k][1] != wantPort {
			t.Errorf("packet %d (%s): fields %q, want [%q %q]", row.No, row.Protocol, r.Fields[k], wantTTL, wantPort)
		}
	}
}
