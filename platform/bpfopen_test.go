//go:build unix

package platform

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// bpfDevices models a system's BPF device nodes for openBPFDevice: what
// open(2) answers for each path, read-write and read-only. Paths not
// listed do not exist.
type bpfDevices map[string]struct{ rdwr, rdonly error }

// open answers as the model says, with descriptor 3 for success, and
// records what was tried.
func (d bpfDevices) open(tried *[]string) openFunc {
	return func(path string, flags int) (int, error) {
		mode := "rw"
		if flags&unix.O_ACCMODE == unix.O_RDONLY {
			mode = "r"
		}
		*tried = append(*tried, path+":"+mode)
		dev, ok := d[path]
		if !ok {
			return -1, unix.ENOENT
		}
		if err := dev.rdwr; mode == "rw" && err != nil {
			return -1, err
		}
		if err := dev.rdonly; mode == "r" && err != nil {
			return -1, err
		}
		return 3, nil
	}
}

// TestOpenBPFDevice checks the device walk against libpcap's bpf_open:
// the cloning device first, then bpf0, bpf1, ... past busy ones; a
// read-only open when read-write is refused (a user given read access to
// /dev/bpf*); and what each failure says.
func TestOpenBPFDevice(t *testing.T) {
	ok := struct{ rdwr, rdonly error }{}
	busy := struct{ rdwr, rdonly error }{unix.EBUSY, unix.EBUSY}
	readOnly := struct{ rdwr, rdonly error }{unix.EACCES, nil}
	denied := struct{ rdwr, rdonly error }{unix.EACCES, unix.EACCES}
	tests := []struct {
		name    string
		devs    bpfDevices
		tried   string
		wantErr string // "" for success
		perm    bool   // the error wraps ErrPermissionDenied
	}{
		{"cloning", bpfDevices{"/dev/bpf": ok}, "/dev/bpf:rw", "", false},
		{"cloning read-only", bpfDevices{"/dev/bpf": readOnly}, "/dev/bpf:rw /dev/bpf:r", "", false},
		{"cloning denied", bpfDevices{"/dev/bpf": denied}, "/dev/bpf:rw /dev/bpf:r",
			"platform: open en0: open /dev/bpf: permission denied", true},
		{"numbered", bpfDevices{"/dev/bpf0": busy, "/dev/bpf1": ok}, "/dev/bpf:rw /dev/bpf0:rw /dev/bpf1:rw", "", false},
		{"numbered read-only", bpfDevices{"/dev/bpf0": busy, "/dev/bpf1": readOnly},
			"/dev/bpf:rw /dev/bpf0:rw /dev/bpf1:rw /dev/bpf1:r", "", false},
		{"numbered busy read-only", bpfDevices{"/dev/bpf0": {unix.EACCES, unix.EBUSY}, "/dev/bpf1": readOnly},
			"/dev/bpf:rw /dev/bpf0:rw /dev/bpf0:r /dev/bpf1:rw /dev/bpf1:r", "", false},
		{"numbered denied", bpfDevices{"/dev/bpf0": busy, "/dev/bpf1": denied},
			"/dev/bpf:rw /dev/bpf0:rw /dev/bpf1:rw /dev/bpf1:r", "platform: open en0: open /dev/bpf1: permission denied", true},
		{"no devices", bpfDevices{}, "/dev/bpf:rw /dev/bpf0:rw",
			"platform: open en0: there are no BPF devices (neither /dev/bpf nor /dev/bpf0 exists): no such file or directory", false},
		{"all busy", bpfDevices{"/dev/bpf0": busy, "/dev/bpf1": busy}, "/dev/bpf:rw /dev/bpf0:rw /dev/bpf1:rw /dev/bpf2:rw",
			"platform: open en0: all 2 BPF devices (/dev/bpf0 to bpf1) are busy; close other captures: no such file or directory", false},
		{"cloning fails", bpfDevices{"/dev/bpf": {unix.EIO, nil}}, "/dev/bpf:rw",
			"platform: open en0: open /dev/bpf: " + unix.EIO.Error(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tried []string
			fd, err := openBPFDevice(tc.devs.open(&tried), "/dev", "en0")
			if got := strings.Join(tried, " "); got != tc.tried {
				t.Errorf("tried %s\nwant  %s", got, tc.tried)
			}
			if tc.wantErr == "" {
				if err != nil || fd != 3 {
					t.Fatalf("openBPFDevice = %d, %v; want descriptor 3", fd, err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("openBPFDevice = %d, %v\nwant an error starting %q", fd, err, tc.wantErr)
			}
			if errors.Is(err, ErrPermissionDenied) != tc.perm {
				t.Errorf("errors.Is(err, ErrPermissionDenied) = %v, want %v", !tc.perm, tc.perm)
			}
		})
	}
}
