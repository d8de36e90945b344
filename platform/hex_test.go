package platform

import (
	"encoding/hex"
	"strings"
	"testing"
)

// unhex decodes hex test data. "s" stands for 5, so that a source MAC
// address reads "ssssssssssss" in tables beside a destination "dddddddddddd".
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer("s", "5").Replace(s))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}
