package pcapio

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"time"
)

// readAll reads every packet of b with Next.
func readAll(t *testing.T, b []byte) (*Reader, []Packet) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var pkts []Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return r, pkts
		}
		if err != nil {
			t.Fatalf("Next after %d packets: %v", len(pkts), err)
		}
		pkts = append(pkts, p)
	}
}

type wantPkt struct {
	ts      time.Time
	data    string
	length  int
	lt      LinkType
	ifindex int
	comment string
}

func checkPackets(t *testing.T, got []Packet, want []wantPkt) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if !g.Timestamp.Equal(w.ts) || string(g.Data) != w.data || g.Length != w.length ||
			g.LinkType != w.lt || g.InterfaceIndex != w.ifindex || g.Comment != w.comment {
			t.Errorf("packet %d = {%v %q %d %v if%d %q}, want {%v %q %d %v if%d %q}", i,
				g.Timestamp, g.Data, g.Length, g.LinkType, g.InterfaceIndex, g.Comment,
				w.ts, w.data, w.length, w.lt, w.ifindex, w.comment)
		}
	}
}

func TestReadPcapVariants(t *testing.T) {
	ts := func(sec, nsec int64) time.Time { return time.Unix(sec, nsec).UTC() }
	tests := []struct {
		name   string
		file   []byte
		format Format
		lt     LinkType
		fcs    int
		want   []wantPkt
	}{
		{
			name:   "micro little-endian",
			file:   newPcapGen(le, magicMicro, 2, 4, 65535, 1).record(10, 999999, 3, 3, []byte("abc")).record(11, 0, 2, 60, []byte("de")).buf,
			format: FormatPcap, lt: LinkTypeEthernet,
			want: []wantPkt{{ts(10, 999999000), "abc", 3, 1, 0, ""}, {ts(11, 0), "de", 60, 1, 0, ""}},
		},
		{
			name:   "micro big-endian",
			file:   newPcapGen(be, magicMicro, 2, 4, 65535, 101).record(10, 5, 3, 3, []byte("abc")).buf,
			format: FormatPcap, lt: LinkTypeRaw,
			want: []wantPkt{{ts(10, 5000), "abc", 3, 101, 0, ""}},
		},
		{
			name:   "nano little-endian",
			file:   newPcapGen(le, magicNano, 2, 4, 65535, 113).record(4294967295, 999999999, 1, 1, []byte("x")).buf,
			format: FormatPcapNano, lt: LinkTypeLinuxSLL,
			want: []wantPkt{{ts(4294967295, 999999999), "x", 1, 113, 0, ""}},
		},
		{
			name:   "nano big-endian",
			file:   newPcapGen(be, magicNano, 2, 4, 65535, 0).record(1, 1, 4, 4, []byte{2, 0, 0, 0}).buf,
			format: FormatPcapNano, lt: LinkTypeNull,
			want: []wantPkt{{ts(1, 1), "\x02\x00\x00\x00", 4, 0, 0, ""}},
		},
		{
			name:   "modified pcap magic, 24-byte records",
			file:   newPcapGen(le, magicModified, 2, 4, 65535, 1).record(7, 8, 2, 2, []byte("hi")).record(9, 0, 1, 5, []byte("z")).buf,
			format: FormatPcap, lt: LinkTypeEthernet,
			want: []wantPkt{{ts(7, 8000), "hi", 2, 1, 0, ""}, {ts(9, 0), "z", 5, 1, 0, ""}},
		},
		{
			name:   "version 2.2 has swapped lengths",
			file:   newPcapGen(le, magicMicro, 2, 2, 65535, 1).record(1, 0, 100, 3, []byte("abc")).buf,
			format: FormatPcap, lt: LinkTypeEthernet,
			want: []wantPkt{{ts(1, 0), "abc", 100, 1, 0, ""}},
		},
		{
			name: "version 2.3 swaps only when caplen > len",
			file: newPcapGen(be, magicMicro, 2, 3, 65535, 1).
				record(1, 0, 100, 3, []byte("abc")).record(2, 0, 2, 50, []byte("ab")).buf,
			format: FormatPcap, lt: LinkTypeEthernet,
			want: []wantPkt{{ts(1, 0), "abc", 100, 1, 0, ""}, {ts(2, 0), "ab", 50, 1, 0, ""}},
		},
		{
			name:   "version 2.0",
			file:   newPcapGen(le, magicMicro, 2, 0, 65535, 1).record(1, 0, 9, 1, []byte("a")).buf,
			format: FormatPcap, lt: LinkTypeEthernet,
			want: []wantPkt{{ts(1, 0), "a", 9, 1, 0, ""}},
		},
		{
			name:   "link type masked to 16 bits, FCS length in the upper bits",
			file:   newPcapGen(le, magicMicro, 2, 4, 65535, 0x2<<28|pcapFCSPresent|105).record(1, 0, 1, 1, []byte("a")).buf,
			format: FormatPcap, lt: LinkTypeIEEE802_11, fcs: 4,
			want: []wantPkt{{ts(1, 0), "a", 1, 105, 0, ""}},
		},
		{
			name:   "caplen above snaplen is read",
			file:   newPcapGen(le, magicMicro, 2, 4, 2, 1).record(1, 0, 5, 5, []byte("hello")).buf,
			format: FormatPcap, lt: LinkTypeEthernet,
			want: []wantPkt{{ts(1, 0), "hello", 5, 1, 0, ""}},
		},
		{
			name:   "no packets",
			file:   newPcapGen(be, magicNano, 2, 4, 0, 1).buf,
			format: FormatPcapNano, lt: LinkTypeEthernet,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, pkts := readAll(t, tt.file)
			if r.Format() != tt.format || r.LinkType() != tt.lt {
				t.Errorf("format %v link type %v, want %v %v", r.Format(), r.LinkType(), tt.format, tt.lt)
			}
			if ifs := r.Interfaces(); len(ifs) != 1 || ifs[0].FCSLen != tt.fcs {
				t.Errorf("interfaces %+v, want one with FCS length %d", ifs, tt.fcs)
			}
			checkPackets(t, pkts, tt.want)
		})
	}
}

