package web

import (
	"bytes"
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
	"github.com/pkttap/pkttap/capture/remote"
	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/sshdtest"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/store"
)

// remoteHosts are real OpenSSH servers, each in its own namespace pair
// (internal/sshdtest), that a test server reaches as remote hosts: its
// SSH dialer connects from side A of the pair whose server is dialed.
type remoteHosts struct {
	srv   []*sshdtest.Server
	known string // the test server's known_hosts file (empty at first)
	key   string // the user key every host authorizes
}

// startRemoteHosts starts n servers; every one authorizes the first
// one's user key, which the test server offers as "id_ed25519".
func startRemoteHosts(t *testing.T, n int, o sshdtest.Options) *remoteHosts {
	t.Helper()
	h := &remoteHosts{known: filepath.Join(t.TempDir(), "known_hosts")}
	for i := range n {
		s := sshdtest.Start(t, o)
		h.srv = append(h.srv, s)
		if i == 0 {
			h.key = s.UserKey
			continue
		}
		pub, err := os.ReadFile(h.key + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		sshdtest.WriteFile(t, filepath.Join(s.Dir, "authorized_keys"), string(pub), 0o600)
	}
	return h
}

// options returns the SSHOptions of a test server that reaches the hosts.
func (h *remoteHosts) options(t *testing.T) SSHOptions {
	return SSHOptions{
		KnownHostsFile: h.known, KeyFiles: []string{h.key},
		Dial: func(cfg remote.SSHConfig) (host *remote.Host, err error) {
			for _, s := range h.srv {
				if s.Addr == cfg.Addr {
					netnstest.Run(t, s.Pair.NSA, func() { host, err = remote.DialSSH(cfg) })
					return host, err
				}
			}
			return nil, fmt.Errorf("no test host at %s", cfg.Addr)
		},
	}
}

// source returns the SSH part of a request for host i.
func (h *remoteHosts) source(i int) SSHSource {
	return SSHSource{Host: h.srv[i].Pair.IPB.String(), User: "root", Auth: "key", Key: "id_ed25519"}
}

// acceptHost lists host i's interfaces: the first time its key is
// unknown (409 with the fingerprint ssh-keygen prints for it), then
// accepted, and the list has the host's veth.
func (h *remoteHosts) acceptHost(t *testing.T, ts *httptest.Server, i int) {
	t.Helper()
	s := h.srv[i]
	req := h.source(i)
	code, e := postJSON(t, ts.URL+"/api/remote/interfaces", req, nil)
	want := sshdtest.Fingerprint(t, s.HostPub)
	if code != http.StatusConflict || e.Code != "hostkey-unknown" || e.HostKey == nil || e.HostKey.Fingerprint != want || e.HostKey.Type != "ssh-ed25519" {
		t.Fatalf("first contact with host %d: %d %+v %+v; want 409 hostkey-unknown with %s", i+1, code, e, e.HostKey, want)
	}
	req.AcceptHostKey = e.HostKey.Fingerprint
	var ifs []remoteInterface
	if code, e := postJSON(t, ts.URL+"/api/remote/interfaces", req, &ifs); code != http.StatusOK {
		t.Fatalf("after accepting host %d's key: %d %+v", i+1, code, e)
	}
	if !slices.ContainsFunc(ifs, func(ifc remoteInterface) bool { return ifc.Name == s.Pair.IfB && ifc.Up }) {
		t.Fatalf("host %d lists %+v, without %s", i+1, ifs, s.Pair.IfB)
	}
	if b, err := os.ReadFile(h.known); err != nil || !strings.Contains(string(b), s.Pair.IPB.String()) {
		t.Fatalf("known_hosts after accepting host %d: %q %v", i+1, b, err)
	}
}

// tsharkFields reads a capture file with tshark -T fields.
func tsharkFields(t *testing.T, tshark, file string, fields ...string) [][]string {
	t.Helper()
	args := []string{"-r", file, "-T", "fields"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v", file, err)
	}
	var rows [][]string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if l != "" {
			rows = append(rows, strings.Split(l, "\t"))
		}
	}
	return rows
}

