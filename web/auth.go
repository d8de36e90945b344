package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// tokenCookie is the cookie that carries the access token after the first
// request that gave it as a query parameter.
const tokenCookie = "pkttap_token"

// NewToken returns a fresh random access token (32 hex digits).
func NewToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// MinTokenBits is the least strength, in bits, of an access token.
const MinTokenBits = 128

// CheckToken reports whether tok is fit to be an access token: printable
// ASCII without spaces, and at least MinTokenBits strong, counting for each
// character the bits of the smallest usual alphabet that holds them all
// (decimal digits 3.3, hex digits 4, lower-case letters and digits 5.2,
// letters and digits 5.95, base64 6, any printable character 6.55), and
// with at least 8 different characters. 32 hex digits (NewToken, or
// openssl rand -hex 16) are enough.
func CheckToken(tok string) error {
	const hint = "(try 32 hex digits: openssl rand -hex 16)"
	distinct := map[rune]bool{}
	for _, r := range tok {
		if r <= ' ' || r > '~' {
			return fmt.Errorf("access token %s must be printable ASCII without spaces %s", describeToken(tok), hint)
		}
		distinct[r] = true
	}
	alphabets := []struct {
		chars string
		size  float64
	}{
		{"0123456789", 10},
		{"0123456789abcdef", 16},
		{"0123456789ABCDEF", 16},
		{"0123456789abcdefghijklmnopqrstuvwxyz", 36},
		{"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 36},
		{"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 62},
		{"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/=-_", 64},
	}
	size := 94.0 // printable ASCII but space
	for _, a := range alphabets {
		if strings.Trim(tok, a.chars) == "" {
			size = a.size
			break
		}
	}
	bits := float64(len(tok)) * math.Log2(size)
	if bits < MinTokenBits || len(distinct) < 8 {
		return fmt.Errorf("access token %s is too weak: it must carry at least %d bits, and %d characters from an alphabet of %.0f carry at most %.0f, with %d different characters %s",
			describeToken(tok), MinTokenBits, len(tok), size, bits, len(distinct), hint)
	}
	return nil
}

// describeToken names a token in an error message without showing it.
func describeToken(tok string) string { return fmt.Sprintf("of %d characters", len(tok)) }

// IsLoopback reports whether a listen address ("127.0.0.1:8080",
// "[::1]:0", "localhost:8080") binds only the loopback interface. An empty
// host (":8080") binds every interface and is not loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return loopbackHost(host)
}

// loopbackHost reports whether host (without port or brackets) is
// localhost or a loopback IP address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// requireToken rejects with 401 every request that carries neither the
// token (as ?token=, an Authorization header of the Bearer scheme, in any case, or the cookie). A
// request with a valid ?token= gets the cookie, and a page load is
// redirected to the same URL without the token so it does not stay in the
// address bar or the history.
func requireToken(token string, next http.Handler) http.Handler {
	want := []byte(token)
	ok := func(got string) bool { return subtle.ConstantTimeCompare([]byte(got), want) == 1 }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query().Get("token"); q != "" && ok(q) {
			http.SetCookie(w, &http.Cookie{
				Name: tokenCookie, Value: token, Path: "/",
				HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
			})
			if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/api/") {
				u := *r.URL
				v := u.Query()
				v.Del("token")
				u.RawQuery = v.Encode()
				http.Redirect(w, r, (&url.URL{Path: u.Path, RawQuery: u.RawQuery}).String(), http.StatusSeeOther)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(tokenCookie); err == nil && ok(c.Value) {
			next.ServeHTTP(w, r)
			return
		}
		if b, found := bearerToken(r.Header.Get("Authorization")); found && ok(b) {
			next.ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusUnauthorized, "missing or wrong access token: open the URL pkttap-web printed at start-up (it ends in ?token=...)")
	})
}

// loopbackHostOnly protects a loopback server without a token from DNS
// rebinding: a page on another site that resolves its own name to 127.0.0.1
// sends that name in the Host header, and is refused.
func loopbackHostOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !loopbackHost(strings.Trim(host, "[]")) {
			writeError(w, http.StatusForbidden, "this server only answers requests addressed to a loopback host (127.0.0.1, [::1] or localhost)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken returns the token of an Authorization header of the Bearer
// scheme, whose name is matched without regard to case (RFC 9110, section
// 11.1), followed by one or more spaces.
func bearerToken(h string) (string, bool) {
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimLeft(tok, " ")
	return tok, tok != ""
}
