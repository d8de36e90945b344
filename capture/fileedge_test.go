package capture_test

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkttap/pkttap/capture"
)

// TestPcapngWithoutInterfaces opens a pcapng file whose section has no
// Interface Description Block (a Section Header Block and nothing more):
// with and without a filter it opens, has no interfaces, compiles filters
// without a file snap length and reads to io.EOF. (Kills the mutants of
// openFile and newFileFilter that take len(ifs) >= 0 for > 0, which
// index the missing first interface.)
func TestPcapngWithoutInterfaces(t *testing.T) {
	shb := make([]byte, 28)
	le := binary.LittleEndian
	le.PutUint32(shb[0:], 0x0a0d0d0a)
	le.PutUint32(shb[4:], 28)
	le.PutUint32(shb[8:], 0x1a2b3c4d)
	le.PutUint16(shb[12:], 1)                  // major version
	le.PutUint64(shb[16:], 0xffffffffffffffff) // section length unknown
	le.PutUint32(shb[24:], 28)
	path := filepath.Join(t.TempDir(), "noif.pcapng")
	if err := os.WriteFile(path, shb, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, expr := range []string{"", "udp"} {
		c, err := capture.FromFile(path).Filter(expr).Open()
		if err != nil {
			t.Fatalf("filter %q: %v", expr, err)
		}
		if ifs := c.FileInterfaces(); len(ifs) != 0 {
			t.Errorf("filter %q: FileInterfaces() = %+v, want none", expr, ifs)
		}
		if got := c.FilterOptions().Snaplen; got != 0 {
			t.Errorf("filter %q: FilterOptions().Snaplen = %d, want 0 (no interface gives one)", expr, got)
		}
		if _, err := c.Next(); err != io.EOF {
			t.Errorf("filter %q: Next() = %v, want io.EOF", expr, err)
		}
		c.Close()
	}
}