func TestReadPcapNg(t *testing.T) {
	ts := func(sec, nsec int64) time.Time { return time.Unix(sec, nsec).UTC() }
	for _, bo := range []byteOrder{le, be} {
		other := be
		if bo == be {
			other = le
		}
		g := &ngGen{}
		g.shb(bo, stropt(1, "section one"), stropt(4, "gen_test"))
		g.idb(LinkTypeEthernet, 0, stropt(optIfName, "eth0"), stropt(optIfDesc, "first"),
			u8opt(optIfFCSLen, 4), stropt(optIfOS, "Linux"), stropt(optIfHardware, "nic"),
			u64opt(bo, optIfSpeed, 1e9), ngOpt{optIfFilter, []byte("\x00tcp")})
		g.block(blockTypeNRB, bo.AppendUint32(nil, 0))                                                   // NRB with only end-of-records
		g.idb(LinkTypeRaw, 128, u8opt(optIfTSResol, 9), u64opt(bo, optIfTSOffset, uint64(1<<64-100)))    // ns, offset -100 s
		g.epb(0, 1_000_000*5+7, 60, []byte("abcd"), stropt(optComment, "hello"), ngOpt{2, []byte{1, 0}}) // short epb_flags
		g.block(blockTypeISB, make([]byte, 12))
		g.epb(1, 3_000_000_000, 3, []byte("xyz"))
		g.block(blockTypeDSB, make([]byte, 8))
		g.block(blockTypeCustom, make([]byte, 8))
		g.block(0x12345678, nil) // unknown block type, empty body
		g.spb(10, []byte("0123456789"))
		g.pb(1, 2_000_000_001, 2, []byte("pb"), stropt(optComment, "c1"), stropt(optComment, "c2"))
		// Second section, other byte order, new interfaces.
		g.shb(other)
		g.idb(LinkTypeLinuxSLL, 4, u8opt(optIfTSResol, 0x80|20))                // 2^-20 s
		g.idb(LinkTypeNull, 0, u8opt(optIfTSResol, 0x80|63), ngOpt{0xabc, nil}) // zero-length unknown option
		g.idb(LinkTypeIPv6, 0, u8opt(optIfTSResol, 19))
		g.epb(0, 3<<20|1<<19, 5, []byte("sll")) // 3.5 s
		g.epb(1, 1<<63|1<<62|1, 1, []byte("n")) // 1.5 s + 2^-63 s, below a nanosecond
		g.epb(2, 12_345_678_901_234_567_891, 1, []byte("q"))
		g.spb(7, []byte("abcdefgh")) // snaplen 4 cuts it
		// An SHB with no end-of-options and an IDB whose options lack it.
		var body []byte
		body = bo.AppendUint32(body, byteOrderMagic)
		body = bo.AppendUint16(body, 1)
		body = bo.AppendUint16(body, 0)
		body = bo.AppendUint64(body, ^uint64(0))
		g.bo = bo
		g.block(blockTypeSHB, g.opts(body, []ngOpt{stropt(1, "x")}, false))
		body = bo.AppendUint16(nil, uint16(LinkTypeLoop))
		body = bo.AppendUint16(body, 0)
		body = bo.AppendUint32(body, 0)
		g.block(blockTypeIDB, g.opts(body, []ngOpt{u8opt(optIfTSResol, 3)}, false))
		g.epb(0, 1500, 1, []byte("L"), stropt(optComment, "trailing\x00"))

		name := "little-endian"
		if bo == be {
			name = "big-endian"
		}
		t.Run(name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(g.buf))
			if err != nil {
				t.Fatal(err)
			}
			if r.Format() != FormatPcapNg || r.LinkType() != LinkTypeEthernet {
				t.Fatalf("format %v link type %v before the first packet, want pcapng EN10MB", r.Format(), r.LinkType())
			}
			if got, want := r.SectionInfo(), (SectionInfo{Comment: "section one", Application: "gen_test"}); got != want {
				t.Errorf("section info %+v, want %+v", got, want)
			}
			var pkts []Packet
			var ifaces [][]Interface
			for {
				p, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("packet %d: %v", len(pkts), err)
				}
				pkts = append(pkts, p)
				ifaces = append(ifaces, r.Interfaces())
			}
			checkPackets(t, pkts, []wantPkt{
				{ts(5, 7000), "abcd", 60, LinkTypeEthernet, 0, "hello"},
				{ts(3-100, 0), "xyz", 3, LinkTypeRaw, 1, ""},
				{time.Time{}, "0123456789", 10, LinkTypeEthernet, 0, ""},
				{ts(2-100, 1), "pb", 2, LinkTypeRaw, 1, "c1\nc2"},
				{ts(3, 500_000_000), "sll", 5, LinkTypeLinuxSLL, 0, ""},
				{ts(1, 500_000_000), "n", 1, LinkTypeNull, 1, ""},
				{ts(1, 234_567_890), "q", 1, LinkTypeIPv6, 2, ""},
				{time.Time{}, "abcd", 7, LinkTypeLinuxSLL, 0, ""},
				{ts(1, 500_000_000), "L", 1, LinkTypeLoop, 0, "trailing"},
			})
			want0 := Interface{LinkType: LinkTypeEthernet, Name: "eth0", Description: "first", OS: "Linux",
				Hardware: "nic", Speed: 1e9, Filter: "tcp", TSResolution: TSResolutionMicro, FCSLen: 4}
			if got := ifaces[0][0]; got != want0 {
				t.Errorf("interface 0 = %+v, want %+v", got, want0)
			}
			want1 := Interface{LinkType: LinkTypeRaw, Snaplen: 128, TSResolution: TSResolutionNano, TSOffset: -100}
			if got := ifaces[1][1]; got != want1 {
				t.Errorf("interface 1 = %+v, want %+v", got, want1)
			}
			if n := len(ifaces[4]); n != 3 {
				t.Errorf("second section has %d interfaces, want 3", n)
			}
			if got := ifaces[4][0].TSResolution; got != 0x80|20 || got.String() != "2^-20 s" {
				t.Errorf("second section resolution %v", got)
			}
			if n := len(ifaces[8]); n != 1 {
				t.Errorf("third section has %d interfaces, want 1", n)
			}
		})
	}
}

