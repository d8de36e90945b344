package store

import "testing"

// TestDiskBudgetDefault checks that without Config.MaxDisk the budget is
// half the data dir's free space, and that a negative one means none.
func TestDiskBudgetDefault(t *testing.T) {
	dir := t.TempDir()
	free, err := freeSpace(dir)
	if err != nil {
		t.Skipf("free space unknown here: %v", err)
	}
	p := newTestPool(t, Config{DataDir: dir})
	if got, want := p.MaxDisk(), free/2; got > want || got < want-want/10-(1<<20) {
		t.Errorf("default disk budget %d bytes with %d free, want about %d", got, free, want)
	}
	if p := newTestPool(t, Config{MaxDisk: -1}); p.MaxDisk() != 0 || p.Fits(1<<62) != nil {
		t.Errorf("MaxDisk -1: budget %d", p.MaxDisk())
	}
}
