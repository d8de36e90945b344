package web

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/rpcapdtest"
	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/store"
)

// rpcapTrace is the conversations recorded from a real rpcapd that
// capture/remote's tests replay (Debian does not package rpcapd): the
// tests here replay them to pkttap-web's rpcap sources.
const rpcapTrace = "../capture/remote/testdata/rpcapd-sessions.json"

// rpcapSession returns the recorded session named name.
func rpcapSession(t *testing.T, name string) rpcapdtest.Session {
	t.Helper()
	tr := rpcapdtest.ReadTrace(t, rpcapTrace)
	i := slices.IndexFunc(tr.Sessions, func(s rpcapdtest.Session) bool { return s.Name == name })
	if i < 0 {
		t.Fatalf("%s has no session %q", rpcapTrace, name)
	}
	return tr.Sessions[i]
}

// rpcapServer starts a test server whose rpcap sources reach a replay of
// sess, and returns the rpcap part of a source that reaches it (the
// recorded server's address).
func rpcapServer(t *testing.T, sess rpcapdtest.Session) (*Server, *httptest.Server, *rpcapdtest.ReplayServer, RPCAPSource) {
	t.Helper()
	rs := rpcapdtest.NewReplayServerWith(t, sess, rpcapdtest.ReplayOptions{AnyStats: true})
	s, ts := newTestServer(t, Config{RPCAP: RPCAPOptions{Dial: rs.Dial}})
	host, port, err := net.SplitHostPort(sess.Conns[0].Remote)
	if err != nil {
		t.Fatal(err)
	}
	src := RPCAPSource{Host: host, User: sess.User, Password: sess.Password}
	if port != "2002" { // the default is left out, as the UI does
		src.Port, _ = strconv.Atoi(port)
	}
	return s, ts, rs, src
}

// TestRPCAPSourceReplayed starts live captures with an rpcap source
// through POST /api/live against a replay of a real rpcapd's side of
// each recorded capture: the download's packets must be those of the
// local capture made of the same traffic as it was recorded, and the
// client must have sent, byte for byte, what the recorded client sent
// (STATS requests aside: the store asks on a timer). A session with a
// refused password is first started with it: 403, code auth, and a
// message that says what to check.
func TestRPCAPSourceReplayed(t *testing.T) {
	for _, name := range []string{"null-auth", "password-snaplen-promisc"} {
		t.Run(name, func(t *testing.T) {
			sess := rpcapSession(t, name)
			s, ts, rs, rp := rpcapServer(t, sess)
			url := ts.URL
			src := SourceOptions{Interface: sess.Interface, Filter: sess.Filter, Snaplen: sess.Snaplen, Promiscuous: sess.Promisc, RPCAP: &rp}
			if sess.BadPassword != "" {
				bad := rp
				bad.Password = sess.BadPassword
				badSrc := src
				badSrc.RPCAP = &bad
				code, e := postJSON(t, url+"/api/live", map[string]any{"sources": []SourceOptions{badSrc}}, nil)
				if code != http.StatusForbidden || e.Code != "auth" || e.Source == nil || *e.Source != 0 || !strings.Contains(e.Error, "check both") {
					t.Fatalf("a wrong password: %d %+v, want 403, code auth, source 0, saying what to check", code, e)
				}
				if strings.Contains(e.Error, sess.BadPassword) {
					t.Errorf("the error shows the password: %s", e.Error)
				}
			}
			var info CaptureInfo
			if code, e := postJSON(t, url+"/api/live", map[string]any{"sources": []SourceOptions{src}}, &info); code != http.StatusCreated {
				t.Fatalf("start: %d %+v", code, e)
			}
			name := rp.Host + ":" + sess.Interface
			if len(info.Live.Sources) != 1 || info.Live.Sources[0].Name != name || info.Live.Sources[0].LinkType != "EN10MB" {
				t.Fatalf("started: sources %+v, want one named %s", info.Live.Sources, name)
			}
			if kept, _ := s.sources.get(info.ID, 0); kept.RPCAP == nil || kept.RPCAP.Password != "" || kept.RPCAP.User != sess.User {
				t.Errorf("the server keeps the source as %+v: the password must not be kept", kept.RPCAP)
			}
			waitInfo(t, ts, info.ID, strconv.Itoa(sess.Packets)+" packets", func(i CaptureInfo) bool { return i.Packets >= int64(sess.Packets) })
			var stopped CaptureInfo
			if res := do(t, "POST", url+"/api/captures/"+info.ID+"/stop", nil, &stopped); res.StatusCode != http.StatusOK {
				t.Fatalf("stop: %d", res.StatusCode)
			}
			if err := rs.Wait(); err != nil {
				t.Fatal(err)
			}
			if stopped.State != store.StateReady || stopped.Packets != int64(sess.Packets) {
				t.Errorf("after stop: %+v", stopped)
			}
			dl := do(t, "GET", url+"/api/captures/"+info.ID+"/download?format=pcapng", nil, nil)
			body := new(bytes.Buffer)
			body.ReadFrom(dl.Body)
			got, err := samplegen.ReadAll(body.Bytes())
			if err != nil {
				t.Fatalf("the download: %v", err)
			}
			rpcapdtest.SamePackets(t, name, got, rpcapdtest.ReadLocal(t, filepath.Join(filepath.Dir(rpcapTrace), sess.Local)), sess.Snaplen)
		})
	}
}

