package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// filterErrorForTest is a compile error as capture returns it, wrapped.
var filterErrorForTest = filter.Error{Expr: "udp prot 53", Column: 5, Msg: `expected a qualifier or an id, found "prot"`}

// fakeBackend is a LiveBackend without a network: its sources hand out
// synthetic Ethernet frames, every wait apart, until closed.
type fakeBackend struct {
	ifaces    []capture.Interface
	listErr   error
	openErr   error
	frame     int           // bytes per frame
	every     time.Duration // between frames
	failAfter int           // a source fails after this many frames (0: never)
	replay    int           // > 0: a source replays frames, this many packets, then none
	frames    [][]byte      // the packets replayed, in turn

	mu     sync.Mutex
	opened []*fakeSource
}

func (b *fakeBackend) Interfaces() ([]capture.Interface, error) {
	return b.ifaces, b.listErr
}

func (b *fakeBackend) Open(o LiveOptions) (LiveSource, error) {
	if b.openErr != nil {
		return nil, b.openErr
	}
	src := &fakeSource{frame: b.frame, every: b.every, failAfter: b.failAfter, replay: b.replay, frames: b.frames, closed: make(chan struct{})}
	b.mu.Lock()
	b.opened = append(b.opened, src)
	b.mu.Unlock()
	return src, nil
}

// fakeSource is a LiveSource that makes numbered frames.
type fakeSource struct {
	frame     int
	every     time.Duration
	failAfter int
	replay    int
	frames    [][]byte
	n         int
	buf       []byte
	closed    chan struct{}
	once      sync.Once

	mu   sync.Mutex
	sent uint64
}

func (s *fakeSource) NextZeroCopy() (pcapio.Packet, error) {
	if s.replay > 0 {
		return s.nextReplay()
	}
	select {
	case <-s.closed:
		return pcapio.Packet{}, capture.ErrClosed
	case <-time.After(s.every):
	}
	if s.failAfter > 0 && s.n == s.failAfter {
		return pcapio.Packet{}, errors.New(`capture: read from "veth0": network is down`)
	}
	s.n++
	s.buf = fakeFrame(s.buf[:0], s.n, s.frame)
	s.mu.Lock()
	s.sent++
	s.mu.Unlock()
	return pcapio.Packet{Timestamp: time.Now(), Data: s.buf, Length: len(s.buf), LinkType: pcapio.LinkTypeEthernet}, nil
}

// nextReplay returns the replayed packets as fast as they are asked for,
// with the synthetic capture's timestamps, then blocks until closed.
func (s *fakeSource) nextReplay() (pcapio.Packet, error) {
	if s.n == s.replay {
		<-s.closed
		return pcapio.Packet{}, capture.ErrClosed
	}
	data := s.frames[s.n%len(s.frames)]
	ts := samplegen.SyntheticStart.Add(time.Duration(s.n) * 100 * time.Microsecond)
	s.n++
	s.mu.Lock()
	s.sent++
	s.mu.Unlock()
	return pcapio.Packet{Timestamp: ts, Data: data, Length: len(data), LinkType: pcapio.LinkTypeEthernet}, nil
}

func (s *fakeSource) LinkType() pcapio.LinkType { return pcapio.LinkTypeEthernet }

func (s *fakeSource) Stats() (capture.Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return capture.Stats{Received: s.sent}, nil
}

func (s *fakeSource) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