func TestTSResolution(t *testing.T) {
	tests := []struct {
		res   TSResolution
		units uint64
		want  time.Time
	}{
		{TSResolutionMicro, 1_500_000, time.Unix(1, 500_000_000)},
		{TSResolutionNano, 1_500_000_001, time.Unix(1, 500_000_001)},
		{0, 7, time.Unix(7, 0)},
		{3, 1_001, time.Unix(1, 1_000_000)},
		{19, 10_000_000_000_000_000_000, time.Unix(1, 0)},
		{0x80 | 1, 3, time.Unix(1, 500_000_000)},
		{0x80 | 10, 1024 + 1, time.Unix(1, 976_562)},              // 1/1024 s = 976562.5 ns, truncated
		{0x80 | 30, 1<<30 | 1<<29 | 1, time.Unix(1, 500_000_000)}, // +0.93 ns, truncated
		{0x80 | 63, 1<<63 - 1, time.Unix(0, 999_999_999)},
	}
	for _, tt := range tests {
		if got := newTSConv(tt.res, 0).time(tt.units); !got.Equal(tt.want) {
			t.Errorf("%v: %d units = %v, want %v", tt.res, tt.units, got, tt.want)
		}
	}
	if TSResolution(20).Valid() || TSResolution(0x80|64).Valid() || TSResolution(20).UnitsPerSecond() != 0 {
		t.Error("resolutions finer than 10^-19 or 2^-63 must be invalid")
	}
}

