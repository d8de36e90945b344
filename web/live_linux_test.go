package web

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/store"
)

// nsBackend is the capture package's backend run inside one network
// namespace: interfaces are listed and sockets opened there.
type nsBackend struct {
	t  testing.TB
	ns string
}

func (b nsBackend) Interfaces() (ifs []capture.Interface, err error) {
	netnstest.Run(b.t, b.ns, func() { ifs, err = CaptureBackend{}.Interfaces() })
	return ifs, err
}

func (b nsBackend) Open(o LiveOptions) (src LiveSource, err error) {
	netnstest.Run(b.t, b.ns, func() { src, err = CaptureBackend{}.Open(o) })
	return src, err
}

// newLiveServer makes a namespace pair and a server that captures in
// namespace B.
func newLiveServer(t *testing.T, cfg Config) (*netnstest.Pair, *httptest.Server) {
	t.Helper()
	pair := netnstest.NewPair(t, netnstest.Options{Name: "web", Static: true})
	cfg.Live = nsBackend{t: t, ns: pair.NSB}
	_, ts := newTestServer(t, cfg)
	return pair, ts
}

// livePayloads returns n UDP payloads of varied lengths, each naming its
// number.
func livePayloads(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf("%s %04d %s", prefix, i, strings.Repeat("x", i%7*20)))
	}
	return out
}