func (s *fakeSource) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// fakeFrame appends an Ethernet frame of size bytes (at least 18) whose
// Ether type is the test type and whose payload starts with n.
func fakeFrame(dst []byte, n, size int) []byte {
	dst = append(dst, 0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, 0x88, 0xb5)
	dst = append(dst, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	for len(dst) < size {
		dst = append(dst, byte(len(dst)))
	}
	return dst
}

func fakeInterfaces() []capture.Interface {
	return []capture.Interface{
		{Name: "lo", Index: 1, Up: true, Loopback: true, Addresses: []net.IPNet{{IP: net.IPv4(127, 0, 0, 1), Mask: net.CIDRMask(8, 32)}}, LinkType: pcapio.LinkTypeEthernet},
		{Name: "down0", Index: 3, LinkType: pcapio.LinkTypeEthernet},
		{Name: "veth0", Index: 2, Up: true, Addresses: []net.IPNet{{IP: net.IPv4(198, 18, 0, 2).To4(), Mask: net.CIDRMask(24, 32)}}, LinkType: pcapio.LinkTypeEthernet},
		{Name: "tun0", Index: 4, Up: true, Addresses: []net.IPNet{{IP: net.IPv4(198, 19, 0, 2).To4(), Mask: net.CIDRMask(24, 32)}}, LinkType: pcapio.LinkTypeRaw},
		{Name: "any", Up: true, LinkType: pcapio.LinkTypeLinuxSLL},
	}
}

// startLive posts a live capture request and decodes the answer.
func startLive(t testing.TB, ts *httptest.Server, body string) (*http.Response, CaptureInfo, apiError) {
	t.Helper()
	res := do(t, "POST", ts.URL+"/api/live", strings.NewReader(body), nil, "Content-Type", "application/json")
	var info CaptureInfo
	var e apiError
	raw := new(bytes.Buffer)
	raw.ReadFrom(res.Body)
	if res.StatusCode == http.StatusCreated {
		if err := jsonUnmarshal(raw.Bytes(), &info); err != nil {
			t.Fatalf("decode %q: %v", raw, err)
		}
	} else if err := jsonUnmarshal(raw.Bytes(), &e); err != nil {
		t.Fatalf("decode error %q: %v", raw, err)
	}
	return res, info, e
}

// waitInfo polls a capture until cond holds.
func waitInfo(t testing.TB, ts *httptest.Server, id, what string, cond func(CaptureInfo) bool) CaptureInfo {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var info CaptureInfo
		if res := do(t, "GET", ts.URL+"/api/captures/"+id, nil, &info); res.StatusCode != http.StatusOK {
			t.Fatalf("capture %s: status %d", id, res.StatusCode)
		}
		if cond(info) {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %+v (live %+v)", what, info, info.Live)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestInterfacesAPI(t *testing.T) {
	b := &fakeBackend{ifaces: fakeInterfaces()}
	_, ts := newTestServer(t, Config{Live: b})
	var got []InterfaceInfo
	if res := do(t, "GET", ts.URL+"/api/interfaces", nil, &got); res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	var names []string
	for _, ifc := range got {
		names = append(names, ifc.Name)
	}
	// Up interfaces first, those with addresses among them first, loopback
	// after the others; down ones last.
	if want := "veth0 tun0 any lo down0"; strings.Join(names, " ") != want {
		t.Fatalf("order %q, want %q", strings.Join(names, " "), want)
	}
	if got[0].Index != 2 || !got[0].Up || got[0].Loopback || len(got[0].Addresses) != 1 || got[0].Addresses[0] != "198.18.0.2/24" || got[0].LinkType != "EN10MB" {
		t.Errorf("veth0: %+v", got[0])
	}
	if got[1].LinkType != "RAW" || got[2].LinkType != "LINUX_SLL" {
		t.Errorf("link types: tun0 %q, any %q; want RAW, LINUX_SLL", got[1].LinkType, got[2].LinkType)
	}
	if !got[3].Loopback {
		t.Errorf("lo: %+v", got[3])
	}

	// A listing failure is a JSON error.
	b.listErr = errors.New("capture: list interfaces: netlink: operation not permitted")
	var e apiError
	if res := do(t, "GET", ts.URL+"/api/interfaces", nil, &e); res.StatusCode != http.StatusInternalServerError || !strings.Contains(e.Error, "netlink") {
		t.Errorf("listing failure: status %d, %+v", res.StatusCode, e)
	}
}

// TestLiveBadInput checks the answers to requests that cannot start or stop
// a live capture.
func TestLiveBadInput(t *testing.T) {
	b := &fakeBackend{ifaces: fakeInterfaces(), frame: 60, every: time.Millisecond}
	_, ts := newTestServer(t, Config{Live: b})
	file := waitIndexed(t, ts, upload(t, ts, "f.pcap", synthetic(t, pcapio.FormatPcap, 10)).ID)
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"unknown interface", `{"interface": "nosuch9"}`, http.StatusBadRequest, `no interface named "nosuch9"`},
		{"no interface", `{}`, http.StatusBadRequest, "interface"},
		{"not JSON", `interface=veth0`, http.StatusBadRequest, "JSON"},
		{"snaplen too big", `{"interface": "veth0", "snaplen": 10000000}`, http.StatusBadRequest, "snaplen"},
		{"snaplen negative", `{"interface": "veth0", "snaplen": -1}`, http.StatusBadRequest, "snaplen"},
		{"path as interface", `{"interface": "../../etc/passwd"}`, http.StatusBadRequest, "no interface named"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _, e := startLive(t, ts, tt.body)
			if res.StatusCode != tt.status || !strings.Contains(e.Error, tt.want) {
				t.Errorf("status %d, error %q; want %d with %q", res.StatusCode, e.Error, tt.status, tt.want)
			}
		})
	}
	if len(b.opened) != 0 {
		t.Errorf("%d sources opened for bad requests", len(b.opened))
	}

	stops := []struct {
		name, id string
		status   int
		want     string
	}{
		{"unknown capture", "0123456789abcdef", http.StatusNotFound, "no capture"},
		{"malformed id", "..", http.StatusNotFound, ""},
		{"file capture", file.ID, http.StatusConflict, "not a live capture"},
	}
	for _, tt := range stops {
		t.Run("stop "+tt.name, func(t *testing.T) {
			var e apiError
			res := do(t, "POST", ts.URL+"/api/captures/"+tt.id+"/stop", nil, &e)
			if res.StatusCode != tt.status || !strings.Contains(e.Error, tt.want) {
				t.Errorf("status %d, error %q; want %d with %q", res.StatusCode, e.Error, tt.status, tt.want)
			}
		})
	}

	// Errors from opening pass through with a fitting status: a filter with
	// its column, no permission with what to do.
	fe := fmt.Errorf("capture: filter for veth0: %w", &filterErrorForTest)
	opens := []struct {
		name   string
		err    error
		status int
		want   string
		column int
	}{
		{"permission", fmt.Errorf("capture: live capture on \"veth0\": %w", capture.ErrPermissionDenied), http.StatusForbidden, "CAP_NET_RAW", 0},
		{"filter", fe, http.StatusBadRequest, filterErrorForTest.Msg, filterErrorForTest.Column},
		{"platform", &capture.PlatformError{Op: "open", Interface: "veth0", Err: errors.New("no such device")}, http.StatusBadRequest, "no such device", 0},
	}
	for _, tt := range opens {
		t.Run("open "+tt.name, func(t *testing.T) {
			b.openErr = tt.err
			defer func() { b.openErr = nil }()
			res, _, e := startLive(t, ts, `{"interface": "veth0"}`)
			if res.StatusCode != tt.status || !strings.Contains(e.Error, tt.want) || e.Column != tt.column {
				t.Errorf("status %d, %+v; want %d with %q at column %d", res.StatusCode, e, tt.status, tt.want, tt.column)
			}
		})
	}
	var list []CaptureInfo
	do(t, "GET", ts.URL+"/api/captures", nil, &list)
	if len(list) != 1 {
		t.Errorf("%d captures after failed starts, want the one file", len(list))
	}
}

