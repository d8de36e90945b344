package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

func TestIsLoopback(t *testing.T) {
	tests := map[string]bool{
		"127.0.0.1:8080": true, "[::1]:80": true, "localhost:8080": true, "127.1.2.3:0": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "192.0.2.1:80": false, "example.com:80": false,
	}
	for addr, want := range tests {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestTokenRequired checks that a server listening beyond loopback answers
// 401 to every request without its token, and accepts the token as a query
// parameter (then as the cookie it sets) or a bearer header.
func TestTokenRequired(t *testing.T) {
	s, ts := newTestServer(t, Config{Addr: ":8080"})
	tok := s.Token()
	if len(tok) != 32 {
		t.Fatalf("token %q, want 32 hex digits", tok)
	}
	if u := s.URL(ts.Listener.Addr()); !strings.HasSuffix(u, "/?token="+tok) {
		t.Errorf("URL %s does not carry the token", u)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/", "/c/0123456789abcdef", "/assets/app.js", "/api/captures", "/api/filter?expr=ip", "/api/ws", "/api/captures/sample", "/api/interfaces", "/api/live"} {
		for _, auth := range []string{"", "?token=wrong", "Bearer wrong"} {
			url := ts.URL + p
			req, _ := http.NewRequest("GET", url, nil)
			if strings.HasPrefix(auth, "?") {
				req.URL.RawQuery = strings.TrimPrefix(auth, "?")
			} else if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			res, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET %s with %q: status %d, want 401", p, auth, res.StatusCode)
			}
		}
	}
	if res := do(t, "POST", ts.URL+"/api/captures", bytes.NewReader(synthetic(t, pcapio.FormatPcap, 2)), nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("upload without token: %d", res.StatusCode)
	}

	// The token in the URL: a cookie, and a redirect that drops the token.
	res, err := noRedirect.Get(ts.URL + "/?token=" + tok)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Errorf("page with token: %d to %q, want 303 to /", res.StatusCode, res.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == tokenCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v, want an HttpOnly SameSite=Strict token cookie", cookie)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if res, err := c.Get(ts.URL + "/?token=" + tok); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("page with token, following the redirect: %v %v", res, err)
	}
	if res, err := c.Get(ts.URL + "/api/captures"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("API with the cookie: %v %v", res, err)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/captures", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("API with a bearer token: %v %v", res, err)
	}
	if res, err := http.Get(ts.URL + "/api/captures?token=" + tok); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("API with ?token=: %v %v", res, err)
	}

	// WebSocket: 401 without the token, accepted with the cookie.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, res, err := websocket.Dial(ctx, wsURL(ts), nil); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("WebSocket without token: %v %v, want 401", res, err)
	}
	conn, _, err := websocket.Dial(ctx, wsURL(ts), &websocket.DialOptions{HTTPClient: c})
	if err != nil {
		t.Fatalf("WebSocket with the cookie: %v", err)
	}
	conn.CloseNow()
}

func TestWebSocket(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, origin := range []string{"http://evil.example", "null", "http://127.0.0.1.evil.example"} {
		h := http.Header{"Origin": {origin}}
		if _, res, err := websocket.Dial(ctx, wsURL(ts), &websocket.DialOptions{HTTPHeader: h}); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("WebSocket from origin %s: %v, want 403", origin, err)
		}
	}
	conn := dialWS(ctx, t, ts)
	read := func() stateMessage {
		t.Helper()
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var m stateMessage
		if err := json.Unmarshal(b, &m); err != nil || m.Type != "state" {
			t.Fatalf("message %s: %v", b, err)
		}
		return m
	}
	if m := read(); len(m.Captures) != 0 {
		t.Fatalf("first state has %d captures", len(m.Captures))
	}
	info := upload(t, ts, "ws.pcap", synthetic(t, pcapio.FormatPcap, 100))
	for {
		m := read()
		if len(m.Captures) == 1 && m.Captures[0].ID == info.ID && m.Captures[0].State == store.StateReady {
			if m.Captures[0].Packets != 100 {
				t.Errorf("state says %d packets", m.Captures[0].Packets)
			}
			break
		}
	}
}

