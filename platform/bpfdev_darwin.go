//go:build darwin

package platform

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/pkttap/pkttap/pcapio"
)

// permissionHint is ErrPermissionDenied's message on macOS.
const permissionHint = "permission denied: run as root, or give your user read access to /dev/bpf* (Wireshark's ChmodBPF does this)"

// bpfMaxBuffer is the buffer size tried first; it is halved until the
// kernel accepts it when the interface is bound.
const bpfMaxBuffer = 512 << 10

// bpfMaxInsns is the most instructions macOS accepts in a BPF program.
const bpfMaxInsns = 512

// ioctlPtr issues an ioctl whose argument is a pointer to arg.
func ioctlPtr(fd int, req uint, arg unsafe.Pointer) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
	if errno != 0 {
		return errno
	}
	return nil
}

// bpfIfreq is struct ifreq as BIOCSETIF reads it: the name and a union
// this ioctl does not use.
type bpfIfreq struct {
	name [unix.IFNAMSIZ]byte
	_    [16]byte
}

// bindBPF sets the buffer size, halving it from bpfMaxBuffer until the
// kernel accepts it, and binds the device to the interface (BIOCSBLEN must
// come before BIOCSETIF). It returns the buffer size in use.
func bindBPF(fd int, name string) (int, error) {
	var ifr bpfIfreq
	if len(name) >= len(ifr.name) {
		return 0, &PlatformError{Op: "open", Interface: name, Err: errors.New("no such interface (the name is too long)")}
	}
	copy(ifr.name[:], name)
	for size := bpfMaxBuffer; size >= 4096; size /= 2 {
		if err := unix.IoctlSetPointerInt(fd, unix.BIOCSBLEN, size); err != nil {
			return 0, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("ioctl BIOCSBLEN %d: %w", size, err)}
		}
		err := ioctlPtr(fd, unix.BIOCSETIF, unsafe.Pointer(&ifr))
		switch {
		case err == nil:
			n, err := unix.IoctlGetInt(fd, unix.BIOCGBLEN)
			if err != nil {
				return 0, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("ioctl BIOCGBLEN: %w", err)}
			}
			return n, nil
		case errors.Is(err, unix.ENOBUFS):
			continue
		case errors.Is(err, unix.ENXIO), errors.Is(err, unix.ENODEV):
			return 0, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("no such interface (list them with Interfaces): %w", err)}
		default:
			return 0, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("ioctl BIOCSETIF: %w", err)}
		}
	}
	return 0, &PlatformError{Op: "open", Interface: name, Err: errors.New("the kernel accepted no BPF buffer size down to 4 KiB (ENOBUFS)")}
}

// setBPFFilter installs the caller's program, or "ret #snaplen" (BPF has no
// snap-length ioctl, the filter's return value is the snap length).
func setBPFFilter(fd int, name string, lt pcapio.LinkType, filterFor func(pcapio.LinkType) ([]bpf.RawInstruction, error), snaplen int) error {
	prog, err := programFor(filterFor, lt, snaplen)
	if err != nil {
		return err
	}
	if len(prog) > bpfMaxInsns {
		return &PlatformError{Op: "set filter", Interface: name, Err: fmt.Errorf("the program has %d instructions; macOS accepts at most %d (simplify the filter)", len(prog), bpfMaxInsns)}
	}
	insns := make([]unix.BpfInsn, len(prog))
	for i, ins := range prog {
		insns[i] = unix.BpfInsn{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	bp := unix.BpfProgram{Len: uint32(len(insns)), Insns: &insns[0]}
	if err := ioctlPtr(fd, unix.BIOCSETF, unsafe.Pointer(&bp)); err != nil {
		return &PlatformError{Op: "set filter", Interface: name, Err: fmt.Errorf("ioctl BIOCSETF (the kernel rejected the program): %w", err)}
	}
	return nil
}

// bpfStats reads BIOCGSTATS, whose counters are cumulative since the
// device was opened: Received counts every packet the device saw (before
// filtering, as libpcap's ps_recv on BSD), Dropped those lost for lack of
// buffer space.
func bpfStats(fd int) (Stats, error) {
	var st unix.BpfStat
	if err := ioctlPtr(fd, unix.BIOCGSTATS, unsafe.Pointer(&st)); err != nil {
		return Stats{}, fmt.Errorf("ioctl BIOCGSTATS: %w", err)
	}
	return Stats{Received: uint64(st.Recv), Dropped: uint64(st.Drop)}, nil
}