func TestLiveDisabled(t *testing.T) {
	b := &fakeBackend{ifaces: fakeInterfaces()}
	_, ts := newTestServer(t, Config{Live: b, NoLive: true})
	res, _, e := startLive(t, ts, `{"interface": "veth0"}`)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(e.Error, "--no-live") {
		t.Errorf("start: status %d, %q", res.StatusCode, e.Error)
	}
	if res := do(t, "GET", ts.URL+"/api/interfaces", nil, &e); res.StatusCode != http.StatusForbidden || !strings.Contains(e.Error, "--no-live") {
		t.Errorf("interfaces: status %d, %q", res.StatusCode, e.Error)
	}
	page := do(t, "GET", ts.URL+"/", nil, nil)
	body := new(bytes.Buffer)
	body.ReadFrom(page.Body)
	if !strings.Contains(body.String(), `data-live="off"`) {
		t.Error("the page does not tell the UI that live capture is off")
	}
}

// TestLiveFake runs a live capture from the fake backend: rows grow while
// it runs, stop ends it with the counts, a size limit stops it by itself,
// and deleting a running capture or closing the server stops its source.
func TestLiveFake(t *testing.T) {
	b := &fakeBackend{ifaces: fakeInterfaces(), frame: 100, every: 200 * time.Microsecond}
	_, ts := newTestServer(t, Config{Live: b, MaxLive: 100 * 50})

	res, info, e := startLive(t, ts, `{"interface": "veth0", "filter": "ether proto 0x88b5", "promiscuous": true}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start: status %d, %+v", res.StatusCode, e)
	}
	if info.Live == nil || info.Live.Interface != "veth0" || !info.Live.Promiscuous || info.Live.Snaplen != 262144 || info.Live.Filter != "ether proto 0x88b5" {
		t.Errorf("live info %+v", info.Live)
	}
	// The limit stops it after 50 frames of 100 bytes.
	info = waitInfo(t, ts, info.ID, "the size limit", func(i CaptureInfo) bool { return !i.Live.Running })
	if info.Packets != 50 || info.State != store.StateReady || !strings.Contains(info.Live.Stopped, "--max-live") || info.Live.SpoolBytes != 5000 {
		t.Errorf("after the limit: %d packets, state %s, live %+v", info.Packets, info.State, info.Live)
	}
	if !b.opened[0].isClosed() {
		t.Error("source still open after the limit")
	}
	var rows RowsResponse
	do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/rows?count=100", nil, &rows)
	if len(rows.Rows) != 50 || rows.Indexing {
		t.Fatalf("%d rows, indexing %v", len(rows.Rows), rows.Indexing)
	}
	for i, r := range rows.Rows {
		var p PacketResponse
		do(t, "GET", fmt.Sprintf("%s/api/captures/%s/packets/%d", ts.URL, info.ID, r.No), nil, &p)
		if want := fakeFrame(nil, i+1, 100); !bytes.Equal(p.Data, want) {
			t.Fatalf("packet %d: % x, want % x", r.No, p.Data, want)
		}
	}

	// Stop by request, while it runs.
	b = &fakeBackend{ifaces: fakeInterfaces(), frame: 100, every: time.Millisecond}
	s, ts := newTestServer(t, Config{Live: b})
	_, info2, _ := startLive(t, ts, `{"interface": "veth0"}`)
	waitInfo(t, ts, info2.ID, "some packets", func(i CaptureInfo) bool { return i.Packets >= 5 && i.State == store.StateCapturing })
	var stopped CaptureInfo
	if res := do(t, "POST", ts.URL+"/api/captures/"+info2.ID+"/stop", nil, &stopped); res.StatusCode != http.StatusOK {
		t.Fatalf("stop: status %d", res.StatusCode)
	}
	if stopped.Live.Running || stopped.State != store.StateReady || stopped.Live.Received < uint64(stopped.Packets) || stopped.Live.Stopped != "stopped by request" {
		t.Errorf("after stop: %+v, live %+v", stopped, stopped.Live)
	}
	// Stopping again is harmless.
	if res := do(t, "POST", ts.URL+"/api/captures/"+info2.ID+"/stop", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("second stop: status %d", res.StatusCode)
	}

	// Delete a running capture: its source is closed.
	_, info3, _ := startLive(t, ts, `{"interface": "veth0"}`)
	if res := do(t, "DELETE", ts.URL+"/api/captures/"+info3.ID, nil, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: status %d", res.StatusCode)
	}
	if !b.opened[1].isClosed() {
		t.Error("deleted capture's source still open")
	}

	// Closing the server stops the running ones.
	startLive(t, ts, `{"interface": "veth0"}`)
	ts.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !b.opened[2].isClosed() {
		t.Error("source still open after Server.Close")
	}
}

// TestCompileCaptureFilter: ?interface= checks a capture filter as it will
// be compiled for a live capture on that interface.
func TestCompileCaptureFilter(t *testing.T) {
	_, ts := newTestServer(t, Config{Live: &fakeBackend{ifaces: fakeInterfaces()}})
	tests := []struct {
		query  string
		valid  bool
		lt     string
		column int
	}{
		{"expr=udp+dst+port+5555&interface=veth0", true, "EN10MB", 0},
		{"expr=udp+port+port&interface=veth0", false, "EN10MB", 10},
		{"expr=tcp&interface=any", true, "LINUX_SLL", 0},
		{"expr=&interface=veth0", true, "EN10MB", 0},
		// The interface's own link type: no Ethernet header on a tun.
		{"expr=ip+and+udp&interface=tun0", true, "RAW", 0},
		{"expr=ether+host+1:2:3:4:5:6&interface=tun0", false, "RAW", 12},
		{"expr=ether+host+1:2:3:4:5:6&interface=veth0", true, "EN10MB", 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var got CompileResponse
			res := do(t, "GET", ts.URL+"/api/filter?"+tt.query, nil, &got)
			if res.StatusCode != http.StatusOK || got.Valid != tt.valid || got.LinkType != tt.lt || got.Column != tt.column {
				t.Errorf("status %d, %+v; want 200, valid %v, link type %q, column %d", res.StatusCode, got, tt.valid, tt.lt, tt.column)
			}
		})
	}
}

// TestLiveWebSocket: a running live capture reaches a WebSocket client as
// snapshots whose packet count grows, at most one per wsMinInterval however
// fast packets arrive, with a slow reader getting fewer, fresher ones; the
// snapshot after stop has the final count.
func TestLiveWebSocket(t *testing.T) {
	b := &fakeBackend{ifaces: fakeInterfaces(), frame: 80, every: 50 * time.Microsecond}
	_, ts := newTestServer(t, Config{Live: b})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := dialWS(ctx, t, ts)
	if _, _, err := conn.Read(ctx); err != nil { // the initial snapshot
		t.Fatal(err)
	}
	_, info, _ := startLive(t, ts, `{"interface": "veth0"}`)
	start := time.Now()
	var msgs int
	var counts []int64
	for time.Since(start) < 1500*time.Millisecond {
		_, raw, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		msgs++
		var m stateMessage
		if err := jsonUnmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Captures) == 1 && m.Captures[0].Live != nil && m.Captures[0].Live.Running {
			counts = append(counts, m.Captures[0].Packets)
		}
		if msgs == 3 {
			time.Sleep(500 * time.Millisecond) // a slow reader
		}
	}
	elapsed := time.Since(start)
	if max := int(elapsed/wsMinInterval) + 2; msgs > max {
		t.Errorf("%d messages in %v: more than one per %v", msgs, elapsed, wsMinInterval)
	}
	if len(counts) < 3 || !slices.IsSorted(counts) || counts[0] == counts[len(counts)-1] {
		t.Errorf("packet counts in the snapshots: %v, want a growing series", counts)
	}
	var stopped CaptureInfo
	do(t, "POST", ts.URL+"/api/captures/"+info.ID+"/stop", nil, &stopped)
	for {
		_, raw, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var m stateMessage
		jsonUnmarshal(raw, &m)
		if c := m.Captures[0]; !c.Live.Running {
			if c.Packets != stopped.Packets || c.State != store.StateReady {
				t.Errorf("after stop the snapshot says %d packets, %s; the stop answered %d", c.Packets, c.State, stopped.Packets)
			}
			break
		}
	}
	t.Logf("%d snapshots in %v, counts %v", msgs, elapsed, counts)
}

// TestLiveReadError: a source that fails ends the capture in the error
// state with the cause, the packets before it kept.
func TestLiveReadError(t *testing.T) {
	b := &fakeBackend{ifaces: fakeInterfaces(), frame: 64, every: time.Millisecond, failAfter: 25}
	_, ts := newTestServer(t, Config{Live: b})
	_, info, _ := startLive(t, ts, `{"interface": "veth0"}`)
	info = waitInfo(t, ts, info.ID, "the read error", func(i CaptureInfo) bool { return !i.Live.Running })
	if info.State != store.StateError || info.Packets != 25 || !strings.Contains(info.Error, "network is down") || info.Live.Stopped != "read error" {
		t.Errorf("after a read error: %d packets, state %s, error %q, live %+v", info.Packets, info.State, info.Error, info.Live)
	}
	if !b.opened[0].isClosed() {
		t.Error("failed source not closed")
	}
}

// windowsInterfaces are interfaces as Npcap and Windows list them.
func windowsInterfaces() []capture.Interface {
	return []capture.Interface{
		{Name: `\Device\NPF_{11111111-2222-3333-4444-555555555555}`, FriendlyName: "Ethernet", Description: "Intel(R) Ethernet Connection",
			Index: 7, Up: true, Addresses: []net.IPNet{{IP: net.IPv4(198, 18, 0, 7).To4(), Mask: net.CIDRMask(24, 32)}}, LinkType: pcapio.LinkTypeEthernet},
		{Name: `\Device\NPF_Loopback`, FriendlyName: "Loopback Pseudo-Interface 1", Description: "Adapter for loopback traffic capture",
			Index: 1, Up: true, Loopback: true, LinkType: pcapio.LinkTypeNull},
	}
}

// TestInterfacesFriendlyName: the API lists Windows' friendly names beside
// the device names, and takes either to start a live capture or to check
// a capture filter.
func TestInterfacesFriendlyName(t *testing.T) {
	b := &fakeBackend{ifaces: windowsInterfaces(), frame: 60, every: time.Millisecond}
	_, ts := newTestServer(t, Config{Live: b})
	var got []InterfaceInfo
	if res := do(t, "GET", ts.URL+"/api/interfaces", nil, &got); res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if len(got) != 2 || got[0].FriendlyName != "Ethernet" || got[0].Name != `\Device\NPF_{11111111-2222-3333-4444-555555555555}` ||
		got[0].Description != "Intel(R) Ethernet Connection" || got[1].FriendlyName != "Loopback Pseudo-Interface 1" {
		t.Fatalf("interfaces %+v", got)
	}
	// A capture filter for the loopback adapter by its friendly name is
	// compiled for its link type (NULL), not Ethernet's.
	var prog struct {
		LinkType string `json:"linkType"`
	}
	if res := do(t, "GET", ts.URL+"/api/filter?expr=ip6&interface="+url.QueryEscape("loopback pseudo-interface 1"), nil, &prog); res.StatusCode != http.StatusOK || prog.LinkType != "NULL" {
		t.Errorf("filter for the loopback adapter by friendly name: status %d, link type %q", res.StatusCode, prog.LinkType)
	}
	for _, name := range []string{"Ethernet", "ethernet", `\\Device\\NPF_{11111111-2222-3333-4444-555555555555}`} {
		res, info, e := startLive(t, ts, `{"interface":"`+name+`"}`)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("start on %s: status %d, %+v", name, res.StatusCode, e)
		}
		do(t, "POST", ts.URL+"/api/captures/"+info.ID+"/stop", nil, nil)
	}
	if res, _, e := startLive(t, ts, `{"interface":"Wi-Fi"}`); res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusNotFound {
		t.Errorf("start on an unknown friendly name: status %d, %+v", res.StatusCode, e)
	}
}

// TestLiveSnaplenZeroMeansMax: a live capture's snaplen 0 (or none given)
// means 262144, libpcap's maximum, as in package capture and in tcpdump -s
// 0: the capture's info says so, the refusal of a bad value says so, and a
// capture filter checked for an interface returns tcpdump's snap length.
func TestLiveSnaplenZeroMeansMax(t *testing.T) {
	b := &fakeBackend{ifaces: fakeInterfaces(), frame: 60, every: time.Millisecond}
	_, ts := newTestServer(t, Config{Live: b})
	for _, body := range []string{`{"interface": "veth0"}`, `{"interface": "veth0", "snaplen": 0}`} {
		res, info, e := startLive(t, ts, body)
		if res.StatusCode != http.StatusCreated || info.Live == nil || info.Live.Snaplen != 262144 {
			t.Errorf("start %s: status %d %+v, live %+v; want snaplen 262144", body, res.StatusCode, e, info.Live)
		}
	}
	if _, _, e := startLive(t, ts, `{"interface": "veth0", "snaplen": 262145}`); !strings.Contains(e.Error, "0 means 262144") {
		t.Errorf("snaplen 262145: %q; want it to say 0 means 262144", e.Error)
	}
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	want, err := exec.Command(tcpdump, "-d", "-s", "0", "-y", "EN10MB", "").Output()
	if err != nil {
		t.Fatal(err)
	}
	var cr CompileResponse
	if res := do(t, "GET", ts.URL+"/api/filter?interface=veth0&expr=", nil, &cr); res.StatusCode != http.StatusOK || cr.Program != string(want) {
		t.Errorf("compile for veth0: status %d, program %q; tcpdump -d -s 0 prints %q", res.StatusCode, cr.Program, want)
	}
}