func TestDataOffsetAndStreaming(t *testing.T) {
	pkts := testPackets(300, 1)
	for _, f := range []Format{FormatPcap, FormatPcapNano, FormatPcapNg} {
		file := writeFile(t, f, pkts, nil)
		readers := map[string]func() io.Reader{
			"bytes":    func() io.Reader { return bytes.NewReader(file) },
			"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(file)) },
			"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(file)) },
		}
		for name, src := range readers {
			r, err := NewReader(src())
			if err != nil {
				t.Fatalf("%v %s: %v", f, name, err)
			}
			for i := 0; ; i++ {
				p, err := r.NextZeroCopy()
				if err == io.EOF {
					if i != len(pkts) {
						t.Errorf("%v %s: %d packets, want %d", f, name, i, len(pkts))
					}
					break
				}
				if err != nil {
					t.Fatalf("%v %s: packet %d: %v", f, name, i, err)
				}
				off := r.DataOffset()
				if !bytes.Equal(p.Data, pkts[i].Data) || !bytes.Equal(file[off:off+int64(len(p.Data))], p.Data) {
					t.Fatalf("%v %s: packet %d: data or DataOffset %d wrong", f, name, i, off)
				}
			}
		}
	}
}

func TestZeroCopyAllocs(t *testing.T) {
	pkts := testPackets(200, 2)
	for _, f := range []Format{FormatPcap, FormatPcapNg} {
		file := writeFile(t, f, pkts, nil)
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(150, func() {
			if _, err := r.NextZeroCopy(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%v: NextZeroCopy makes %v allocations per packet, want 0", f, allocs)
		}
	}
}

func TestNextOwnsData(t *testing.T) {
	file := writeFile(t, FormatPcapNg, testPackets(50, 3), nil)
	_, pkts := readAll(t, file)
	want := testPackets(50, 3)
	for i := range pkts {
		if !bytes.Equal(pkts[i].Data, want[i].Data) {
			t.Fatalf("packet %d changed after later reads", i)
		}
	}
}

func TestFormatFromPath(t *testing.T) {
	tests := []struct {
		path string
		want Format
		ok   bool
	}{
		{"a.pcap", FormatPcap, true},
		{"dir/b.CAP", FormatPcap, true},
		{"c.pcapng", FormatPcapNg, true},
		{"d.ntar", FormatPcapNg, true},
		{"e.txt", 0, false},
		{"pcap", 0, false},
	}
	for _, tt := range tests {
		got, err := FormatFromPath(tt.path)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("FormatFromPath(%q) = %v, %v; want %v ok=%v", tt.path, got, err, tt.want, tt.ok)
		}
	}
}

// errAfter is an io.Reader failing with err once its data is read.
type errAfter struct {
	r   io.Reader
	err error
}

func (e *errAfter) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

func TestSourceErrorPassesThrough(t *testing.T) {
	boom := errors.New("boom")
	file := writeFile(t, FormatPcap, testPackets(3, 4), nil)
	r, err := NewReader(&errAfter{bytes.NewReader(file[:len(file)-5]), boom})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		_, err := r.Next()
		if err == nil {
			continue
		}
		var fe *FormatError
		if !errors.Is(err, boom) || errors.As(err, &fe) || i != 2 {
			t.Fatalf("after %d packets got %v, want the source's error", i, err)
		}
		break
	}
}