// recordedClose is a session's events up to (not including) event n,
// then the client's CLOSE as recorded at the end of the
// no-such-interface session: a conversation that ends where a request of
// the API ends it.
func recordedClose(t *testing.T, sess rpcapdtest.Session, n int) rpcapdtest.Session {
	t.Helper()
	end := rpcapSession(t, "no-such-interface").Events
	sess.Events = append(slices.Clone(sess.Events[:n]), end[len(end)-1])
	used := 0
	for _, e := range sess.Events {
		used = max(used, e.Conn+1)
	}
	sess.Conns = sess.Conns[:used]
	return sess
}

// TestRPCAPRemoteEndpoints lists a replayed rpcapd's interfaces and asks
// an interface's link type through /api/remote/* with "protocol":
// "rpcap".
func TestRPCAPRemoteEndpoints(t *testing.T) {
	null := rpcapSession(t, "null-auth")
	t.Run("interfaces", func(t *testing.T) {
		// Authentication, the interface list, CLOSE.
		_, ts, rs, rp := rpcapServer(t, recordedClose(t, null, 4))
		url := ts.URL
		var ifs []remoteInterface
		code, e := postJSON(t, url+"/api/remote/interfaces", map[string]any{"protocol": "rpcap", "host": rp.Host}, &ifs)
		if code != http.StatusOK {
			t.Fatalf("%d %+v", code, e)
		}
		if !slices.ContainsFunc(ifs, func(i remoteInterface) bool { return i.Name == null.Interface }) {
			t.Errorf("the list %+v lacks %s", ifs, null.Interface)
		}
		if err := rs.Wait(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("linktype", func(t *testing.T) {
		// ... and OPEN, whose reply names the link type.
		_, ts, rs, rp := rpcapServer(t, recordedClose(t, null, 6))
		url := ts.URL
		var lt map[string]string
		code, e := postJSON(t, url+"/api/remote/linktype", map[string]any{"protocol": "rpcap", "host": rp.Host, "interface": null.Interface}, &lt)
		if code != http.StatusOK || lt["linkType"] != "EN10MB" {
			t.Fatalf("%d %+v %v", code, e, lt)
		}
		if err := rs.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRPCAPSourceErrors: what a replayed rpcapd refuses, and requests
// that cannot be right, answer codes and messages that say what to do.
func TestRPCAPSourceErrors(t *testing.T) {
	nosuch := rpcapSession(t, "no-such-interface")
	for _, path := range []string{"/api/live", "/api/remote/linktype"} {
		t.Run("no-such-interface "+path, func(t *testing.T) {
			_, ts, rs, rp := rpcapServer(t, nosuch)
			url := ts.URL
			var body any = map[string]any{"sources": []SourceOptions{{Interface: nosuch.Interface, RPCAP: &rp}}}
			if path != "/api/live" {
				body = map[string]any{"protocol": "rpcap", "host": rp.Host, "interface": nosuch.Interface}
			}
			code, e := postJSON(t, url+path, body, nil)
			if code != http.StatusBadRequest || e.Code != "no-interface" || !strings.Contains(e.Error, nosuch.Interface) {
				t.Fatalf("%d %+v, want 400, code no-interface, naming %s", code, e, nosuch.Interface)
			}
			if err := rs.Wait(); err != nil {
				t.Fatal(err)
			}
		})
	}
	_, ts := newTestServer(t, Config{})
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"both protocols", map[string]any{"sources": []any{map[string]any{"interface": "eth0", "ssh": map[string]any{"host": "192.0.2.7", "auth": "agent"}, "rpcap": map[string]any{"host": "192.0.2.7"}}}}, "not both"},
		{"password without user", map[string]any{"sources": []any{map[string]any{"interface": "eth0", "rpcap": map[string]any{"host": "192.0.2.7", "password": "x"}}}}, "needs a user name"},
		{"transport", map[string]any{"sources": []any{map[string]any{"interface": "eth0", "rpcap": map[string]any{"host": "192.0.2.7", "transport": "sctp"}}}}, `"sctp"`},
		{"host", map[string]any{"sources": []any{map[string]any{"interface": "eth0", "rpcap": map[string]any{"host": "-oProxy"}}}}, "not a host name"},
		{"port", map[string]any{"sources": []any{map[string]any{"interface": "eth0", "rpcap": map[string]any{"host": "192.0.2.7", "port": 70000}}}}, "out of range"},
		{"protocol", map[string]any{"protocol": "telnet", "host": "192.0.2.7"}, `"telnet"`},
		{"ssh fields with rpcap", map[string]any{"protocol": "rpcap", "host": "192.0.2.7", "auth": "agent"}, "SSH's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/api/live"
			if _, ok := tc.body.(map[string]any)["protocol"]; ok {
				path = "/api/remote/interfaces"
			}
			code, e := postJSON(t, ts.URL+path, tc.body, nil)
			if code != http.StatusBadRequest || e.Code != "bad-request" || !strings.Contains(e.Error, tc.want) {
				t.Errorf("%d %+v, want 400, code bad-request, saying %s", code, e, tc.want)
			}
		})
	}
}

// postJSON posts body as JSON and decodes the answer into out (on
// success) or into a remoteAPIError.
func postJSON(t *testing.T, url string, body, out any) (int, remoteAPIError) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	res := do(t, "POST", url, bytes.NewReader(b), nil, "Content-Type", "application/json")
	raw := new(bytes.Buffer)
	raw.ReadFrom(res.Body)
	var e remoteAPIError
	if res.StatusCode < 300 {
		if out != nil {
			if err := json.Unmarshal(raw.Bytes(), out); err != nil {
				t.Fatalf("decode %q: %v", raw, err)
			}
		}
	} else if err := json.Unmarshal(raw.Bytes(), &e); err != nil {
		t.Fatalf("decode error %q: %v", raw, err)
	}
	return res.StatusCode, e
}

// TestRPCAPSourceReconnect: the replayed server goes away after sending
// the packets (its connections closed): the rpcap source fails with a
// lost connection (with those of the packets it read before it noticed)
// and, reconnected, captures the whole of a new conversation, as an SSH
// source does.
func TestRPCAPSourceReconnect(t *testing.T) {
	null := rpcapSession(t, "null-auth")
	cut := null
	cut.Events = null.Events[:11] // up to the packets; then the server is gone
	if cut.Events[10].Conn != 1 || cut.Events[10].Dir != "s" {
		t.Fatalf("event 11 of %s is not the packets on the data connection", null.Name)
	}
	chain := &replayChain{t: t, sess: []rpcapdtest.Session{cut, null}}
	_, ts := newTestServer(t, Config{RPCAP: RPCAPOptions{Dial: chain.Dial}})
	host, _, _ := net.SplitHostPort(null.Conns[0].Remote)
	src := SourceOptions{Interface: null.Interface, Filter: null.Filter, RPCAP: &RPCAPSource{Host: host}}
	var info CaptureInfo
	if code, e := postJSON(t, ts.URL+"/api/live", map[string]any{"sources": []SourceOptions{src}}, &info); code != http.StatusCreated {
		t.Fatalf("start: %d %+v", code, e)
	}
	n := int64(null.Packets)
	failed := waitInfo(t, ts, info.ID, "the source failed", func(i CaptureInfo) bool {
		return i.Live != nil && len(i.Live.Sources) == 1 && i.Live.Sources[0].State == "failed"
	})
	if failed.Packets > n || !strings.Contains(failed.Live.Sources[0].Error, "connection was lost") {
		t.Fatalf("failed source: %d packets, %+v", failed.Packets, failed.Live.Sources[0])
	}
	chain.wait(0)
	var again CaptureInfo
	if code, e := postJSON(t, ts.URL+"/api/captures/"+info.ID+"/sources/1/reconnect", map[string]any{}, &again); code != http.StatusOK {
		t.Fatalf("reconnect: %d %+v", code, e)
	}
	// The failed source's last packets may reach the capture after it
	// said it failed: the second conversation's come on top of them.
	waitInfo(t, ts, info.ID, "the packets of the second conversation", func(i CaptureInfo) bool { return i.Packets >= failed.Packets+n })
	var stopped CaptureInfo
	if res := do(t, "POST", ts.URL+"/api/captures/"+info.ID+"/stop", nil, &stopped); res.StatusCode != http.StatusOK {
		t.Fatalf("stop: %d", res.StatusCode)
	}
	chain.wait(1)
	if stopped.Packets < failed.Packets+n || stopped.Packets > 2*n || stopped.Live.Sources[0].Reconnects != 1 {
		t.Errorf("after stop: %d packets, source %+v", stopped.Packets, stopped.Live.Sources[0])
	}
}