// TestRemoteTwoHostsMerged captures on two remote hosts (real OpenSSH
// servers and tcpdumps in two namespaces) into one capture through the
// API: host keys accepted on first use, the interfaces listed, the link
// type for the filter check, both sources started together, rows that
// name their source, per-source counts, and a .pcapng download that
// tshark reads with both interfaces, in time order, each interface's
// packets the same as tshark reads from a local tcpdump's capture of the
// same traffic on that host.
func TestRemoteTwoHostsMerged(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	h := startRemoteHosts(t, 2, sshdtest.Options{})
	_, ts := newTestServer(t, Config{SSH: h.options(t)})

	var keys struct{ Keys []string }
	do(t, "GET", ts.URL+"/api/remote/keys", nil, &keys)
	if !slices.Equal(keys.Keys, []string{"id_ed25519"}) {
		t.Fatalf("keys %v", keys.Keys)
	}
	h.acceptHost(t, ts, 0)
	h.acceptHost(t, ts, 1)
	var lt map[string]string
	if code, e := postJSON(t, ts.URL+"/api/remote/linktype", linkTypeRequest{SSHSource: h.source(0), Interface: h.srv[0].Pair.IfB}, &lt); code != http.StatusOK || lt["linkType"] != "EN10MB" || lt["os"] != "linux" {
		t.Fatalf("link type: %d %+v %v", code, e, lt)
	}

	const port = 5555
	expr := fmt.Sprintf("udp port %d", port)
	var srcs []SourceOptions
	var stopLocal []func(int) string
	for i, s := range h.srv {
		ssh := h.source(i)
		srcs = append(srcs, SourceOptions{Interface: s.Pair.IfB, Filter: expr, SSH: &ssh})
		stopLocal = append(stopLocal, s.LocalTcpdump(t, expr))
	}
	var info CaptureInfo
	if code, e := postJSON(t, ts.URL+"/api/live", map[string]any{"sources": srcs}, &info); code != http.StatusCreated {
		t.Fatalf("start: %d %+v", code, e)
	}
	names := []string{h.srv[0].Pair.IPB.String() + ":" + h.srv[0].Pair.IfB, h.srv[1].Pair.IPB.String() + ":" + h.srv[1].Pair.IfB}
	if !slices.Equal(info.Interfaces, names) || len(info.Live.Sources) != 2 || info.Live.Sources[1].LinkType != "EN10MB" || info.Live.Sources[0].Filter != expr {
		t.Fatalf("started: interfaces %v, sources %+v", info.Interfaces, info.Live.Sources)
	}

	// Traffic on both hosts, interleaved in time.
	const n = 12
	for k := range n {
		s := h.srv[k%2]
		s.Pair.SendUDP(t, port, []byte(fmt.Sprintf("host %d datagram %02d %s", k%2+1, k, strings.Repeat("y", k*9))))
		time.Sleep(5 * time.Millisecond)
	}
	waitInfo(t, ts, info.ID, fmt.Sprintf("%d packets", n), func(i CaptureInfo) bool { return i.Packets >= n })
	var rows RowsResponse
	do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/rows?count=100", nil, &rows)
	for k, r := range rows.Rows {
		if r.Iface != k%2 || !strings.Contains(r.Info, "Len=") {
			t.Errorf("row %d: interface %d (%s), want %d", r.No, r.Iface, r.Info, k%2)
		}
	}
	var stopped CaptureInfo
	if res := do(t, "POST", ts.URL+"/api/captures/"+info.ID+"/stop", nil, &stopped); res.StatusCode != http.StatusOK {
		t.Fatalf("stop: %d", res.StatusCode)
	}
	for i, src := range stopped.Live.Sources {
		if src.Packets != n/2 || src.Received != n/2 || src.Dropped != 0 || src.State != capture.SourceStopped || src.Error != "" {
			t.Errorf("source %d after stop: %+v", i+1, src)
		}
	}
	if stopped.State != store.StateReady || stopped.Packets != n {
		t.Errorf("after stop: %+v", stopped)
	}
	for _, s := range h.srv {
		if left := s.Running(t, "tcpdump"); len(left) != 0 {
			time.Sleep(time.Second)
			if left = s.Running(t, "tcpdump"); len(left) != 0 {
				t.Errorf("tcpdump still runs on %s after stop: %v", s.Addr, left)
			}
		}
	}

	if res := do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/download?format=pcap", nil, nil); res.StatusCode != http.StatusOK {
		// Both hosts are Ethernet: a .pcap holds them.
		t.Errorf(".pcap download: %d", res.StatusCode)
	}
	dl := do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/download?format=pcapng", nil, nil)
	body := new(bytes.Buffer)
	body.ReadFrom(dl.Body)
	file := filepath.Join(t.TempDir(), "merged.pcapng")
	if err := os.WriteFile(file, body.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	fields := []string{"frame.time_epoch", "eth.src", "eth.dst", "ip.src", "ip.dst", "udp.srcport", "udp.payload"}
	got := tsharkFields(t, tshark, file, append([]string{"frame.interface_name"}, fields...)...)
	if len(got) != n {
		t.Fatalf("tshark reads %d packets from the download, want %d", len(got), n)
	}
	for k := 1; k < n; k++ {
		if got[k][1] < got[k-1][1] {
			t.Errorf("download packet %d at %s, before packet %d at %s: not merged in time order", k+1, got[k][1], k, got[k-1][1])
		}
	}
	for i, name := range names {
		var mine [][]string
		for _, g := range got {
			if g[0] == name {
				mine = append(mine, g[2:]) // times differ: two captures
			}
		}
		var want [][]string
		for _, w := range tsharkFields(t, tshark, stopLocal[i](n/2), fields...) {
			want = append(want, w[1:])
		}
		if !slices.EqualFunc(mine, want, slices.Equal) {
			t.Errorf("interface %s in the download:\n%v\nthe host's local tcpdump:\n%v", name, mine, want)
		}
	}
}

