package web

import "testing"

// TestTokenCharacterBounds checks CheckToken at the edges of its rules,
// through New as pkttap-web uses it: '~', the last printable character,
// is allowed and DEL, the next one, is not; eight different characters
// are enough and seven are not.
func TestTokenCharacterBounds(t *testing.T) {
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"tilde", "0123456789abcdef~0123456789abcdef", true},
		{"DEL", "0123456789abcdef\x7f0123456789abcdef", false},
		{"exclamation mark, the first printable character", "!0123456789abcdef0123456789abcdef", true},
		// 43 decimal digits carry 142.8 bits.
		{"8 different characters", "0123456701234567012345670123456701234567012", true},
		{"7 different characters", "0123456012345601234560123456012345601234560", false},
	}
	for _, tt := range tests {
		s, err := New(Config{Addr: "127.0.0.1:0", Token: tt.token, DataDir: t.TempDir()})
		if err == nil {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		}
		if (err == nil) != tt.ok {
			t.Errorf("%s: token %q: error %v, want ok %v", tt.name, tt.token, err, tt.ok)
		}
	}
}
