//go:build windows

package platform

import (
	"errors"
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/windows"

	"github.com/pkttap/pkttap/pcapio"
)

// wpcapHandle is a pcap_t of wpcap.dll, as npcapReader calls it.
type wpcapHandle struct {
	w     *wpcap
	p     uintptr // pcap_t*
	event windows.Handle
}

var _ pcapHandle = (*wpcapHandle)(nil)

func (h *wpcapHandle) nextEx() (pcapPkthdr, []byte, int32) {
	var hdr *pcapPkthdr
	var data *byte
	rc := int32(call(h.w.nextEx, h.p, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data))))
	if rc != 1 || hdr == nil {
		return pcapPkthdr{}, nil, rc
	}
	return *hdr, unsafe.Slice(data, int(hdr.caplen)), rc
}

func (h *wpcapHandle) stats() (pcapStat, bool) {
	var st pcapStat
	ok := int32(call(h.w.stats, h.p, uintptr(unsafe.Pointer(&st)))) == 0
	return st, ok
}

func (h *wpcapHandle) geterr() string {
	return cString((*byte)(cPointer(call(h.w.geterr, h.p))))
}

func (h *wpcapHandle) breakloop() { call(h.w.breakloop, h.p) }

func (h *wpcapHandle) waitEvent(ms uint32) error {
	_, err := windows.WaitForSingleObject(h.event, ms)
	return err
}

func (h *wpcapHandle) setEvent() error { return windows.SetEvent(h.event) }

func (h *wpcapHandle) close() { call(h.w.close, h.p) }

// open opens an Npcap capture on cfg.Interface (a friendly name, a
// description or a \Device\NPF_ name): the handle is created, set up and
// activated here; reading, the counters and Close are npcapReader's, which
// tests drive with a fake wpcap.dll on every system.
func open(cfg Config) (src Source, err error) {
	name := cfg.Interface
	if name == "" {
		return nil, &PlatformError{Op: "open", Err: errors.New("no interface given (list them with Interfaces)")}
	}
	w, devs, ads, err := npcapDevices()
	if err != nil {
		return nil, err
	}
	device, err := resolveDeviceName(name, devs, ads)
	if err != nil {
		return nil, &PlatformError{Op: "open", Interface: name, Err: err}
	}
	r := &npcapReader{snaplen: cfg.snaplen(), name: name}
	for _, it := range buildInterfaces(devs, ads) {
		if it.Name == device {
			r.ifindex = it.Index
		}
	}
	cdev, err := cstr(device)
	if err != nil {
		return nil, &PlatformError{Op: "open", Interface: name, Err: err}
	}
	errbuf := make([]byte, pcapErrbufSize)
	h := &wpcapHandle{w: w}
	h.p = call(w.create, uintptr(unsafe.Pointer(cdev)), uintptr(unsafe.Pointer(&errbuf[0])))
	runtime.KeepAlive(cdev)
	if h.p == 0 {
		return nil, &PlatformError{Op: "open", Interface: name, Err: fmt.Errorf("pcap_create %s: %s", device, errbufString(errbuf))}
	}
	r.h = h
	defer func() {
		if err != nil {
			h.close()
		}
	}()
	promisc := uintptr(0)
	if cfg.Promiscuous {
		promisc = 1
	}
	call(w.setSnaplen, h.p, uintptr(r.snaplen))
	call(w.setPromisc, h.p, promisc)
	call(w.setTimeout, h.p, uintptr((cfg.blockTimeout()+time.Millisecond-1)/time.Millisecond))
	if w.setImmediateMode != 0 {
		// Without it Npcap holds packets until 16000 bytes are buffered.
		call(w.setImmediateMode, h.p, 1)
	}
	switch rc := int32(call(w.activate, h.p)); {
	case rc < 0:
		return nil, activateError(name, rc, h.geterr())
	case rc > 0:
		// PCAP_WARNING_*: the capture runs, with something missing.
		r.warn(name, fmt.Errorf("pcap_activate: %s", activateWarning(rc, h.geterr())))
	}
	if r.lt, err = linkTypeFromDLT("windows", uint32(call(w.datalink, h.p))); err != nil {
		return nil, &PlatformError{Op: "open", Interface: name, Err: err}
	}
	if err = r.setFilter(w, h.p, cfg.FilterFor); err != nil {
		return nil, err
	}
	h.event = windows.Handle(call(w.getevent, h.p))
	if h.event == 0 {
		return nil, &PlatformError{Op: "open", Interface: name, Err: errors.New("pcap_getevent returned no event handle")}
	}
	return r, nil
}

// setFilter installs the caller's program, or "ret #snaplen". The program
// lives in Go memory for the duration of the call; pcap_setfilter copies it.
func (r *npcapReader) setFilter(w *wpcap, p uintptr, filterFor func(pcapio.LinkType) ([]bpf.RawInstruction, error)) error {
	prog, err := programFor(filterFor, r.lt, r.snaplen)
	if err != nil {
		return err
	}
	insns := make([]bpfInsn, len(prog))
	for i, ins := range prog {
		insns[i] = bpfInsn{code: ins.Op, jt: ins.Jt, jf: ins.Jf, k: ins.K}
	}
	bp := bpfProgram{len: uint32(len(insns)), insns: &insns[0]}
	rc := int32(call(w.setfilter, p, uintptr(unsafe.Pointer(&bp))))
	runtime.KeepAlive(&bp)
	runtime.KeepAlive(insns)
	if rc != 0 {
		return &PlatformError{Op: "set filter", Interface: r.name, Err: fmt.Errorf("pcap_setfilter: %s", r.h.geterr())}
	}
	return nil
}
