package web

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestTokenCookieSecure checks the cookie a request with the right
// ?token= gets: marked Secure when the request came over TLS, and not
// when it came over plain HTTP, where a browser would then never send it
// back. (Kills the mutant of requireToken that negates r.TLS != nil.)
func TestTokenCookieSecure(t *testing.T) {
	tok := NewToken()
	h := requireToken(tok, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, overTLS := range []bool{false, true} {
		r := httptest.NewRequest(http.MethodGet, "/api/captures?token="+tok, nil)
		if overTLS {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		res := w.Result()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("TLS %v: status %d, want 200", overTLS, res.StatusCode)
		}
		var c *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == tokenCookie {
				c = ck
			}
		}
		switch {
		case c == nil:
			t.Errorf("TLS %v: no %s cookie in %q", overTLS, tokenCookie, res.Header["Set-Cookie"])
		case c.Secure != overTLS || c.Value != tok || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode:
			t.Errorf("TLS %v: cookie %q, want the token, HttpOnly, SameSite=Strict and Secure only over TLS", overTLS, c.String())
		}
	}
}
