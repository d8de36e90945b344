package web

import (
	"slices"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testpkt"
)

// TestChecksumPreference: the rows and the packet tree leave TCP, UDP,
// IPv4 and SCTP checksums unverified, as Wireshark does by default, so a
// capture taken on a host with checksum offload is not a list of red rows;
// ?checksums=1 verifies them. ICMP checksums are always verified, as in
// Wireshark.
func TestChecksumPreference(t *testing.T) {
	eth := func(body []byte) []byte {
		h := append(append(append([]byte{}, testpkt.MACB...), testpkt.MACA...), testpkt.EtherTypeIPv4>>8, testpkt.EtherTypeIPv4&0xff)
		return append(h, body...)
	}
	frames := [][]byte{
		// A SYN whose checksum was left 0: wrong.
		eth(testpkt.IPv4(testpkt.ProtoTCP, testpkt.IPv4A, testpkt.IPv4B, testpkt.TCP(49152, 443, 1, 0x02, 64240, nil))),
		// An echo request whose checksum was left 0: wrong.
		eth(testpkt.IPv4(1, testpkt.IPv4A, testpkt.IPv4B, []byte{8, 0, 0, 0, 0, 1, 0, 1})),
	}
	_, ts := newTestServer(t, Config{})
	id := waitIndexed(t, ts, upload(t, ts, "sums.pcapng", spbCapture(frames)).ID).ID
	base := ts.URL + "/api/captures/" + id

	for _, tt := range []struct {
		query string
		tags  [][]string // of each row
		tcp   []string   // tcp.checksum and tcp.checksum.status labels of packet 1
	}{
		{"", [][]string{{"tcp-syn"}, {"bad-checksum"}}, []string{"Checksum: 0x0000 [unverified]", "[Checksum Status: Unverified]"}},
		{"checksums=0", [][]string{{"tcp-syn"}, {"bad-checksum"}}, []string{"Checksum: 0x0000 [unverified]", "[Checksum Status: Unverified]"}},
		{"checksums=1", [][]string{{"tcp-syn", "bad-checksum"}, {"bad-checksum"}}, []string{"Checksum: 0x0000 incorrect", "[Checksum Status: Bad]"}},
	} {
		t.Run(tt.query, func(t *testing.T) {
			var rows RowsResponse
			do(t, "GET", base+"/rows?count=10&"+tt.query, nil, &rows)
			if len(rows.Rows) != len(frames) {
				t.Fatalf("%d rows, want %d", len(rows.Rows), len(frames))
			}
			for i, r := range rows.Rows {
				if !slices.Equal(r.Tags, tt.tags[i]) {
					t.Errorf("row %d: tags %q, want %q", r.No, r.Tags, tt.tags[i])
				}
			}
			var p PacketResponse
			do(t, "GET", base+"/packets/1?"+tt.query, nil, &p)
			if !slices.Equal(p.Tags, tt.tags[0]) {
				t.Errorf("packet 1: tags %q, want %q", p.Tags, tt.tags[0])
			}
			var labels []string
			var walk func([]TreeNode)
			walk = func(ns []TreeNode) {
				for _, n := range ns {
					if strings.HasPrefix(n.Field, "tcp.checksum") {
						labels = append(labels, n.Label)
					}
					walk(n.Children)
				}
			}
			walk(p.Tree)
			if !slices.Equal(labels, tt.tcp) {
				t.Errorf("packet 1: TCP checksum lines %q, want %q", labels, tt.tcp)
			}
		})
	}
	for _, q := range []string{"checksums=yes", "checksums=2"} {
		for _, path := range []string{"/rows?", "/packets/1?"} {
			var e apiError
			if res := do(t, "GET", base+path+q, nil, &e); res.StatusCode != 400 || !strings.Contains(e.Error, "checksums") {
				t.Errorf("%s%s: status %d, %+v; want 400 naming the parameter", path, q, res.StatusCode, e)
			}
		}
	}
}
