package web

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pkttap/pkttap/pcapio"
)

// TestTokenCredentials checks, on a server listening beyond loopback, each
// way a request can carry the access token, right and wrong: only the right
// token passes, whether as ?token=, as the cookie or as a bearer header,
// and everything else gets a 401 with a JSON error.
func TestTokenCredentials(t *testing.T) {
	s, ts := newTestServer(t, Config{Addr: ":8080"})
	tok := s.Token()
	// A wrong token of the right length and alphabet, differing from the
	// right one in its last character only.
	last := "0"
	if strings.HasSuffix(tok, "0") {
		last = "1"
	}
	sameLength := tok[:len(tok)-1] + last
	cookie := func(v string) []string { return []string{"Cookie", tokenCookie + "=" + v} }
	tests := []struct {
		name   string
		query  string   // raw query
		hdr    []string // header name, value pairs
		status int
	}{
		{"no token", "", nil, http.StatusUnauthorized},
		{"wrong token in query", "token=wrong", nil, http.StatusUnauthorized},
		{"wrong token of the right length in query", "token=" + sameLength, nil, http.StatusUnauthorized},
		{"empty token in query", "token=", nil, http.StatusUnauthorized},
		{"wrong cookie", "", cookie("wrong"), http.StatusUnauthorized},
		{"wrong cookie of the right length", "", cookie(sameLength), http.StatusUnauthorized},
		{"cookie of the token cut short", "", cookie(tok[:len(tok)-1]), http.StatusUnauthorized},
		{"cookie of the token and more", "", cookie(tok + "0"), http.StatusUnauthorized},
		{"empty cookie", "", cookie(""), http.StatusUnauthorized},
		{"right token in a cookie of another name", "", []string{"Cookie", "token=" + tok}, http.StatusUnauthorized},
		{"right token in query", "token=" + tok, nil, http.StatusOK},
		{"right token in the cookie", "", cookie(tok), http.StatusOK},
		{"Bearer right", "", []string{"Authorization", "Bearer " + tok}, http.StatusOK},
		{"bearer right, lower case", "", []string{"Authorization", "bearer " + tok}, http.StatusOK},
		{"BEARER right, upper case", "", []string{"Authorization", "BEARER " + tok}, http.StatusOK},
		{"Bearer wrong", "", []string{"Authorization", "Bearer wrong"}, http.StatusUnauthorized},
		{"Bearer wrong of the right length", "", []string{"Authorization", "Bearer " + sameLength}, http.StatusUnauthorized},
		{"bEaReR wrong, any case", "", []string{"Authorization", "bEaReR " + sameLength}, http.StatusUnauthorized},
		{"Basic right", "", []string{"Authorization", "Basic " + tok}, http.StatusUnauthorized},
		{"wrong cookie and wrong bearer", "", append(cookie(sameLength), "Authorization", "Bearer "+sameLength), http.StatusUnauthorized},
		{"wrong cookie but right bearer", "", append(cookie(sameLength), "Authorization", "Bearer "+tok), http.StatusOK},
		{"wrong query but right cookie", "token=" + sameLength, cookie(tok), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := ts.URL + "/api/captures"
			if tt.query != "" {
				url += "?" + tt.query
			}
			res := do(t, "GET", url, nil, nil, tt.hdr...)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status == http.StatusUnauthorized {
				checkJSONError(t, res)
				if res.Header.Get("Set-Cookie") != "" {
					t.Errorf("a refused request got a cookie: %s", res.Header.Get("Set-Cookie"))
				}
			}
		})
	}

	// The other routes behind the token refuse a wrong cookie too: the
	// page, an upload (which must not create a capture) and the
	// WebSocket handshake.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/", "/assets/app.js", "/api/interfaces"} {
		req, _ := http.NewRequest("GET", ts.URL+p, nil)
		req.Header.Set("Cookie", tokenCookie+"="+sameLength)
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong cookie: status %d, want 401", p, res.StatusCode)
		} else {
			checkJSONError(t, res)
		}
		res.Body.Close()
	}
	data := synthetic(t, pcapio.FormatPcap, 2)
	if res := do(t, "POST", ts.URL+"/api/captures?name=x.pcap", bytes.NewReader(data), nil, cookie(sameLength)...); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("upload with a wrong cookie: status %d, want 401", res.StatusCode)
	}
	if n := len(s.Captures()); n != 0 {
		t.Errorf("%d captures after an upload with a wrong cookie, want 0", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tt := range []struct {
		name  string
		value string
		ok    bool
	}{
		{"wrong cookie", "wrong", false},
		{"wrong cookie of the right length", sameLength, false},
		{"right cookie", tok, true},
	} {
		h := http.Header{"Cookie": {tokenCookie + "=" + tt.value}}
		conn, res, err := websocket.Dial(ctx, wsURL(ts), &websocket.DialOptions{HTTPHeader: h})
		if tt.ok {
			if err != nil {
				t.Errorf("WebSocket with the %s: %v", tt.name, err)
				continue
			}
			if _, _, err := conn.Read(ctx); err != nil { // the first state message
				t.Errorf("WebSocket with the %s: read: %v", tt.name, err)
			}
			conn.CloseNow()
			continue
		}
		if err == nil {
			conn.CloseNow()
			t.Errorf("WebSocket with a %s: handshake accepted, want 401", tt.name)
			continue
		}
		if res == nil || res.StatusCode != http.StatusUnauthorized {
			t.Errorf("WebSocket with a %s: %v %v, want 401", tt.name, res, err)
		}
	}
	// The refused handshake's answer is the documented JSON error.
	upgrade := []string{"Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}
	// (A handshake wrongly accepted answers 101 and keeps the connection
	// open: the body is read only after a 401.)
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/ws", nil)
	setHeaders(req, append(upgrade, cookie(sameLength)...)...)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("WebSocket handshake with a wrong cookie: status %d, want 401", res.StatusCode)
	} else {
		checkJSONError(t, res)
	}
}
