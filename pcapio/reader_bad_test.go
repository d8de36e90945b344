package pcapio

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// badCase is a malformed or truncated input: the reader must return
// packets complete packets, then a *FormatError at offset whose message
// contains msg (and wraps io.ErrUnexpectedEOF when eof is set).
type badCase struct {
	name    string
	file    []byte
	packets int
	offset  int64
	msg     string
	eof     bool
}

func pcapOK() *pcapGen {
	return newPcapGen(le, magicMicro, 2, 4, 65535, 1).record(1, 0, 4, 4, []byte("abcd"))
}

func ngOK(bo byteOrder) *ngGen {
	g := &ngGen{}
	g.shb(bo)
	g.idb(LinkTypeEthernet, 0)
	return g.epb(0, 1, 4, []byte("abcd"))
}

// ngOKLen is the length of ngOK's output: SHB 28, IDB 20, EPB 36.
const ngOKLen = 28 + 20 + 36

func badCases() []badCase {
	blk := func(bo byteOrder, typ, length uint32, rest ...byte) []byte {
		b := bo.AppendUint32(nil, typ)
		b = bo.AppendUint32(b, length)
		return append(b, rest...)
	}
	// An EPB whose comment option claims 200 bytes in a block with room for 8.
	longOpt := ngOK(le)
	body := le.AppendUint32(nil, 0)
	body = append(body, make([]byte, 8)...)
	body = le.AppendUint32(body, 1)
	body = le.AppendUint32(body, 1)
	body = append(body, 'x', 0, 0, 0)
	body = le.AppendUint16(body, optComment)
	body = le.AppendUint16(body, 200)
	body = append(body, "abcd"...)
	longOpt.block(blockTypeEPB, body)
	cases := []badCase{
		{name: "empty input", file: nil, offset: 0, msg: "truncated file header", eof: true},
		{name: "three bytes", file: []byte{0xd4, 0xc3, 0xb2}, offset: 0, msg: "truncated file header", eof: true},
		{name: "unknown magic", file: []byte("GIF89a not a capture"), offset: 0, msg: "unknown magic number 0x47494638"},
		{name: "pcap header cut", file: pcapOK().buf[:20], offset: 0, msg: "truncated pcap file header", eof: true},
		{name: "pcap version 3.0", file: newPcapGen(le, magicMicro, 3, 0, 65535, 1).buf, offset: 4, msg: "unsupported pcap version 3.0"},
		{name: "pcap version 2.5", file: newPcapGen(be, magicNano, 2, 5, 65535, 1).buf, offset: 4, msg: "unsupported pcap version 2.5"},
		{name: "pcap record header cut", file: pcapOK().buf[:24+20+10], packets: 1, offset: 44, msg: "truncated pcap record header", eof: true},
		{name: "pcap record body cut", file: pcapOK().record(2, 0, 100, 100, []byte("short")).buf, packets: 1, offset: 44, msg: "truncated pcap record", eof: true},
		{name: "pcap garbage after the last record", file: append(pcapOK().buf, "junk"...), packets: 1, offset: 44, msg: "truncated pcap record header", eof: true},
		{name: "pcap caplen over 256 KiB", file: pcapOK().record(2, 0, 262145, 262145, nil).buf, packets: 1, offset: 52, msg: "captured length 262145 exceeds the maximum of 262144"},
		{name: "pcap hostile caplen, big endian", file: newPcapGen(be, magicMicro, 2, 4, 65535, 1).record(1, 0, 0xffffffff, 1, nil).buf, offset: 32, msg: "captured length 4294967295 exceeds"},

		{name: "SHB cut", file: ngOK(le).buf[:10], offset: 0, msg: "truncated section header block", eof: true},
		{name: "SHB bad byte-order magic", file: append(blk(le, blockTypeSHB, 28), 1, 2, 3, 4), offset: 8, msg: "bad byte-order magic 0x01020304"},
		{name: "SHB length not a multiple of 4", file: append(blk(le, blockTypeSHB, 30), 0x4d, 0x3c, 0x2b, 0x1a), offset: 4, msg: "section header block has invalid length 30"},
		{name: "SHB too short", file: append(blk(be, blockTypeSHB, 24), 0x1a, 0x2b, 0x3c, 0x4d), offset: 4, msg: "invalid length 24"},
		{name: "SHB too long", file: append(blk(le, blockTypeSHB, 1<<30), 0x4d, 0x3c, 0x2b, 0x1a), offset: 4, msg: "invalid length 1073741824"},
		{name: "SHB body cut", file: ngOK(le).buf[:20], offset: 0, msg: "truncated section header block", eof: true},
		{name: "pcapng version 2", file: func() []byte { b := ngOK(le).buf; b[12] = 2; return b }(), offset: 12, msg: "unsupported pcapng version 2.0"},
		{name: "block length 13", file: append(ngOK(le).buf, blk(le, 6, 13, make([]byte, 8)...)...), packets: 1, offset: ngOKLen + 4, msg: "invalid length 13"},
		{name: "block length 8", file: append(ngOK(be).buf, blk(be, 6, 8, make([]byte, 8)...)...), packets: 1, offset: ngOKLen + 4, msg: "invalid length 8"},
		{name: "block longer than 16 MiB", file: append(ngOK(le).buf, blk(le, 6, 16<<20+4)...), packets: 1, offset: ngOKLen + 4, msg: "more than the maximum of 16777216"},
		{name: "block cut", file: append(ngOK(le).buf, blk(le, 6, 16<<20, make([]byte, 100)...)...), packets: 1, offset: ngOKLen, msg: "truncated enhanced packet block", eof: true},
		{name: "block header cut", file: append(ngOK(le).buf, 6, 0, 0), packets: 1, offset: ngOKLen, msg: "truncated block header", eof: true},
		{name: "garbage after the last block", file: append(ngOK(be).buf, "garbage!"...), packets: 1, offset: ngOKLen + 4, msg: "invalid length"},
		{name: "trailer disagrees", file: func() []byte { b := ngOK(le).buf; b[len(b)-4] = 40; return b }(), offset: ngOKLen - 4, msg: "trailing length 40 disagrees with leading length 36"},
		{name: "EPB caplen larger than its block", file: func() []byte { b := ngOK(be).buf; b[48+23] = 9; return b }(), offset: 48 + 20, msg: "captured length 9 is larger than the block (room for 4)"},
		{name: "EPB caplen over 256 KiB", file: ngOK(le).epb(0, 1, 300000, make([]byte, 300000)).buf, packets: 1, offset: ngOKLen + 20, msg: "captured length 300000 exceeds the maximum of 262144"},
		{name: "EPB names a missing interface", file: ngOK(le).epb(3, 1, 1, []byte("x")).buf, packets: 1, offset: ngOKLen + 8, msg: "names interface 3, but the section has 1"},
		{name: "EPB before any IDB", file: (&ngGen{}).shb(le).epb(0, 1, 1, []byte("x")).buf, offset: 28 + 8, msg: "names interface 0, but the section has 0"},
		{name: "EPB too short", file: ngOK(le).block(blockTypeEPB, make([]byte, 16)).buf, packets: 1, offset: ngOKLen, msg: "enhanced packet block too short"},
		{name: "PB too short", file: ngOK(be).block(blockTypePB, make([]byte, 4)).buf, packets: 1, offset: ngOKLen, msg: "packet block too short"},
		{name: "SPB too short", file: ngOK(be).block(blockTypeSPB, nil).buf, packets: 1, offset: ngOKLen, msg: "simple packet block too short"},
		{name: "SPB before any IDB", file: (&ngGen{}).shb(be).spb(1, []byte("x")).buf, offset: 28, msg: "simple packet block before any interface"},
		{name: "IDB too short", file: (&ngGen{}).shb(le).block(blockTypeIDB, make([]byte, 4)).buf, offset: 28, msg: "interface description block too short"},
		{name: "option longer than its block", file: longOpt.buf, packets: 1, offset: ngOKLen + 32, msg: "option 1 has length 200, more than the 4 bytes left"},
		{name: "if_tsresol too fine", file: (&ngGen{}).shb(le).idb(1, 0, u8opt(optIfTSResol, 20)).buf, offset: 28 + 16 + 4, msg: "if_tsresol 10^-20 s is finer"},
		{name: "if_tsresol binary too fine", file: (&ngGen{}).shb(be).idb(1, 0, u8opt(optIfTSResol, 0x80|64)).buf, offset: 28 + 16 + 4, msg: "if_tsresol 2^-64 s is finer"},
		{name: "if_tsoffset short", file: (&ngGen{}).shb(be).idb(1, 0, ngOpt{optIfTSOffset, []byte{1, 2}}).buf, offset: 28 + 16 + 4, msg: "if_tsoffset option has 2 bytes"},
		{name: "second SHB cut", file: append(ngOK(le).buf, blk(be, blockTypeSHB, 28)...), packets: 1, offset: ngOKLen, msg: "truncated section header block", eof: true},
	}
	return cases
}