// TestNextDataSurvivesLaterReads mixes Next and NextZeroCopy over a stream
// larger than the read buffer and checks every packet Next returned still
// holds its bytes at the end, and that appending to one does not touch the
// next.
func TestNextDataSurvivesLaterReads(t *testing.T) {
	pkts := testPackets(3000, 8)
	for _, f := range []Format{FormatPcap, FormatPcapNg} {
		r, err := NewReader(iotest.HalfReader(bytes.NewReader(writeFile(t, f, pkts, nil))))
		if err != nil {
			t.Fatal(err)
		}
		kept := map[int][]byte{}
		for i := range pkts {
			var p Packet
			if i%3 == 2 {
				p, err = r.NextZeroCopy()
			} else {
				p, err = r.Next()
				kept[i] = p.Data
			}
			if err != nil {
				t.Fatalf("%v packet %d: %v", f, i, err)
			}
			if i%3 == 0 {
				_ = append(p.Data, 0xff, 0xff, 0xff, 0xff)
			}
		}
		for i, d := range kept {
			if !bytes.Equal(d, pkts[i].Data) {
				t.Fatalf("%v: packet %d changed after later reads", f, i)
			}
		}
	}
}

// TestNewReaderOnLivePipe checks that NewReader returns as soon as the
// pcapng header and first interface arrived on a pipe, without waiting for
// the first packet.
func TestNewReaderOnLivePipe(t *testing.T) {
	pr, pw := io.Pipe()
	g := (&ngGen{}).shb(le).idb(LinkTypeEthernet, 0, stropt(optIfName, "eth0"))
	go pw.Write(g.buf)
	done := make(chan error, 1)
	var r *Reader
	go func() {
		var err error
		r, err = NewReader(pr)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		pw.Close()
		t.Fatal("NewReader waited for a packet after the interface")
	}
	if r.LinkType() != LinkTypeEthernet || r.Interfaces()[0].Name != "eth0" {
		t.Errorf("link type %v interfaces %+v", r.LinkType(), r.Interfaces())
	}
	go func() {
		pw.Write((&ngGen{bo: le}).epb(0, 1, 1, []byte("x")).buf)
		pw.Close()
	}()
	if p, err := r.Next(); err != nil || string(p.Data) != "x" {
		t.Fatalf("Next = %q, %v", p.Data, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the packet: %v", err)
	}
}

// TestBigBlocksStream reads, through a reader returning short reads, a
// pcapng with a 3 MiB custom block to skip and packets bigger than every
// buffer size, with Next and NextZeroCopy.
func TestBigBlocksStream(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 250_000/16)
	g := ngOK(be)
	g.block(blockTypeCustom, make([]byte, 3<<20))
	g.epb(0, 2, uint32(len(big)), big)
	g.epb(0, 3, 5, []byte("small"))
	g.epb(0, 4, uint32(len(big)), big)
	for _, zeroCopy := range []bool{false, true} {
		r, err := NewReader(iotest.HalfReader(bytes.NewReader(g.buf)))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			var p Packet
			if zeroCopy {
				p, err = r.NextZeroCopy()
			} else {
				p, err = r.Next()
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("zero-copy %v: %v", zeroCopy, err)
			}
			got = append(got, string(p.Data))
		}
		want := []string{"abcd", string(big), "small", string(big)}
		if len(got) != len(want) {
			t.Fatalf("zero-copy %v: %d packets, want %d", zeroCopy, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("zero-copy %v: packet %d differs (%d bytes, want %d)", zeroCopy, i, len(got[i]), len(want[i]))
			}
		}
	}
}

