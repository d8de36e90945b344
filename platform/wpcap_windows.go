//go:build windows

package platform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// permissionHint is ErrPermissionDenied's message on Windows.
const permissionHint = "permission denied: Npcap is installed to allow only administrators to capture; run as Administrator or reinstall Npcap without that option"

// errNpcapMissing is wrapped when wpcap.dll cannot be loaded.
var errNpcapMissing = errors.New("Npcap is not installed (https://npcap.com); install it with \"WinPcap API-compatible mode\" or leave the default options")

var (
	wpcapOnce sync.Once
	wpcapDLL  *wpcap
	wpcapErr  error
)

// loadWpcap loads wpcap.dll once: from System32\Npcap, then System32
// (WinPcap-compatible installs), then a directory on PATH, always by full
// path and with a search restricted to the DLL's own directory and System32
// for its dependencies (Packet.dll), so no DLL can be planted in the
// working directory.
func loadWpcap() (*wpcap, error) {
	wpcapOnce.Do(func() { wpcapDLL, wpcapErr = doLoadWpcap() })
	return wpcapDLL, wpcapErr
}

func doLoadWpcap() (*wpcap, error) {
	sys, err := windows.GetSystemDirectory()
	if err != nil {
		return nil, &PlatformError{Op: "load wpcap.dll", Err: fmt.Errorf("find the system directory: %w", err)}
	}
	candidates := []string{filepath.Join(sys, "Npcap", "wpcap.dll"), filepath.Join(sys, "wpcap.dll")}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if filepath.IsAbs(dir) {
			candidates = append(candidates, filepath.Join(dir, "wpcap.dll"))
		}
	}
	var h windows.Handle
	var tried []string
	for _, path := range candidates {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		h, err = windows.LoadLibraryEx(path, 0, windows.LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR|windows.LOAD_LIBRARY_SEARCH_SYSTEM32)
		if err == nil {
			break
		}
		tried = append(tried, fmt.Sprintf("%s: %v", path, err))
	}
	if h == 0 {
		err := errNpcapMissing
		if len(tried) > 0 {
			err = fmt.Errorf("%w (loading failed: %s)", errNpcapMissing, strings.Join(tried, "; "))
		}
		return nil, &PlatformError{Op: "load wpcap.dll", Err: err}
	}
	w, err := bindWpcap(func(name string) (uintptr, error) { return windows.GetProcAddress(h, name) })
	if err != nil {
		return nil, err
	}
	// Should pcap_init refuse, messages and descriptions stay in the local
	// code page: not a reason to refuse to capture.
	_ = w.initUTF8(call)
	return w, nil
}

// call calls a wpcap.dll function and returns its integer result.
func call(proc uintptr, args ...uintptr) uintptr {
	r, _, _ := syscall.SyscallN(proc, args...)
	return r
}

// cPointer turns a pointer returned by a C function into an
// unsafe.Pointer. The memory is wpcap.dll's, never the Go heap's, so the
// garbage collector has nothing to track; reading the word through a
// pointer keeps go vet's uintptr-to-pointer check quiet for this one
// legitimate case.
func cPointer(r uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&r))
}

// cstr returns a NUL-terminated copy of s.
func cstr(s string) (*byte, error) {
	return windows.BytePtrFromString(s)
}

// findAllDevs returns pcap_findalldevs' devices.
func (w *wpcap) findAllDevs() ([]npcapDevice, error) {
	var list *pcapIf
	errbuf := make([]byte, pcapErrbufSize)
	if int32(call(w.findalldevs, uintptr(unsafe.Pointer(&list)), uintptr(unsafe.Pointer(&errbuf[0])))) != 0 {
		return nil, &PlatformError{Op: "list interfaces", Err: fmt.Errorf("pcap_findalldevs: %s", errbufString(errbuf))}
	}
	defer call(w.freealldevs, uintptr(unsafe.Pointer(list)))
	return walkDevices(list), nil
}

// adapters returns Windows' adapter list, for friendly names.
func adapters() ([]adapterInfo, error) {
	size := uint32(15 << 10)
	for range 3 {
		buf := make([]byte, size)
		first := (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0]))
		err := windows.GetAdaptersAddresses(windows.AF_UNSPEC, windows.GAA_FLAG_SKIP_ANYCAST|windows.GAA_FLAG_SKIP_MULTICAST|windows.GAA_FLAG_SKIP_DNS_SERVER, 0, first, &size)
		if errors.Is(err, windows.ERROR_BUFFER_OVERFLOW) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("GetAdaptersAddresses: %w", err)
		}
		var out []adapterInfo
		for a := first; a != nil; a = a.Next {
			info := adapterInfo{
				guid:         cString(a.AdapterName),
				friendlyName: windows.UTF16PtrToString(a.FriendlyName),
				index:        int(a.IfIndex),
				up:           a.OperStatus == windows.IfOperStatusUp,
			}
			if n := a.PhysicalAddressLength; n > 0 && int(n) <= len(a.PhysicalAddress) {
				info.mac = append([]byte(nil), a.PhysicalAddress[:n]...)
			}
			out = append(out, info)
		}
		return out, nil
	}
	return nil, errors.New("GetAdaptersAddresses: the adapter list keeps growing")
}