// TestRemoteSourceLostAndReconnect: one host's connection is cut in the
// middle of a capture of two: that source fails with a clear message and
// keeps its packets, the other goes on; the failed source is reconnected
// and captures again under the same interface; stopping one source
// leaves the capture running, stopping the last ends it.
func TestRemoteSourceLostAndReconnect(t *testing.T) {
	h := startRemoteHosts(t, 2, sshdtest.Options{})
	_, ts := newTestServer(t, Config{SSH: h.options(t)})
	h.acceptHost(t, ts, 0)
	h.acceptHost(t, ts, 1)
	const port = 5555
	expr := fmt.Sprintf("udp port %d", port)
	var srcs []SourceOptions
	for i, s := range h.srv {
		ssh := h.source(i)
		srcs = append(srcs, SourceOptions{Interface: s.Pair.IfB, Filter: expr, SSH: &ssh})
	}
	var info CaptureInfo
	if code, e := postJSON(t, ts.URL+"/api/live", map[string]any{"sources": srcs}, &info); code != http.StatusCreated {
		t.Fatalf("start: %d %+v", code, e)
	}
	base := ts.URL + "/api/captures/" + info.ID
	send := func(i, n int, tag string) {
		for k := range n {
			h.srv[i].Pair.SendUDP(t, port, []byte(fmt.Sprintf("%s %d", tag, k)))
		}
	}
	send(0, 3, "one")
	send(1, 4, "two")
	waitInfo(t, ts, info.ID, "7 packets", func(i CaptureInfo) bool { return i.Packets >= 7 })

	h.srv[1].KillSessions(t) // host 2's connection dies
	lost := waitInfo(t, ts, info.ID, "source 2 failed", func(i CaptureInfo) bool { return i.Live.Sources[1].State == capture.SourceFailed })
	if e := lost.Live.Sources[1].Error; !strings.Contains(e, "connection") || !strings.Contains(e, "after 4 packets") || !strings.Contains(e, "reconnect") {
		t.Errorf("source 2's error %q: want the lost connection, the 4 packets kept, and what to do", e)
	}
	if !lost.Live.Running || lost.Live.Sources[0].State != capture.SourceRunning || lost.Live.Sources[1].Packets != 4 {
		t.Fatalf("after host 2's connection died: %+v", lost.Live)
	}
	send(0, 5, "one more")
	waitInfo(t, ts, info.ID, "host 1 goes on", func(i CaptureInfo) bool { return i.Live.Sources[0].Packets == 8 })

	var again CaptureInfo
	if code, e := postJSON(t, base+"/sources/2/reconnect", map[string]string{}, &again); code != http.StatusOK {
		t.Fatalf("reconnect: %d %+v", code, e)
	}
	if src := again.Live.Sources[1]; src.State != capture.SourceRunning || src.Reconnects != 1 {
		t.Fatalf("after reconnecting: %+v", src)
	}
	send(1, 2, "two again")
	waitInfo(t, ts, info.ID, "host 2 again", func(i CaptureInfo) bool { return i.Live.Sources[1].Packets == 6 })

	if code, e := postJSON(t, base+"/sources/1/stop", nil, &again); code != http.StatusOK || again.Live.Sources[0].State != capture.SourceStopped || !again.Live.Running {
		t.Fatalf("stop source 1: %d %+v %+v", code, e, again.Live)
	}
	if code, e := postJSON(t, base+"/sources/2/stop", nil, nil); code != http.StatusOK {
		t.Fatalf("stop source 2: %d %+v", code, e)
	}
	end := waitInfo(t, ts, info.ID, "the capture ends with its last source", func(i CaptureInfo) bool { return !i.Live.Running })
	if end.State != store.StateReady || end.Packets != 14 {
		t.Errorf("after both sources stopped: %+v", end)
	}
	var rows RowsResponse
	do(t, "GET", base+"/rows?count=100", nil, &rows)
	perIface := [2]int{}
	for _, r := range rows.Rows {
		perIface[r.Iface]++
	}
	if perIface != [2]int{8, 6} {
		t.Errorf("rows per source %v, want [8 6]", perIface)
	}
}

