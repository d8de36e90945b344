//go:build linux

package platform

import (
	"os"
	"testing"
	"time"
)

func TestRingGeometry(t *testing.T) {
	page := os.Getpagesize()
	tests := []struct {
		name string
		cfg  Config
		want ringParams
		err  bool
	}{
		{"defaults", Config{}, ringParams{DefaultBlockSize, DefaultNumBlocks, 50}, false},
		{"custom", Config{BlockSize: 4 * page, NumBlocks: 3, BlockTimeout: 1500 * time.Microsecond}, ringParams{4 * page, 3, 2}, false},
		{"not a page multiple", Config{BlockSize: page + 1}, ringParams{}, true},
		{"negative size", Config{BlockSize: -page}, ringParams{}, true},
		{"negative count", Config{NumBlocks: -1}, ringParams{}, true},
		{"too many blocks", Config{NumBlocks: 1<<16 + 1}, ringParams{}, true},
		{"over 4 GiB", Config{BlockSize: 1 << 30, NumBlocks: 4}, ringParams{}, true},
	}
	for _, tc := range tests {
		got, err := ringGeometry(tc.cfg)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("%s: ringGeometry = %+v, %v; want %+v (error %v)", tc.name, got, err, tc.want, tc.err)
		}
	}
}