// TestNextInto reads files with NextInto three ways: reusing one buffer,
// into a buffer too small (so it must grow), and into nil; each packet must
// equal Next's, and a buffer the caller keeps must never be written by later
// reads.
func TestNextInto(t *testing.T) {
	pkts := testPackets(3000, 9)
	for _, f := range []Format{FormatPcap, FormatPcapNg} {
		file := writeFile(t, f, pkts, nil)
		_, want := readAll(t, file)
		for _, mode := range []string{"reuse", "small", "nil", "keep"} {
			r, err := NewReader(iotest.HalfReader(bytes.NewReader(file)))
			if err != nil {
				t.Fatal(err)
			}
			var buf []byte
			var kept [][]byte
			for i := 0; ; i++ {
				switch mode {
				case "small":
					buf = make([]byte, 3, 5)
				case "nil", "keep":
					buf = nil
				}
				p, err := r.NextInto(buf)
				if err == io.EOF {
					if i != len(want) {
						t.Fatalf("%v %s: %d packets, want %d", f, mode, i, len(want))
					}
					break
				}
				if err != nil {
					t.Fatalf("%v %s: packet %d: %v", f, mode, i, err)
				}
				w := want[i]
				if !bytes.Equal(p.Data, w.Data) || p.Length != w.Length || !p.Timestamp.Equal(w.Timestamp) ||
					p.LinkType != w.LinkType || p.InterfaceIndex != w.InterfaceIndex || p.Comment != w.Comment {
					t.Fatalf("%v %s: packet %d = %+v, want %+v", f, mode, i, p, w)
				}
				switch mode {
				case "reuse":
					if len(p.Data) > 0 && cap(buf) >= len(p.Data) && &p.Data[0] != &buf[:1][0] {
						t.Fatalf("%v: packet %d: NextInto allocated though the buffer had room", f, i)
					}
					buf = p.Data
				case "keep":
					kept = append(kept, p.Data)
				}
			}
			for i, d := range kept {
				if !bytes.Equal(d, want[i].Data) {
					t.Fatalf("%v: kept packet %d changed after later reads", f, i)
				}
			}
		}
	}
}

func TestNextIntoAllocs(t *testing.T) {
	pkts := testPackets(300, 10)
	for _, f := range []Format{FormatPcap, FormatPcapNg} {
		r, err := NewReader(bytes.NewReader(writeFile(t, f, pkts, nil)))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 0, 1<<16)
		allocs := testing.AllocsPerRun(250, func() {
			p, err := r.NextInto(buf)
			if err != nil {
				t.Fatal(err)
			}
			buf = p.Data
		})
		if allocs != 0 {
			t.Errorf("%v: NextInto with room in the buffer makes %v allocations per packet, want 0", f, allocs)
		}
	}
}

// TestNextIntoErrorKeepsBuffer checks that an error leaves the caller's
// buffer alone and is the error Next reports.
func TestNextIntoErrorKeepsBuffer(t *testing.T) {
	file := writeFile(t, FormatPcap, testPackets(2, 11), nil)
	r, err := NewReader(bytes.NewReader(file[:len(file)-3]))
	if err != nil {
		t.Fatal(err)
	}
	buf := []byte("caller's bytes")
	if _, err := r.NextInto(buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "caller's bytes")
	p, err := r.NextInto(buf)
	if !errors.Is(err, io.ErrUnexpectedEOF) || p.Data != nil {
		t.Fatalf("NextInto on a cut record = %+v, %v; want no data and a truncation error", p, err)
	}
	if string(buf) != "caller's bytes" {
		t.Fatalf("the failed NextInto wrote %q into the caller's buffer", buf)
	}
}
