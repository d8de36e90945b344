//go:build unix

package platform

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// BSD BPF device opening, as libpcap's bpf_open does it. Platform-neutral
// (for Unix systems) so that it runs in tests everywhere; only macOS opens
// real devices with it.

// bpfMaxDevices bounds the walk over /dev/bpfN.
const bpfMaxDevices = 256

// openFunc opens a path with open(2)'s flags: unix.Open, or a test's model
// of a system's devices.
type openFunc func(path string, flags int) (int, error)

// openBPFDevice opens a free BPF device in dir ("/dev" on a real system):
// the cloning dir/bpf where it exists, else the first of dir/bpf0, bpf1,
// ... that is not busy. Each is opened read-write and, when that is
// refused (EACCES), read-only: capturing needs only reading, and a user
// given read access to /dev/bpf* (Wireshark's ChmodBPF) may capture.
// name is the interface the device is for, for error messages.
func openBPFDevice(open openFunc, dir, name string) (int, error) {
	fail := func(err error) (int, error) {
		return -1, &PlatformError{Op: "open", Interface: name, Err: err}
	}
	cloning := dir + "/bpf"
	fd, err := openReadable(open, cloning)
	switch {
	case err == nil:
		return fd, nil
	case errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM):
		return fail(fmt.Errorf("open %s: %w (%w)", cloning, ErrPermissionDenied, err))
	case !errors.Is(err, unix.ENOENT):
		return fail(fmt.Errorf("open %s: %w", cloning, err))
	}
	for i := 0; i < bpfMaxDevices; i++ {
		dev := fmt.Sprintf("%s/bpf%d", dir, i)
		fd, err := openReadable(open, dev)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.EBUSY):
			continue
		case errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM):
			return fail(fmt.Errorf("open %s: %w (%w)", dev, ErrPermissionDenied, err))
		case errors.Is(err, unix.ENOENT) && i == 0:
			return fail(fmt.Errorf("there are no BPF devices (neither %s nor %s exists): %w", cloning, dev, err))
		case errors.Is(err, unix.ENOENT):
			return fail(fmt.Errorf("all %d BPF devices (%s/bpf0 to bpf%d) are busy; close other captures: %w", i, dir, i-1, err))
		default:
			return fail(fmt.Errorf("open %s: %w", dev, err))
		}
	}
	return fail(fmt.Errorf("all %d BPF devices (%s/bpf0 to bpf%d) are busy; close other captures", bpfMaxDevices, dir, bpfMaxDevices-1))
}

// openReadable opens path read-write, and read-only when read-write is
// refused for lack of permission.
func openReadable(open openFunc, path string) (int, error) {
	fd, err := open(path, unix.O_RDWR|unix.O_CLOEXEC)
	if errors.Is(err, unix.EACCES) {
		fd, err = open(path, unix.O_RDONLY|unix.O_CLOEXEC)
	}
	return fd, err
}
