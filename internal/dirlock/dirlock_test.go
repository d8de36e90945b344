package dirlock

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLock checks the life of a lock: a held folder is refused to a second
// locker (flock conflicts between two opens of the file, in one process as
// across processes) and kept by RemoveStale; once released it is stale and
// removed; a folder without a lock file is never touched.
func TestLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "held")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o600)
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, FileName))
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q, want this pid", b)
	}
	_, err = Acquire(dir)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second Acquire: %v, want ErrLocked naming the pid", err)
	}
	if removed, err := RemoveStale(dir); removed || err != nil {
		t.Fatalf("RemoveStale of a held folder: %v %v", removed, err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	// Released: a new Acquire reuses the lock file.
	l2, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
	if removed, err := RemoveStale(dir); !removed || err != nil {
		t.Fatalf("RemoveStale of a released folder: %v %v", removed, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale folder still there: %v", err)
	}

	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "keep"), []byte("x"), 0o600)
	if removed, err := RemoveStale(foreign); removed || err != nil {
		t.Errorf("RemoveStale of a folder without a lock file: %v %v", removed, err)
	}
	if _, err := os.Stat(filepath.Join(foreign, "keep")); err != nil {
		t.Errorf("foreign folder touched: %v", err)
	}
	entries, _ := os.ReadDir(foreign)
	if len(entries) != 1 {
		t.Errorf("foreign folder has %d entries, want 1", len(entries))
	}
}