// TestCSRF checks that state-changing requests from another site are
// refused, and that same-origin and non-browser requests pass.
func TestCSRF(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	data := synthetic(t, pcapio.FormatPcap, 3)
	info := waitIndexed(t, ts, upload(t, ts, "x.pcap", data).ID)
	tests := []struct {
		name, method, path string
		hdr                []string
		status             int
	}{
		{"upload cross-site", "POST", "/api/captures", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"upload foreign origin", "POST", "/api/captures", []string{"Origin", "http://evil.example"}, http.StatusForbidden},
		{"sample cross-site", "POST", "/api/captures/sample", []string{"Sec-Fetch-Site", "cross-site", "Origin", "http://evil.example"}, http.StatusForbidden},
		{"filter cross-site", "POST", "/api/captures/" + info.ID + "/filter", []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"delete cross-site", "DELETE", "/api/captures/" + info.ID, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"live start cross-site", "POST", "/api/live", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"live start foreign origin", "POST", "/api/live", []string{"Origin", "http://evil.example"}, http.StatusForbidden},
		{"live stop cross-site", "POST", "/api/captures/" + info.ID + "/stop", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"sample same-origin", "POST", "/api/captures/sample", []string{"Sec-Fetch-Site", "same-origin"}, http.StatusCreated},
		// An <img> or a link on another site sends a GET with these
		// headers: it must not start a compile, a filter job or a download.
		{"compile from an img cross-site", "GET", "/api/filter?expr=tcp", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Dest", "image"}, http.StatusForbidden},
		{"rows with a filter cross-site", "GET", "/api/captures/" + info.ID + "/rows?filter=udp", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"download cross-site", "GET", "/api/captures/" + info.ID + "/download", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}, http.StatusForbidden},
		{"list cross-site", "GET", "/api/captures", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"list same-site", "GET", "/api/captures", []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"list same-origin", "GET", "/api/captures", []string{"Sec-Fetch-Site", "same-origin"}, http.StatusOK},
		{"list typed in the address bar", "GET", "/api/captures", []string{"Sec-Fetch-Site", "none"}, http.StatusOK},
		{"list from a script", "GET", "/api/captures", nil, http.StatusOK},
		{"page from a link on another site", "GET", "/", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, tt.method, ts.URL+tt.path, bytes.NewReader(data), nil, tt.hdr...)
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d", res.StatusCode, tt.status)
			}
			if res.StatusCode == http.StatusForbidden {
				checkJSONError(t, res)
			}
		})
	}
	if st := waitFilterStatuses(t, ts, info.ID); len(st) != 0 {
		t.Errorf("a refused cross-site request started filter jobs: %+v", st)
	}
	if res := do(t, "GET", ts.URL+"/api/captures/"+info.ID, nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("capture gone after refused cross-site delete: %d", res.StatusCode)
	}
}

// TestDNSRebinding checks that a loopback server without a token refuses
// Host names that are not loopback.
func TestDNSRebinding(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	for host, want := range map[string]int{
		"evil.example": http.StatusForbidden, "evil.example:8080": http.StatusForbidden, "192.0.2.1": http.StatusForbidden,
		"localhost:8080": http.StatusOK, "127.0.0.1": http.StatusOK, "[::1]:8080": http.StatusOK,
	} {
		req, _ := http.NewRequest("GET", ts.URL+"/api/captures", nil)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("Host %s: status %d, want %d", host, res.StatusCode, want)
		}
	}
}

