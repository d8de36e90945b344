package web

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
)

// nullCapture returns a classic pcap file of link type NULL in byte order
// bo whose packets carry the given address family words (in bo, as BSD
// writes them) followed by an IPv6 header (or an IPv4 one for family 2).
func nullCapture(bo binary.AppendByteOrder, families []uint32) []byte {
	var b []byte
	b = bo.AppendUint32(b, 0xa1b2c3d4)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 65535)
	b = bo.AppendUint32(b, 0) // LINKTYPE_NULL
	for i, fam := range families {
		var pkt []byte
		pkt = bo.AppendUint32(pkt, fam)
		if fam == 2 {
			ip := make([]byte, 20)
			ip[0], ip[9] = 0x45, 17
			binary.BigEndian.PutUint16(ip[2:], 20)
			pkt = append(pkt, ip...)
		} else {
			ip := make([]byte, 40)
			ip[0], ip[6], ip[7] = 0x60, 59, 64 // no next header
			pkt = append(pkt, ip...)
		}
		b = bo.AppendUint32(b, uint32(1_700_000_000+i))
		b = bo.AppendUint32(b, 0)
		b = bo.AppendUint32(b, uint32(len(pkt)))
		b = bo.AppendUint32(b, uint32(len(pkt)))
		b = append(b, pkt...)
	}
	return b
}

// TestSavefileByteOrder checks that filters on an uploaded capture compile
// as libpcap does for a file: on NULL, "ip6" tests the BSD families 24, 28
// and 30 with the family word in the file's byte order, and "inbound" is
// refused where the link type does not record a direction.
func TestSavefileByteOrder(t *testing.T) {
	families := []uint32{2, 24, 28, 30, 2, 24}
	want := []int{2, 3, 4, 6}
	_, ts := newTestServer(t, Config{})
	for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			data := nullCapture(bo, families)
			id := waitIndexed(t, ts, upload(t, ts, "null.pcap", data).ID).ID
			if st := waitFilter(t, ts, id, "ip6"); st.Error != "" || st.Scanned != len(families) {
				t.Fatalf("filter ip6: %+v", st)
			}
			var r RowsResponse
			do(t, "GET", ts.URL+"/api/captures/"+id+"/rows?count=100&filter=ip6", nil, &r)
			var got []int
			for _, row := range r.Rows {
				got = append(got, row.No)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("ip6 matches packets %v, want %v", got, want)
			}
			var c CompileResponse
			if res := do(t, "GET", ts.URL+"/api/filter?expr=inbound&capture="+id, nil, &c); res.StatusCode != http.StatusOK || c.Valid || c.Error == "" {
				t.Errorf("inbound on a NULL capture: status %d, %+v; want 200, not valid", res.StatusCode, c)
			}
			if testing.Short() {
				return
			}
			tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
			f := filepath.Join(t.TempDir(), "null.pcap")
			if err := os.WriteFile(f, data, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(tcpdump, "-n", "-r", f, "ip6").Output()
			if err != nil {
				t.Fatalf("tcpdump: %v", err)
			}
			if n := strings.Count(strings.TrimSpace(string(out)), "\n") + 1; len(out) == 0 || n != len(want) {
				t.Errorf("tcpdump matches %d packets, this test expects %d:\n%s", n, len(want), out)
			}
		})
	}
}
