package platform

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkttap/pkttap/pcapio"
)

// fakeResult is one pcap_next_ex answer of fakePcap.
type fakeResult struct {
	rc   int32
	hdr  pcapPkthdr
	data []byte
}

// fakePcap is a wpcap.dll pcap_t as npcapReader sees it: pcap_next_ex
// answers from a queue (0, a read timeout, when it is empty), a packet's
// bytes live in the handle's one buffer (overwritten by the next call,
// poisoned by pcap_close), the event is a channel, and it records the
// calls in order and whether two calls ever ran on the handle at once,
// which a real pcap_t does not survive.
type fakePcap struct {
	mu        sync.Mutex
	queue     []fakeResult
	buf       []byte
	log       []string
	errmsg    string
	breakFlag bool
	closed    bool
	recv      uint32

	inCall    atomic.Int32
	overlap   atomic.Bool // two handle calls ran at the same time
	afterUse  atomic.Bool // a call came after pcap_close
	event     chan struct{}
	nextDelay time.Duration // how long pcap_next_ex takes (the driver's read timeout)
}

func newFakePcap() *fakePcap {
	return &fakePcap{buf: make([]byte, 2048), event: make(chan struct{}, 1), errmsg: "PacketReceivePacket failed: the adapter was removed"}
}

func (f *fakePcap) push(rs ...fakeResult) {
	f.mu.Lock()
	f.queue = append(f.queue, rs...)
	f.mu.Unlock()
	f.setEvent()
}

// enter and leave bracket a call on the handle.
func (f *fakePcap) enter(name string) {
	if f.inCall.Add(1) > 1 {
		f.overlap.Store(true)
	}
	f.mu.Lock()
	f.log = append(f.log, name)
	if f.closed {
		f.afterUse.Store(true)
	}
	f.mu.Unlock()
}

func (f *fakePcap) leave() { f.inCall.Add(-1) }

func (f *fakePcap) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func (f *fakePcap) nextEx() (pcapPkthdr, []byte, int32) {
	f.enter("pcap_next_ex")
	defer f.leave()
	time.Sleep(f.nextDelay)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.breakFlag {
		f.breakFlag = false
		return pcapPkthdr{}, nil, pcapErrorBreak
	}
	if len(f.queue) == 0 {
		return pcapPkthdr{}, nil, 0
	}
	r := f.queue[0]
	f.queue = f.queue[1:]
	if r.rc != 1 {
		return pcapPkthdr{}, nil, r.rc
	}
	f.recv++
	n := copy(f.buf, r.data)
	return r.hdr, f.buf[:n], 1
}