func TestPageAndAssets(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	for path, want := range map[string]string{
		"/":                   `tcpdump filter`,
		"/c/0123456789abcdef": `id="list-scroll"`,
		"/assets/app.js":      `from './js/api.js'`,
		"/assets/app.css":     `prefers-color-scheme: dark`,
	} {
		res := do(t, "GET", ts.URL+path, nil, nil)
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		if res.StatusCode != http.StatusOK || !strings.Contains(b.String(), want) {
			t.Errorf("%s: status %d, body lacks %q", path, res.StatusCode, want)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
	_ = httptest.NewRecorder
}

// checkJSONError checks that res is an error as the README documents it:
// a JSON body {"error": "..."} with a message.
func checkJSONError(t *testing.T, res *http.Response) {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("status %d: Content-Type %q, want JSON", res.StatusCode, ct)
	}
	var e apiError
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil || e.Error == "" {
		t.Errorf("status %d: body is not {\"error\": ...}: %v", res.StatusCode, err)
	}
}

// waitFilterStatuses returns the filter jobs a capture has.
func waitFilterStatuses(t *testing.T, ts *httptest.Server, id string) []FilterStatus {
	t.Helper()
	var info CaptureInfo
	do(t, "GET", ts.URL+"/api/captures/"+id, nil, &info)
	return info.Filters
}

// TestBearerSchemeCaseInsensitive checks that the Authorization scheme is
// matched without regard to case (RFC 9110 section 11.1), with one or more
// spaces before the token.
func TestBearerSchemeCaseInsensitive(t *testing.T) {
	s, ts := newTestServer(t, Config{Addr: ":8080"})
	tok := s.Token()
	for auth, want := range map[string]int{
		"Bearer " + tok:       http.StatusOK,
		"bearer " + tok:       http.StatusOK,
		"BEARER " + tok:       http.StatusOK,
		"bEaReR  " + tok:      http.StatusOK,
		"Basic " + tok:        http.StatusUnauthorized,
		"Bearer" + tok:        http.StatusUnauthorized,
		"bearer " + tok + "x": http.StatusUnauthorized,
		"bearer":              http.StatusUnauthorized,
		tok:                   http.StatusUnauthorized,
	} {
		res := do(t, "GET", ts.URL+"/api/captures", nil, nil, "Authorization", auth)
		if res.StatusCode != want {
			t.Errorf("Authorization %q: status %d, want %d", auth, res.StatusCode, want)
		}
		if res.StatusCode != http.StatusOK {
			checkJSONError(t, res)
		}
	}
}

// TestTokenStrength checks that New refuses an access token of less than
// 128 bits, judged by its length and the characters it draws from, and
// takes a generated one.
func TestTokenStrength(t *testing.T) {
	tests := []struct {
		token string
		ok    bool
	}{
		{"a", false},
		{"secret", false},
		{"0123456789abcdef0123456789abcde", false}, // 31 hex digits: 124 bits
		{"0123456789abcdef0123456789abcdef", true}, // 32 hex digits: 128 bits
		{"00000000000000000000000000000000000000000000", false},
		{"abababababababababababababababababababab", false}, // two characters repeated
		{"12345678901234567890123456789012345678", false},   // 38 decimal digits: 126 bits
		{"123456789012345678901234567890123456789", true},   // 39: 129.6 bits
		{"Zm9vYmFyYmF6cXV4cXV1eA", true},                    // 22 letters and digits: 131 bits
		{"Zm9vYmFyYmF6cXV4cXV1", false},                     // 20: 119 bits
		{"0123456789abcdef 0123456789abcdef", false},        // a space
		{"0123456789abcdef\n0123456789abcdef", false},       // a control character
		{NewToken(), true},
	}
	for _, tt := range tests {
		_, err := New(Config{Addr: "127.0.0.1:0", Token: tt.token, DataDir: t.TempDir()})
		if (err == nil) != tt.ok {
			t.Errorf("token %q: error %v, want ok %v", tt.token, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "token") {
			t.Errorf("token %q: error %q does not name the token", tt.token, err)
		}
	}
	if err := CheckToken("a"); err == nil || !strings.Contains(err.Error(), "128 bits") {
		t.Errorf("CheckToken(a) = %v, want an error naming 128 bits", err)
	}
}

// TestAPIErrorsAreJSON checks that errors under /api are the documented
// JSON also where the code that refuses is not pkttap-web's own: a
// WebSocket handshake from a foreign origin, or one that is not a
// handshake.
func TestAPIErrorsAreJSON(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	upgrade := []string{"Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}
	for _, tt := range []struct {
		name   string
		hdr    []string
		status int
	}{
		{"WebSocket from a foreign origin", append(upgrade, "Origin", "http://evil.example"), http.StatusForbidden},
		{"WebSocket without a handshake", nil, http.StatusUpgradeRequired},
	} {
		res := do(t, "GET", ts.URL+"/api/ws", nil, nil, tt.hdr...)
		if res.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, res.StatusCode, tt.status)
		}
		checkJSONError(t, res)
	}
}