func TestBadInput(t *testing.T) {
	for _, tt := range badCases() {
		t.Run(tt.name, func(t *testing.T) {
			n, err := readUntilError(tt.file)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("after %d packets got %v (%T), want a *FormatError", n, err, err)
			}
			if n != tt.packets || fe.Offset != tt.offset || !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("after %d packets got %q; want after %d packets offset %d containing %q", n, err, tt.packets, tt.offset, tt.msg)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) != tt.eof {
				t.Errorf("errors.Is(err, io.ErrUnexpectedEOF) = %v, want %v", !tt.eof, tt.eof)
			}
			if want := "pcapio: offset "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("message %q does not start with %q", err, want)
			}
		})
	}
}

// readUntilError reads f to its first error and returns how many packets
// came before it. The error must be sticky.
func readUntilError(f []byte) (int, error) {
	r, err := NewReader(bytes.NewReader(f))
	if err != nil {
		return 0, err
	}
	for n := 0; ; n++ {
		if _, err := r.Next(); err != nil {
			if _, err2 := r.NextZeroCopy(); err2 != err {
				return n, errors.New("error not sticky: " + err.Error() + " then " + errString(err2))
			}
			return n, err
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// TestHostileLengthsDoNotAllocate checks that a header claiming a huge
// block or record in a tiny input does not make the reader allocate for it.
func TestHostileLengthsDoNotAllocate(t *testing.T) {
	blk := le.AppendUint32(nil, blockTypeEPB)
	blk = le.AppendUint32(blk, 16<<20)
	inputs := map[string][]byte{
		"pcapng 16 MiB block": append(ngOK(le).buf, append(blk, make([]byte, 64)...)...),
		"pcap 256 KiB record": pcapOK().record(1, 0, 262144, 262144, make([]byte, 10)).buf,
	}
	for name, f := range inputs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range 10 {
			if _, err := readUntilError(f); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%s: %v, want a truncation error", name, err)
			}
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / 10; per > 256<<10 {
			t.Errorf("%s: %d bytes allocated per read of a %d-byte input", name, per, len(f))
		}
	}
}

// TestTruncatedEverywhere cuts a valid file at every length: the reader
// returns the packets wholly before the cut, then io.EOF when the cut falls
// between packets or a truncation error, and never panics.
func TestTruncatedEverywhere(t *testing.T) {
	pkts := testPackets(6, 9)
	for _, f := range []Format{FormatPcap, FormatPcapNg} {
		file := writeFile(t, f, pkts, nil)
		ends := packetEnds(t, file)
		// Cutting the file between its headers is a clean end too.
		boundaries := map[int64]bool{int64(len(file)): true}
		for _, e := range ends {
			boundaries[e] = true
		}
		if f == FormatPcapNg {
			shb := int64(le.Uint32(file[4:]))
			boundaries[shb] = true
			boundaries[shb+int64(le.Uint32(file[shb+4:]))] = true
		} else {
			boundaries[pcapFileHdrLen] = true
		}
		for cut := 0; cut <= len(file); cut++ {
			r, err := NewReader(bytes.NewReader(file[:cut]))
			if err != nil {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("%v cut at %d: NewReader: %v", f, cut, err)
				}
				continue
			}
			want := 0
			for want < len(ends) && ends[want] <= int64(cut) {
				want++
			}
			n := 0
			for {
				_, err = r.Next()
				if err != nil {
					break
				}
				n++
			}
			clean := boundaries[int64(cut)]
			if n != want || (clean && err != io.EOF) || (!clean && !errors.Is(err, io.ErrUnexpectedEOF)) {
				t.Fatalf("%v cut at %d of %d: %d packets then %v; want %d packets (clean end %v)", f, cut, len(file), n, err, want, clean)
			}
		}
	}
}

// packetEnds returns the stream offset just past each packet's record or
// block.
func packetEnds(t *testing.T, file []byte) []int64 {
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var ends []int64
	for {
		_, err := r.NextZeroCopy()
		if err == io.EOF {
			return ends
		}
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, r.b.offset())
	}
}
