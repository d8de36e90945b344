// Package dirlock marks a folder as in use by one running process: a lock
// file inside it, held with an exclusive advisory lock (flock on Unix,
// LockFileEx on Windows) for as long as the process runs. The operating
// system drops the lock when the process ends, however it ends, so a
// folder whose lock file can be locked belongs to no running process, and
// a folder without the lock file was not made by a process using this
// package.
package dirlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FileName is the lock file's name inside a locked folder.
const FileName = ".pkttap-web.lock"

// ErrLocked is wrapped by the error of Acquire and TryStale for a folder
// that a running process holds.
var ErrLocked = errors.New("in use by a running process")

// Lock is a held folder lock.
type Lock struct {
	f *os.File
}

// Acquire locks dir for this process, creating the lock file when there is
// none, and writes the process id into it. It fails with an error wrapping
// ErrLocked, naming the holder's process id, when another process holds it.
// A new lock file is locked before it gets its name, so no other process
// can see it unlocked.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, FileName)
	for range 3 {
		l, err := open(path)
		if err == nil {
			return l, l.writePID()
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		tmp, err := os.CreateTemp(dir, FileName+"-*")
		if err != nil {
			return nil, fmt.Errorf("create lock file: %w", err)
		}
		if err := lockFile(tmp); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return nil, fmt.Errorf("lock %s: %w", tmp.Name(), err)
		}
		// Link, not rename: of two processes creating the lock file at
		// once, one wins and the other locks the winner's file.
		err = os.Link(tmp.Name(), path)
		os.Remove(tmp.Name())
		if err == nil {
			l := &Lock{f: tmp}
			return l, l.writePID()
		}
		tmp.Close()
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create lock file: %w", err)
		}
	}
	return nil, fmt.Errorf("lock %s: the lock file keeps changing", dir)
}

// TryStale locks dir only if it has a lock file (it was made by a process
// using this package) that no running process holds. It returns an error
// wrapping fs.ErrNotExist when there is no lock file, and one wrapping
// ErrLocked when a running process holds it.
func TryStale(dir string) (*Lock, error) {
	return open(filepath.Join(dir, FileName))
}

// open opens and locks an existing lock file.
func open(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("%s %w%s", filepath.Dir(path), ErrLocked, holder(path))
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// holder names the process id written in the lock file at path, if any.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return ""
	}
	return fmt.Sprintf(" (pid %d)", pid)
}

// writePID records this process's id in the lock file, for the message of
// another process that finds the folder locked.
func (l *Lock) writePID() error {
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	if _, err := l.f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	return nil
}

// Release drops the lock (closing the lock file drops it). The lock file
// stays.
func (l *Lock) Release() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("release lock: %w", err)
	}
	return nil
}

// RemoveStale removes dir when it was made by a process using this package
// that is no longer running: it has a lock file that no process holds. It
// reports whether it removed dir. A folder without a lock file, or one a
// running process holds, is left alone.
func RemoveStale(dir string) (bool, error) {
	l, err := TryStale(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrLocked) {
			return false, nil
		}
		return false, err
	}
	// Everything but the lock file goes while the lock is held; the lock
	// file and the folder last (Windows cannot remove an open file).
	entries, err := os.ReadDir(dir)
	if err != nil {
		l.Release()
		return false, fmt.Errorf("read %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		if e.Name() != FileName {
			errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
		}
	}
	errs = append(errs, l.Release())
	if err := errors.Join(errs...); err != nil {
		return false, fmt.Errorf("remove %s: %w", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return false, fmt.Errorf("remove %s: %w", dir, err)
	}
	return true, nil
}
