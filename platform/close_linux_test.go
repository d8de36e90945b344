//go:build linux

package platform

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/pcapio"
)

// pageSpan is the page-aligned address range under b.
type pageSpan struct{ lo, hi uintptr }

func pagesOf(b []byte) pageSpan {
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return pageSpan{start &^ (page - 1), (start + uintptr(len(b)) + page - 1) &^ (page - 1)}
}

func (s pageSpan) String() string { return fmt.Sprintf("%#x-%#x", s.lo, s.hi) }

// mappings returns the lines of /proc/self/maps whose range overlaps span.
func mappings(t testing.TB, span pageSpan) []string {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var found []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var lo, hi uintptr
		if _, err := fmt.Sscanf(sc.Text(), "%x-%x", &lo, &hi); err != nil {
			t.Fatalf("/proc/self/maps line %q: %v", sc.Text(), err)
		}
		if lo < span.hi && span.lo < hi {
			found = append(found, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return found
}

// TestRingCloseKeepsLentPacket closes a source while the reader holds a
// packet from NextZeroCopy whose bytes cross a page boundary: the bytes
// must stay, unchanged, in private memory where they were, the rest of the
// ring must be unmapped at Close, and the reader's next call must return
// ErrClosed and unmap what was kept.
func TestRingCloseKeepsLentPacket(t *testing.T) {
	const blockSize = 4 << 12
	s := fakeSource(t, pcapio.LinkTypeEthernet, false, 65535, 2, blockSize)
	defer s.Close()
	ring := pagesOf(s.ring)
	small := bytes.Repeat([]byte{0x11}, 60)
	big := make([]byte, 6000) // from the first page of the block into the third
	for i := range big {
		big[i] = byte(i * 7)
	}
	putBlock(s.ring[:blockSize], []ringPacket{{data: small, wireLen: 60}, {data: big, wireLen: len(big)}}, false)
	if _, err := s.NextZeroCopy(); err != nil {
		t.Fatal(err)
	}
	p, err := s.NextZeroCopy()
	if err != nil || !bytes.Equal(p.Data, big) {
		t.Fatalf("second packet: %d bytes, %v; want the %d-byte one", len(p.Data), err, len(big))
	}
	lent := pagesOf(p.Data)
	if lent.hi-lent.lo < 2*pageSize() {
		t.Fatalf("the packet lies in %v: the test wants one across pages", lent)
	}
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !bytes.Equal(p.Data, big) {
		t.Errorf("the lent packet's bytes changed at Close")
	}
	if m := mappings(t, lent); len(m) != 1 || !strings.Contains(m[0], "rw-p") {
		t.Errorf("the lent packet's pages %v after Close are mapped as %q, want one private read-write mapping", lent, m)
	}
	for _, rest := range []pageSpan{{ring.lo, lent.lo}, {lent.hi, ring.hi}} {
		if m := mappings(t, rest); rest.lo < rest.hi && len(m) > 0 {
			t.Errorf("the rest of the ring, %v, is still mapped after Close: %q", rest, m)
		}
	}
	if _, err := s.NextZeroCopy(); !errors.Is(err, ErrClosed) {
		t.Errorf("NextZeroCopy after Close: %v, want ErrClosed", err)
	}
	if m := mappings(t, lent); len(m) > 0 {
		t.Errorf("the kept pages %v are still mapped after the reader's next call: %q", lent, m)
	}
}

func pageSize() uintptr { return uintptr(os.Getpagesize()) }

// TestRingCloseNothingLent checks that a Close after NextInto, which lends
// nothing, unmaps the whole ring at once.
func TestRingCloseNothingLent(t *testing.T) {
	const blockSize = 4 << 12
	s := fakeSource(t, pcapio.LinkTypeEthernet, false, 65535, 2, blockSize)
	ring := pagesOf(s.ring)
	frame := bytes.Repeat([]byte{0x22}, 100)
	putBlock(s.ring[:blockSize], []ringPacket{{data: frame, wireLen: 100}}, false)
	p, err := s.NextInto(make([]byte, 0, 10))
	if err != nil || !bytes.Equal(p.Data, frame) {
		t.Fatalf("NextInto: %x, %v; want %x", p.Data, err, frame)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if m := mappings(t, ring); len(m) > 0 {
		t.Errorf("the ring %v is still mapped after Close with nothing lent: %q", ring, m)
	}
	if !bytes.Equal(p.Data, frame) {
		t.Errorf("NextInto's copy changed at Close")
	}
}

// TestRingKeptPagesCollected closes a source while the reader holds a
// packet and then drops the source without calling it again: the garbage
// collector must unmap the kept pages.
func TestRingKeptPagesCollected(t *testing.T) {
	const blockSize = 4 << 12
	s := fakeSource(t, pcapio.LinkTypeEthernet, false, 65535, 2, blockSize)
	putBlock(s.ring[:blockSize], []ringPacket{{data: bytes.Repeat([]byte{0x33}, 100), wireLen: 100}}, false)
	p, err := s.NextZeroCopy()
	if err != nil {
		t.Fatal(err)
	}
	lent := pagesOf(p.Data)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if m := mappings(t, lent); len(m) != 1 {
		t.Fatalf("the lent packet's pages %v after Close: %q, want one mapping", lent, m)
	}
	s, p = nil, pcapio.Packet{}
	for deadline := time.Now().Add(5 * time.Second); len(mappings(t, lent)) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("the kept pages %v are still mapped 5s after the source became garbage", lent)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLiveCloseReleasesSocketWhileLent closes a promiscuous capture while
// its reader still holds a packet from NextZeroCopy and will not call again
// for a while: the socket must be released at Close (the interface leaves
// promiscuous mode, no mapping of the socket is left), not at the reader's
// next call, while the packet's bytes stay readable until that call.
func TestLiveCloseReleasesSocketWhileLent(t *testing.T) {
	v := newVethNet(t)
	base := netnstest.Promiscuity(t, v.NSA, v.IfA)
	src := openIn(t, v.NSA, Config{Interface: v.IfA, Promiscuous: true, FilterFor: etherTypeFilter(t, netnstest.EtherTypeTest)})
	var st unix.Stat_t
	if err := unix.Fstat(src.(*linuxSource).fd, &st); err != nil {
		t.Fatal(err)
	}
	socketName := fmt.Sprintf("socket:[%d]", st.Ino)
	if !strings.Contains(strings.Join(mappings(t, pagesOf(src.(*linuxSource).ring)), "\n"), socketName) {
		t.Fatalf("the ring is not mapped as %s: %q", socketName, mappings(t, pagesOf(src.(*linuxSource).ring)))
	}
	want := netnstest.EthFrame(v.MACA, v.MACB, netnstest.EtherTypeTest, bytes.Repeat([]byte("lent at Close "), 100))
	netnstest.NewRawSender(t, v.NSB, v.IfB).Send(t, want)
	timer := time.AfterFunc(5*time.Second, func() { src.Close() })
	p, err := src.NextZeroCopy()
	timer.Stop()
	if err != nil {
		t.Fatalf("NextZeroCopy: %v (no packet within 5s?)", err)
	}
	closed := make(chan error)
	go func() { closed <- src.Close() }()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := netnstest.Promiscuity(t, v.NSA, v.IfA); got != base {
		t.Errorf("promiscuity %d after Close with a packet lent, want %d: the socket outlived Close", got, base)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(maps, []byte(socketName)) {
		t.Errorf("part of the ring of %s is still mapped after Close", socketName)
	}
	if !bytes.Equal(p.Data, want) {
		t.Errorf("the lent packet changed at Close")
	}
	if _, err := src.NextZeroCopy(); !errors.Is(err, ErrClosed) {
		t.Errorf("NextZeroCopy after Close: %v, want ErrClosed", err)
	}
}
