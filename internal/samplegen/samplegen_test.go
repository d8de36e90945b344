package samplegen

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

// verifyChecksums checks the IPv4 header and TCP/UDP/ICMP checksums of an
// Ethernet frame (untagged IPv4 only) and reports whether the IPv4 header
// checksum is right.
func verifyChecksums(t *testing.T, i int, f []byte) (ipOK bool) {
	t.Helper()
	if len(f) < 34 || binary.BigEndian.Uint16(f[12:]) != 0x0800 {
		return true
	}
	ip := f[14:]
	hl := int(ip[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if len(ip) < total {
		return checksum(0, ip[:hl]) == 0 // truncated: only the header can be checked
	}
	payload := ip[hl:total]
	src, dst := netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
	switch ip[9] {
	case 6, 17:
		if checksum(pseudoSum(src, dst, ip[9], len(payload)), payload) != 0 {
			t.Errorf("packet %d: bad protocol %d checksum", i+1, ip[9])
		}
	case 1:
		if checksum(0, payload) != 0 {
			t.Errorf("packet %d: bad ICMP checksum", i+1)
		}
	}
	return checksum(0, ip[:hl]) == 0
}

func TestSampleChecksums(t *testing.T) {
	badIP := 0
	for i, f := range sampleFrames() {
		if !verifyChecksums(t, i, f.data) {
			badIP++
			if f.comment == "" {
				t.Errorf("packet %d: bad IPv4 checksum without a comment saying so", i+1)
			}
		}
	}
	if badIP != 1 {
		t.Errorf("%d packets with a bad IPv4 checksum, want exactly the deliberate one", badIP)
	}
}

func TestSyntheticPackets(t *testing.T) {
	counts := map[SyntheticKind]int{}
	for i := range 1000 {
		p := SyntheticPacket(i, nil)
		if !verifyChecksums(t, i, p) {
			t.Errorf("packet %d: bad IPv4 checksum", i+1)
		}
		counts[Kind(i)]++
		if Kind(i) == KindTLS || Kind(i) == KindHTTP {
			port := binary.BigEndian.Uint16(p[14+20+2:])
			if want := map[SyntheticKind]uint16{KindTLS: 443, KindHTTP: 80}[Kind(i)]; port != want {
				t.Errorf("packet %d: TCP port %d, want %d", i+1, port, want)
			}
		}
	}
	want := map[SyntheticKind]int{KindTLS: 500, KindHTTP: 200, KindDNS: 100, KindPing: 100, KindARP: 100}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("kind %d: %d packets of 1000, want %d", k, counts[k], n)
		}
	}
}

func TestWriteReproducible(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteSample(&a); err != nil {
		t.Fatal(err)
	}
	if err := WriteSample(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two runs of WriteSample differ")
	}
	a.Reset()
	if err := WriteSynthetic(&a, pcapio.FormatPcapNg, 50); err != nil {
		t.Fatal(err)
	}
	r, err := pcapio.NewReader(&a)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		if !bytes.Equal(p.Data, SyntheticPacket(n, nil)) {
			t.Fatalf("packet %d differs from SyntheticPacket", n+1)
		}
		n++
	}
	if n != 50 {
		t.Errorf("read %d packets, want 50", n)
	}
}