// TestLiveAPI captures for real on the veth in namespace B: the interface
// list, a capture filter, rows and bytes while it runs, a display filter,
// stop with counts, and a .pcapng download read back by tshark with the
// bytes and timestamps the API served.
func TestLiveAPI(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	pair, ts := newLiveServer(t, Config{})

	var ifs []InterfaceInfo
	if res := do(t, "GET", ts.URL+"/api/interfaces", nil, &ifs); res.StatusCode != http.StatusOK {
		t.Fatalf("interfaces: status %d", res.StatusCode)
	}
	i := slices.IndexFunc(ifs, func(ifc InterfaceInfo) bool { return ifc.Name == pair.IfB })
	if i < 0 {
		t.Fatalf("%s not in %+v", pair.IfB, ifs)
	}
	if ifc := ifs[i]; !ifc.Up || ifc.Loopback || ifc.Index != pair.IndexB || !slices.Contains(ifc.Addresses, pair.CIDRB) || ifc.LinkType != "EN10MB" {
		t.Errorf("%s: %+v", pair.IfB, ifc)
	}

	res, info, e := startLive(t, ts, fmt.Sprintf(`{"interface": %q, "filter": "udp dst port 5555", "promiscuous": true}`, pair.IfB))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start: status %d: %+v", res.StatusCode, e)
	}
	if info.State != store.StateCapturing || info.Live == nil || !info.Live.Running {
		t.Fatalf("after start: %+v", info)
	}
	if n := netnstest.Promiscuity(t, pair.NSB, pair.IfB); n != 1 {
		t.Errorf("promiscuity %d while capturing with promiscuous: true, want 1", n)
	}
	base := ts.URL + "/api/captures/" + info.ID

	const n = 40
	want := livePayloads("live", n)
	pair.SendUDP(t, 5555, want[:n/2]...)
	pair.SendUDP(t, 6666, livePayloads("other", 10)...) // the capture filter drops these
	pair.SendUDP(t, 5555, want[n/2:]...)

	waitInfo(t, ts, info.ID, fmt.Sprintf("%d packets", n), func(i CaptureInfo) bool { return i.Packets >= n })
	var rows RowsResponse
	do(t, "GET", base+"/rows?count=100", nil, &rows)
	if rows.Total != n || len(rows.Rows) != n || !rows.Indexing {
		t.Fatalf("rows while running: total %d, %d rows, indexing %v", rows.Total, len(rows.Rows), rows.Indexing)
	}
	served := make([][]byte, n)
	for k, r := range rows.Rows {
		var p PacketResponse
		do(t, "GET", fmt.Sprintf("%s/packets/%d", base, r.No), nil, &p)
		if !bytes.HasSuffix(p.Data, want[k]) || p.Protocol != "UDP" || r.Length != 14+20+8+len(want[k]) {
			t.Fatalf("packet %d: %s %q (%d bytes), want payload %q", r.No, p.Protocol, p.Data, r.Length, want[k])
		}
		served[k] = p.Data
	}

	// A display filter over what has arrived: the payloads of 0..n-1 are
	// longer than 100 bytes for i%7 >= 4.
	long := 0
	for _, p := range want {
		if len(p) > 100-42 {
			long++
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var fr RowsResponse
		do(t, "GET", base+"/rows?count=100&filter=len+%3E+100", nil, &fr)
		if fr.Progress != nil && fr.Progress.Scanned == n {
			if fr.Displayed != long || len(fr.Rows) != long {
				t.Fatalf("display filter: %d displayed, %d rows, want %d", fr.Displayed, len(fr.Rows), long)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("display filter not done: %+v", fr.Progress)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A download while running holds what has arrived.
	dl := do(t, "GET", base+"/download?format=pcapng", nil, nil)
	body := new(bytes.Buffer)
	body.ReadFrom(dl.Body)
	if got := readCapture(t, body.Bytes()); dl.StatusCode != http.StatusOK || len(got) != n {
		t.Fatalf("download while running: status %d, %d packets", dl.StatusCode, len(got))
	}

	var stopped CaptureInfo
	if res := do(t, "POST", base+"/stop", nil, &stopped); res.StatusCode != http.StatusOK {
		t.Fatalf("stop: status %d", res.StatusCode)
	}
	if stopped.Live.Running || stopped.State != store.StateReady || stopped.Packets != n || stopped.Live.Received < n || stopped.Live.Dropped != 0 {
		t.Errorf("after stop: %+v, live %+v", stopped, stopped.Live)
	}
	if n := netnstest.Promiscuity(t, pair.NSB, pair.IfB); n != 0 {
		t.Errorf("promiscuity %d after stop, want 0", n)
	}
	pair.SendUDP(t, 5555, want[:3]...)
	time.Sleep(100 * time.Millisecond)
	if after := waitIndexed(t, ts, info.ID); after.Packets != n {
		t.Errorf("%d packets after stop, want %d", after.Packets, n)
	}

	// The .pcapng download after stop, read by tshark: the bytes and
	// timestamps the API served.
	dl = do(t, "GET", base+"/download?format=pcapng", nil, nil)
	body.Reset()
	body.ReadFrom(dl.Body)
	path := filepath.Join(t.TempDir(), "live.pcapng")
	if err := os.WriteFile(path, body.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tshark, "-r", path, "-T", "json", "-x").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	var pkts []struct {
		Source struct {
			Layers struct {
				FrameRaw []any `json:"frame_raw"`
				Frame    struct {
					Epoch string `json:"frame.time_epoch"`
					Iface struct {
						Name string `json:"frame.interface_name"`
					} `json:"frame.interface_id_tree"`
				} `json:"frame"`
			} `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &pkts); err != nil {
		t.Fatalf("tshark JSON: %v", err)
	}
	if len(pkts) != n {
		t.Fatalf("tshark reads %d packets, want %d", len(pkts), n)
	}
	for k, p := range pkts {
		r, l := rows.Rows[k], p.Source.Layers
		if want := fmt.Sprintf("%d.%09d", r.Sec, r.Nsec); l.Frame.Epoch != want {
			t.Errorf("tshark packet %d: time %s, want %s", k+1, l.Frame.Epoch, want)
		}
		if l.Frame.Iface.Name != pair.IfB {
			t.Errorf("tshark packet %d: interface %q, want %s", k+1, l.Frame.Iface.Name, pair.IfB)
		}
		if len(l.FrameRaw) == 0 || l.FrameRaw[0] != hex.EncodeToString(served[k]) {
			t.Errorf("tshark packet %d: bytes %v, want %x", k+1, l.FrameRaw, served[k])
		}
	}
}

// TestLiveLimitAndErrors: the size limit stops a real capture by itself
// with a message saying why; the snap length cuts packets; an unknown
// interface and a garbage filter are refused with what is wrong (the filter
// with its column).
func TestLiveLimitAndErrors(t *testing.T) {
	pair, ts := newLiveServer(t, Config{MaxLive: 2000})
	for _, tt := range []struct {
		name, body string
		status     int
		want       string
		column     bool
	}{
		{"unknown interface", `{"interface": "nosuch0"}`, http.StatusBadRequest, `no interface named "nosuch0"`, false},
		{"garbage filter", fmt.Sprintf(`{"interface": %q, "filter": "udp port port"}`, pair.IfB), http.StatusBadRequest, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, _, e := startLive(t, ts, tt.body)
			if res.StatusCode != tt.status || !strings.Contains(e.Error, tt.want) || (e.Column > 0) != tt.column {
				t.Errorf("status %d, %+v; want %d with %q (column: %v)", res.StatusCode, e, tt.status, tt.want, tt.column)
			}
		})
	}

	res, info, e := startLive(t, ts, fmt.Sprintf(`{"interface": %q, "filter": "udp"}`, pair.IfB))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start: status %d: %+v", res.StatusCode, e)
	}
	payload := bytes.Repeat([]byte{'z'}, 58) // 100-byte frames
	for range 30 {
		pair.SendUDP(t, 7777, payload)
	}
	info = waitInfo(t, ts, info.ID, "the limit", func(i CaptureInfo) bool { return !i.Live.Running })
	if info.Packets != 20 || info.State != store.StateReady || !strings.Contains(info.Live.Stopped, "--max-live") {
		t.Errorf("after the limit: %d packets, state %s, live %+v", info.Packets, info.State, info.Live)
	}

	// A snap length of 60 cuts a 242-byte frame, which keeps its length.
	res, info, e = startLive(t, ts, fmt.Sprintf(`{"interface": %q, "filter": "udp port 8888", "snaplen": 60}`, pair.IfB))
	if res.StatusCode != http.StatusCreated || info.Live.Snaplen != 60 {
		t.Fatalf("start with snaplen 60: status %d: %+v %+v", res.StatusCode, e, info.Live)
	}
	pair.SendUDP(t, 8888, bytes.Repeat([]byte{'s'}, 200))
	waitInfo(t, ts, info.ID, "the cut packet", func(i CaptureInfo) bool { return i.Packets == 1 })
	var p PacketResponse
	do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/packets/1", nil, &p)
	if len(p.Data) != 60 || p.CapLen != 60 || p.Length != 242 || !p.Truncated {
		t.Errorf("packet with snaplen 60: %d bytes, caplen %d, length %d, truncated %v", len(p.Data), p.CapLen, p.Length, p.Truncated)
	}
}

// TestLiveInterfaceDown: a live capture on an interface that is down is
// refused up front, naming the interface and saying it is down, and leaves
// no capture behind (it was accepted, then ended as "the interface went
// down" although it never was up, and stayed in the capture menu empty);
// one that goes down while capturing ends saying it went down, keeping
// what it captured.
func TestLiveInterfaceDown(t *testing.T) {
	dir := t.TempDir()
	pair, ts := newLiveServer(t, Config{DataDir: dir})
	link := func(state string) {
		t.Helper()
		if out, err := exec.Command("ip", "-n", pair.NSB, "link", "set", pair.IfB, state).CombinedOutput(); err != nil {
			t.Fatalf("ip link set %s %s: %v\n%s", pair.IfB, state, err, out)
		}
	}
	entries := func() []string {
		t.Helper()
		des, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		return names
	}
	before := entries()

	link("down")
	res, _, e := startLive(t, ts, fmt.Sprintf(`{"interface": %q}`, pair.IfB))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(e.Error, pair.IfB) || !strings.Contains(e.Error, "is down") || strings.Contains(e.Error, "went down") {
		t.Errorf("start on a down interface: status %d, %+v; want 400 naming %s and saying it is down", res.StatusCode, e, pair.IfB)
	}
	var list []CaptureInfo
	if do(t, "GET", ts.URL+"/api/captures", nil, &list); len(list) != 0 {
		t.Errorf("captures after the refusal: %+v, want none", list)
	}
	if after := entries(); !slices.Equal(after, before) {
		t.Errorf("data dir after the refusal: %v, want %v", after, before)
	}

	link("up")
	res, info, e := startLive(t, ts, fmt.Sprintf(`{"interface": %q, "filter": "udp port 5555"}`, pair.IfB))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start on the interface up again: status %d: %+v", res.StatusCode, e)
	}
	pair.SendUDP(t, 5555, livePayloads("up", 3)...)
	waitInfo(t, ts, info.ID, "3 packets", func(i CaptureInfo) bool { return i.Packets == 3 })
	link("down")
	info = waitInfo(t, ts, info.ID, "the capture to end", func(i CaptureInfo) bool { return !i.Live.Running })
	if info.State != store.StateError || !strings.Contains(info.Error, "went down") || info.Packets != 3 {
		t.Errorf("after the interface went down: state %s, error %q, %d packets; want error saying it went down, 3 packets", info.State, info.Error, info.Packets)
	}
}
