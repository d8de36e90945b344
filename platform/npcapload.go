package platform

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// wpcap.dll's entry points, found by name once the DLL is loaded
// (wpcap_windows.go). Platform-neutral so that tests bind and initialise a
// fake DLL on every system.

// wpcap holds wpcap.dll's entry points.
type wpcap struct {
	findalldevs, freealldevs                             uintptr
	create, setSnaplen, setPromisc, setTimeout, activate uintptr
	setImmediateMode                                     uintptr // optional (Npcap 0.9+)
	initLib                                              uintptr // optional: pcap_init (Npcap 1.10+)
	geterr, datalink, setfilter, nextEx, stats, getevent uintptr
	breakloop, close                                     uintptr
}

// pcapCharEncUTF8 is pcap_init's PCAP_CHAR_ENC_UTF_8: error messages and
// device descriptions in UTF-8 rather than the local code page.
const pcapCharEncUTF8 = 1

// bindWpcap finds wpcap.dll's entry points with lookup (GetProcAddress). A
// missing optional one is left 0; a missing required one is an error
// naming it.
func bindWpcap(lookup func(name string) (uintptr, error)) (*wpcap, error) {
	w := &wpcap{}
	procs := []struct {
		name     string
		addr     *uintptr
		optional bool
	}{
		{"pcap_init", &w.initLib, true},
		{"pcap_findalldevs", &w.findalldevs, false},
		{"pcap_freealldevs", &w.freealldevs, false},
		{"pcap_create", &w.create, false},
		{"pcap_set_snaplen", &w.setSnaplen, false},
		{"pcap_set_promisc", &w.setPromisc, false},
		{"pcap_set_timeout", &w.setTimeout, false},
		{"pcap_set_immediate_mode", &w.setImmediateMode, true},
		{"pcap_activate", &w.activate, false},
		{"pcap_geterr", &w.geterr, false},
		{"pcap_datalink", &w.datalink, false},
		{"pcap_setfilter", &w.setfilter, false},
		{"pcap_next_ex", &w.nextEx, false},
		{"pcap_stats", &w.stats, false},
		{"pcap_getevent", &w.getevent, false},
		{"pcap_breakloop", &w.breakloop, false},
		{"pcap_close", &w.close, false},
	}
	for _, p := range procs {
		addr, err := lookup(p.name)
		if err != nil || addr == 0 {
			if p.optional {
				continue
			}
			if err == nil {
				err = errors.New("no address")
			}
			return nil, &PlatformError{Op: "load wpcap.dll", Err: fmt.Errorf("%s is missing (Npcap too old? install a current one from https://npcap.com): %w", p.name, err)}
		}
		*p.addr = addr
	}
	return w, nil
}

// initUTF8 calls pcap_init(PCAP_CHAR_ENC_UTF_8), before any other call,
// where wpcap.dll has it, so that pcap_geterr's messages and
// pcap_findalldevs' descriptions are UTF-8, as Go strings are; older
// versions speak the local code page, and then so do their messages. call
// calls a DLL function (syscall.SyscallN on Windows).
func (w *wpcap) initUTF8(call func(proc uintptr, args ...uintptr) uintptr) error {
	if w.initLib == 0 {
		return nil
	}
	errbuf := make([]byte, pcapErrbufSize)
	rc := int32(call(w.initLib, pcapCharEncUTF8, uintptr(unsafe.Pointer(&errbuf[0]))))
	runtime.KeepAlive(errbuf)
	if rc != 0 {
		return &PlatformError{Op: "load wpcap.dll", Err: fmt.Errorf("pcap_init(PCAP_CHAR_ENC_UTF_8): %s", errbufString(errbuf))}
	}
	return nil
}