func (f *fakePcap) stats() (pcapStat, bool) {
	f.enter("pcap_stats")
	defer f.leave()
	time.Sleep(time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	return pcapStat{recv: f.recv, drop: 3, ifdrop: 0}, true
}

func (f *fakePcap) geterr() string {
	f.enter("pcap_geterr")
	defer f.leave()
	return f.errmsg
}

// breakloop may run beside other calls, as libpcap allows.
func (f *fakePcap) breakloop() {
	f.mu.Lock()
	f.log = append(f.log, "pcap_breakloop")
	f.breakFlag = true
	f.mu.Unlock()
}

func (f *fakePcap) waitEvent(ms uint32) error {
	select {
	case <-f.event:
	case <-time.After(time.Duration(ms) * time.Millisecond):
	}
	return nil
}

func (f *fakePcap) setEvent() error {
	f.mu.Lock()
	f.log = append(f.log, "SetEvent")
	f.mu.Unlock()
	select {
	case f.event <- struct{}{}:
	default:
	}
	return nil
}

func (f *fakePcap) close() {
	f.enter("pcap_close")
	defer f.leave()
	f.mu.Lock()
	f.closed = true
	for i := range f.buf {
		f.buf[i] = 0xdd // freed memory
	}
	f.mu.Unlock()
}

func newFakeReader(f *fakePcap) *npcapReader {
	return &npcapReader{h: f, lt: pcapio.LinkTypeEthernet, snaplen: 100, ifindex: 12, name: "Ethernet"}
}

func fakePacket(sec, usec int32, wireLen int, data []byte) fakeResult {
	return fakeResult{rc: 1, hdr: pcapPkthdr{sec: sec, usec: usec, caplen: uint32(len(data)), len: uint32(wireLen)}, data: data}
}

// TestNpcapReaderNextEx drives the reader through pcap_next_ex's results:
// packets (1), read timeouts (0) that wait on the event, a break (-2) that
// Close did not ask for, which is ignored, and an error (-1), reported with
// pcap_geterr's message.
func TestNpcapReaderNextEx(t *testing.T) {
	f := newFakePcap()
	r := newFakeReader(f)
	long := bytes.Repeat([]byte{7}, 150)
	f.push(
		fakePacket(1700000000, 123456, 60, bytes.Repeat([]byte{1}, 60)),
		fakeResult{rc: 0},
		fakeResult{rc: pcapErrorBreak},
		fakePacket(1700000001, 1, 1514, long),
	)
	p, err := r.NextZeroCopy()
	if err != nil || !bytes.Equal(p.Data, bytes.Repeat([]byte{1}, 60)) || p.Length != 60 ||
		!p.Timestamp.Equal(time.Unix(1700000000, 123456000)) || p.LinkType != pcapio.LinkTypeEthernet || p.InterfaceIndex != 12 {
		t.Fatalf("first packet = %+v, %v", p, err)
	}
	buf := make([]byte, 0, 256)
	p, err = r.NextInto(buf)
	if err != nil || !bytes.Equal(p.Data, long[:100]) || p.Length != 1514 || &p.Data[0] != &buf[:1][0] {
		t.Fatalf("second packet (after a timeout and a stray break) = %d bytes, length %d, %v; want 100 bytes (the snap length) in the caller's buffer", len(p.Data), p.Length, err)
	}
	// A read timeout, then a packet pushed while the reader waits.
	go func() {
		time.Sleep(20 * time.Millisecond)
		f.push(fakePacket(5, 0, 4, []byte{1, 2, 3, 4}))
	}()
	if p, err = r.NextZeroCopy(); err != nil || !bytes.Equal(p.Data, []byte{1, 2, 3, 4}) {
		t.Fatalf("packet after waiting on the event = %x, %v", p.Data, err)
	}
	f.push(fakeResult{rc: -1})
	_, err = r.NextZeroCopy()
	var pe *PlatformError
	if !errors.As(err, &pe) || pe.Op != "read" || pe.Interface != "Ethernet" || !strings.Contains(err.Error(), "pcap_next_ex: PacketReceivePacket failed") {
		t.Fatalf("pcap_next_ex -1 = %v, want a read error with pcap_geterr's message", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if f.overlap.Load() || f.afterUse.Load() {
		t.Errorf("handle calls overlapped (%v) or came after pcap_close (%v): %v", f.overlap.Load(), f.afterUse.Load(), f.calls())
	}
}

// TestNpcapReaderClose closes the reader from another goroutine while it
// waits for packets, with Stats called all along from a third: Close must
// break the reader out (pcap_breakloop and the event), wait for it to
// leave, read the final counts and only then call pcap_close, once; a
// packet returned before Close must keep its bytes after pcap_close frees
// wpcap's buffer; and pcap_stats must never run during pcap_next_ex.
func TestNpcapReaderClose(t *testing.T) {
	f := newFakePcap()
	f.nextDelay = 2 * time.Millisecond
	r := newFakeReader(f)
	f.push(fakePacket(1, 0, 8, []byte("lent-out")))
	kept, err := r.NextZeroCopy()
	if err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var statsWG sync.WaitGroup
	statsWG.Add(1)
	go func() {
		defer statsWG.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := r.Stats(); err != nil {
				t.Errorf("Stats: %v", err)
				return
			}
		}
	}()
	readerOut := make(chan error, 1)
	var outAt atomic.Int64 // the length of the call log when the reader returned
	go func() {
		_, err := r.NextZeroCopy() // the queue is empty: timeouts and waits
		outAt.Store(int64(len(f.calls())))
		readerOut <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-readerOut:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("the reader returned %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not wake the reader")
	}
	close(stop)
	statsWG.Wait()

	if f.overlap.Load() {
		t.Error("pcap_stats ran during pcap_next_ex (or another pair of handle calls overlapped)")
	}
	if f.afterUse.Load() {
		t.Error("a handle call came after pcap_close")
	}
	calls := f.calls()
	idx := func(name string) int { // the last call of that name
		for i := len(calls) - 1; i >= 0; i-- {
			if calls[i] == name {
				return i
			}
		}
		return -1
	}
	closes := 0
	for _, c := range calls {
		if c == "pcap_close" {
			closes++
		}
	}
	brk, ev, cl := idx("pcap_breakloop"), idx("SetEvent"), idx("pcap_close")
	last := len(calls) - 1
	switch {
	case closes != 1:
		t.Errorf("pcap_close called %d times", closes)
	case brk < 0 || ev < brk || cl != last || calls[last-1] != "pcap_stats":
		t.Errorf("Close's calls: want pcap_breakloop, SetEvent, ..., pcap_stats, pcap_close last; got the tail %v", calls[max(0, brk-1):])
	case int(outAt.Load()) > cl:
		t.Errorf("pcap_close (call %d) came before the reader was out (at call %d)", cl, outAt.Load())
	}
	if string(kept.Data) != "lent-out" {
		t.Errorf("a packet returned before Close reads %q after pcap_close: NextZeroCopy lent out wpcap's buffer", kept.Data)
	}
	st, err := r.Stats()
	if err != nil || st.Received != 1 || st.Dropped != 3 || st.IfDropped != 0 {
		t.Errorf("Stats after Close = %+v, %v; want the counts at Close", st, err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := r.NextZeroCopy(); !errors.Is(err, ErrClosed) {
		t.Errorf("NextZeroCopy after Close = %v", err)
	}
	if n := len(f.calls()); n != len(calls) {
		t.Errorf("calls after Close: %v", f.calls()[len(calls):])
	}
}

// TestBindWpcap binds a fake wpcap.dll: every required entry point must be
// there (a missing one is named), pcap_init and pcap_set_immediate_mode
// may be missing (older Npcap), and pcap_init, where present, is called
// with PCAP_CHAR_ENC_UTF_8 so that messages and descriptions are UTF-8.
func TestBindWpcap(t *testing.T) {
	all := []string{"pcap_init", "pcap_findalldevs", "pcap_freealldevs", "pcap_create", "pcap_set_snaplen", "pcap_set_promisc",
		"pcap_set_timeout", "pcap_set_immediate_mode", "pcap_activate", "pcap_geterr", "pcap_datalink", "pcap_setfilter",
		"pcap_next_ex", "pcap_stats", "pcap_getevent", "pcap_breakloop", "pcap_close"}
	dll := func(missing ...string) func(string) (uintptr, error) {
		return func(name string) (uintptr, error) {
			for _, m := range missing {
				if m == name {
					return 0, errors.New("The specified procedure could not be found.")
				}
			}
			for i, n := range all {
				if n == name {
					return uintptr(0x1000 + i), nil
				}
			}
			t.Errorf("looked up %s, which pkttap does not use", name)
			return 0, errors.New("not found")
		}
	}
	type callRec struct {
		proc uintptr
		args []uintptr
	}
	var called []callRec
	call := func(rc uintptr) func(proc uintptr, args ...uintptr) uintptr {
		return func(proc uintptr, args ...uintptr) uintptr {
			called = append(called, callRec{proc, args})
			return rc
		}
	}

	w, err := bindWpcap(dll())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.initUTF8(call(0)); err != nil {
		t.Fatal(err)
	}
	if len(called) != 1 || called[0].proc != 0x1000 || len(called[0].args) != 2 || called[0].args[0] != pcapCharEncUTF8 {
		t.Errorf("initUTF8 calls %+v, want pcap_init(PCAP_CHAR_ENC_UTF_8, errbuf)", called)
	}
	if w.close != 0x1000+16 || w.setImmediateMode == 0 {
		t.Errorf("entry points bound wrongly: %+v", w)
	}
	if err := w.initUTF8(call(^uintptr(0))); err == nil || !strings.Contains(err.Error(), "pcap_init(PCAP_CHAR_ENC_UTF_8)") {
		t.Errorf("a failing pcap_init = %v", err)
	}

	called = nil
	w, err = bindWpcap(dll("pcap_init", "pcap_set_immediate_mode"))
	if err != nil {
		t.Fatalf("an Npcap without pcap_init: %v", err)
	}
	if err := w.initUTF8(call(0)); err != nil || len(called) != 0 || w.setImmediateMode != 0 {
		t.Errorf("an Npcap without pcap_init: %v, calls %v", err, called)
	}

	_, err = bindWpcap(dll("pcap_getevent"))
	if err == nil || !strings.Contains(err.Error(), "pcap_getevent is missing (Npcap too old?") {
		t.Errorf("a wpcap.dll without pcap_getevent = %v", err)
	}
}

// TestActivateMessages checks what pcap_activate's errors and warnings
// say.
func TestActivateMessages(t *testing.T) {
	err := activateError("Wi-Fi", pcapErrorPermDenied, "Access is denied")
	if !errors.Is(err, ErrPermissionDenied) || !strings.HasPrefix(err.Error(), "platform: open Wi-Fi: pcap_activate: permission denied") {
		t.Errorf("PCAP_ERROR_PERM_DENIED: %v", err)
	}
	if got := activateWarning(pcapWarningPromiscNotSup, ""); got != "promiscuous mode is not supported, capturing only this host's traffic" {
		t.Errorf("PCAP_WARNING_PROMISC_NOTSUP: %q", got)
	}
	if got := activateWarning(1, "something"); got != "warning 1 (something)" {
		t.Errorf("PCAP_WARNING: %q", got)
	}
}