// TestRemoteErrorsSayWhatToDo: what can go wrong with a remote source is
// answered with a status, a code the UI tells apart, the source's place
// in the request, and a message that says what to do: a changed host
// key (never accepted), a key the host refuses, tcpdump missing, tcpdump
// not allowed to capture, an interface the host does not have, and a
// remote command that writes text instead of a capture.
func TestRemoteErrorsSayWhatToDo(t *testing.T) {
	bin := t.TempDir()
	mode := filepath.Join(bin, "mode")
	real, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("no tcpdump")
	}
	// tcpdump on the "remote host": the real one, or a failure the test
	// picks.
	sshdtest.WriteFile(t, filepath.Join(bin, "tcpdump"), `#!/bin/sh
case "$(cat `+mode+`)" in
missing) echo "sh: 1: tcpdump: not found" >&2; exit 127;;
permission) echo "tcpdump: $3: You don't have permission to perform this capture on that device" >&2; echo "(socket: Operation not permitted)" >&2; exit 1;;
garbage) case "$1" in -L) echo "Data link types for $3 (use option -y to set):" >&2; echo "  EN10MB (Ethernet)" >&2; exit 0;; --help) exit 0;; esac
	echo 'Welcome to the machine!'; exit 0;;
esac
exec `+real+` "$@"
`, 0o755)
	h := startRemoteHosts(t, 1, sshdtest.Options{Path: bin + ":/usr/bin:/bin:/usr/sbin:/sbin"})
	s := h.srv[0]
	known, err := os.ReadFile(s.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	sshdtest.WriteFile(t, h.known, string(known), 0o600)
	// A key the host does not authorize.
	wrong := filepath.Join(t.TempDir(), "id_wrong")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", wrong).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	opts := h.options(t)
	opts.KeyFiles = append(opts.KeyFiles, wrong)
	_, ts := newTestServer(t, Config{SSH: opts, Live: nsBackend{t: t, ns: s.Pair.NSA}})
	// A server whose known_hosts has another key for the host.
	changedKnown := filepath.Join(t.TempDir(), "known_hosts")
	other := filepath.Join(t.TempDir(), "other")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	otherPub, _ := os.ReadFile(other + ".pub")
	sshdtest.WriteFile(t, changedKnown, s.Addr+" "+string(otherPub), 0o600)
	changedOpts := h.options(t)
	changedOpts.KnownHostsFile = changedKnown
	_, tsChanged := newTestServer(t, Config{SSH: changedOpts, Live: nsBackend{t: t, ns: s.Pair.NSA}})

	good := h.source(0)
	wrongKey := good
	wrongKey.Key = "id_wrong"
	local := SourceOptions{Interface: s.Pair.IfA} // side A's veth, opened in its namespace
	for _, c := range []struct {
		name   string
		ts     *httptest.Server
		mode   string
		ssh    SSHSource
		iface  string
		status int
		code   string
		says   []string
	}{
		{"changed host key", tsChanged, "real", good, s.Pair.IfB, http.StatusConflict, "hostkey-changed", []string{"has changed", "intercepting", "ssh-keygen -R"}},
		{"wrong key", ts, "real", wrongKey, s.Pair.IfB, http.StatusForbidden, "auth", []string{"authorized_keys", "id_wrong"}},
		{"tcpdump missing", ts, "missing", good, s.Pair.IfB, http.StatusBadGateway, "tcpdump-missing", []string{"install it", "apt-get install tcpdump"}},
		{"permission denied", ts, "permission", good, s.Pair.IfB, http.StatusForbidden, "permission", []string{"may not capture", "sudo"}},
		{"unknown interface", ts, "real", good, "nosuch0", http.StatusBadRequest, "no-interface", []string{`"nosuch0"`, "list its interfaces"}},
		{"garbage", ts, "garbage", good, s.Pair.IfB, http.StatusBadGateway, "not-pcap", []string{"Welcome to the machine!", "login script"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sshdtest.WriteFile(t, mode, c.mode, 0o644)
			ssh := c.ssh
			// The remote source second, after a local one the failure
			// must close again.
			body := map[string]any{"sources": []SourceOptions{local, {Interface: c.iface, SSH: &ssh}}}
			code, e := postJSON(t, c.ts.URL+"/api/live", body, nil)
			if code != c.status || e.Code != c.code || e.Source == nil || *e.Source != 1 {
				t.Fatalf("status %d code %q source %v, want %d %q source 1: %s", code, e.Code, e.Source, c.status, c.code, e.Error)
			}
			for _, w := range c.says {
				if !strings.Contains(e.Error, w) {
					t.Errorf("message %q does not say %q", e.Error, w)
				}
			}
			if c.code == "hostkey-changed" && (e.HostKey == nil || !e.HostKey.Changed || e.HostKey.Fingerprint != sshdtest.Fingerprint(t, s.HostPub)) {
				t.Errorf("host key %+v", e.HostKey)
			}
		})
	}
	var list []CaptureInfo
	do(t, "GET", ts.URL+"/api/captures", nil, &list)
	if len(list) != 0 {
		t.Errorf("refused captures were registered: %+v", list)
	}
	if left := s.Running(t, "tcpdump"); len(left) != 0 {
		t.Errorf("tcpdump left running on the host: %v", left)
	}
}

// TestRemoteAndLocalMerged merges a local interface (side A of the veth,
// opened by the server's backend) and the remote host's side B (over
// SSH): each datagram is captured once on each side, under its own
// interface, the local one named after this machine.
func TestRemoteAndLocalMerged(t *testing.T) {
	h := startRemoteHosts(t, 1, sshdtest.Options{})
	s := h.srv[0]
	known, err := os.ReadFile(s.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	sshdtest.WriteFile(t, h.known, string(known), 0o600)
	_, ts := newTestServer(t, Config{SSH: h.options(t), Live: nsBackend{t: t, ns: s.Pair.NSA}})
	ssh := h.source(0)
	expr := "udp port 5555"
	var info CaptureInfo
	srcs := []SourceOptions{{Interface: s.Pair.IfA, Filter: expr}, {Interface: s.Pair.IfB, Filter: expr, SSH: &ssh}}
	if code, e := postJSON(t, ts.URL+"/api/live", map[string]any{"sources": srcs}, &info); code != http.StatusCreated {
		t.Fatalf("start: %d %+v", code, e)
	}
	host, _ := os.Hostname()
	if want := []string{host + ":" + s.Pair.IfA, s.Pair.IPB.String() + ":" + s.Pair.IfB}; !slices.Equal(info.Interfaces, want) {
		t.Errorf("interfaces %v, want %v", info.Interfaces, want)
	}
	const n = 6
	s.Pair.SendUDP(t, 5555, livePayloads("both sides", n)...)
	waitInfo(t, ts, info.ID, "both sides' packets", func(i CaptureInfo) bool { return i.Packets >= 2*n })
	var stopped CaptureInfo
	do(t, "POST", ts.URL+"/api/captures/"+info.ID+"/stop", nil, &stopped)
	for i, src := range stopped.Live.Sources {
		if src.Packets != n || src.State != capture.SourceStopped {
			t.Errorf("source %d: %+v", i+1, src)
		}
	}
	var rows RowsResponse
	do(t, "GET", ts.URL+"/api/captures/"+info.ID+"/rows?count=100", nil, &rows)
	if len(rows.Rows) != 2*n {
		t.Fatalf("%d rows", len(rows.Rows))
	}
	for k := 0; k < 2*n; k += 2 {
		// The same datagram, seen on A as it leaves and on B as it comes.
		a, b := rows.Rows[k], rows.Rows[k+1]
		if a.Iface != 0 || b.Iface != 1 || a.Info != b.Info || a.Length != b.Length {
			t.Errorf("rows %d and %d: %+v / %+v", a.No, b.No, a, b)
		}
	}
}

// TestRemoteAgentAuth logs in with the keys of pkttap-web's ssh-agent (a
// real ssh-agent): none offered without its key, the host's interfaces
// once it holds it.
func TestRemoteAgentAuth(t *testing.T) {
	agent := testenv.LookPath(t, "sshd", "ssh-agent")
	add := testenv.LookPath(t, "sshd", "ssh-add")
	h := startRemoteHosts(t, 1, sshdtest.Options{})
	known, err := os.ReadFile(h.srv[0].KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	sshdtest.WriteFile(t, h.known, string(known), 0o600)
	sock := filepath.Join(t.TempDir(), "agent.sock")
	cmd := exec.Command(agent, "-D", "-a", sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ssh-agent made no socket")
		}
	}
	t.Setenv("SSH_AUTH_SOCK", sock)
	_, ts := newTestServer(t, Config{SSH: h.options(t)})
	var keys struct{ Agent bool }
	do(t, "GET", ts.URL+"/api/remote/keys", nil, &keys)
	if !keys.Agent {
		t.Error("keys: no agent")
	}
	req := h.source(0)
	req.Auth, req.Key = "agent", ""
	if code, e := postJSON(t, ts.URL+"/api/remote/interfaces", req, nil); code != http.StatusForbidden || e.Code != "auth" || !strings.Contains(e.Error, "no key") {
		t.Fatalf("an empty agent: %d %+v", code, e)
	}
	if out, err := exec.Command(add, h.key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	var ifs []remoteInterface
	if code, e := postJSON(t, ts.URL+"/api/remote/interfaces", req, &ifs); code != http.StatusOK || len(ifs) == 0 {
		t.Fatalf("with the key in the agent: %d %+v %v", code, e, ifs)
	}
}
