package pcapio

import (
	"bytes"
	"errors"
	"io"
	"math/big"
	"testing"
	"time"
)

// fuzzSeeds returns the generated captures the reader fuzz targets start
// from: every format the writer makes, the hand-built pcapng of
// TestReadPcapNg's kind, and every bad-input case.
func fuzzSeeds(t testing.TB) [][]byte {
	pkts := testPackets(4, 21)
	pkts[1].Comment = "seed"
	seeds := [][]byte{
		writeFile(t, FormatPcap, pkts, nil),
		writeFile(t, FormatPcapNano, pkts, nil),
		writeFile(t, FormatPcapNg, pkts, nil),
		writeFile(t, FormatPcapNg, []Packet{{Timestamp: time.Unix(7, 1), Data: []byte("ab"), Length: 9, InterfaceIndex: 1}}, []Interface{
			{LinkType: LinkTypeEthernet, Name: "a"}, {LinkType: LinkTypeRaw, TSResolution: 0x80 | 20, TSOffset: -5},
		}),
		newPcapGen(be, magicModified, 2, 3, 10, 0x4000001).record(1, 2, 3, 1, []byte("abc")).buf,
		ngOK(be).spb(3, []byte("xyz")).pb(0, 5, 2, []byte("pb"), stropt(1, "c")).shb(le).idb(0, 0, u8opt(optIfTSResol, 0x83)).epb(0, 9, 1, []byte("z")).buf,
	}
	for _, c := range badCases() {
		if len(c.file) <= 4096 { // big seeds make every mutation slow
			seeds = append(seeds, c.file)
		}
	}
	return seeds
}

// FuzzReader reads arbitrary bytes: the reader must never panic, must end
// with io.EOF or a *FormatError, and Next, NextInto and NextZeroCopy must
// agree.
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		safe, safeErr := readEvery(data, readNext)
		zero, zeroErr := readEvery(data, readNextZeroCopy)
		into, intoErr := readEvery(data, readNextInto)
		if errString(safeErr) != errString(zeroErr) || len(safe) != len(zero) {
			t.Fatalf("Next: %d packets, %v; NextZeroCopy: %d packets, %v", len(safe), safeErr, len(zero), zeroErr)
		}
		if errString(safeErr) != errString(intoErr) || len(safe) != len(into) {
			t.Fatalf("Next: %d packets, %v; NextInto: %d packets, %v", len(safe), safeErr, len(into), intoErr)
		}
		var fe *FormatError
		if safeErr != io.EOF && !errors.As(safeErr, &fe) {
			t.Fatalf("error %v (%T) is neither io.EOF nor a *FormatError", safeErr, safeErr)
		}
		if fe != nil && (fe.Offset < 0 || fe.Offset > int64(len(data))) {
			t.Fatalf("error offset %d outside the %d-byte input", fe.Offset, len(data))
		}
		for i := range safe {
			if !bytes.Equal(safe[i].p.Data, zero[i].p.Data) || safe[i].off != zero[i].off {
				t.Fatalf("packet %d differs between Next and NextZeroCopy", i)
			}
			if !bytes.Equal(safe[i].p.Data, into[i].p.Data) || safe[i].off != into[i].off {
				t.Fatalf("packet %d differs between Next and NextInto", i)
			}
			off := safe[i].off
			d := safe[i].p.Data
			if off < 0 || off+int64(len(d)) > int64(len(data)) || !bytes.Equal(data[off:off+int64(len(d))], d) {
				t.Fatalf("packet %d: DataOffset %d does not locate its %d bytes", i, off, len(d))
			}
		}
	})
}

type fuzzRec struct {
	p   Packet
	off int64
}

// readEvery reads every packet of data the way mode says, keeping a copy
// of each packet's bytes as they were when it was read.
func readEvery(data []byte, mode int) ([]fuzzRec, error) {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var recs []fuzzRec
	var buf []byte
	for {
		var p Packet
		var err error
		switch mode {
		case readNext:
			p, err = r.Next()
		case readNextInto:
			p, err = r.NextInto(buf)
			buf = p.Data
			p.Data = bytes.Clone(p.Data)
		default:
			p, err = r.NextZeroCopy()
			p.Data = bytes.Clone(p.Data)
		}
		if err != nil {
			return recs, err
		}
		recs = append(recs, fuzzRec{p, r.DataOffset()})
	}
}

// FuzzRoundTrip writes a packet built from arbitrary values in every
// format and reads it back unchanged, its timestamp to the format's
// precision. The expected timestamp is computed here with big integers,
// not with the package's own conversion: pcap holds 1970 to 2106 in
// microseconds or nanoseconds; pcapng holds any time from the epoch plus
// the interface's TSOffset up to 2^64 units of its resolution (decimal
// 10^-1 to 10^-19, binary 2^-0 to 2^-63; a writer takes the zero value as
// nanoseconds, as Interface documents), rounded down to a unit. Times
// outside these ranges must be refused, as WritePacket documents.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello"), 100, int64(1_700_000_000), int64(123456789), "comment", uint8(9), int64(0))
	f.Add([]byte{}, 0, int64(0), int64(0), "", uint8(0x80|30), int64(0))
	f.Add(make([]byte, 1600), 70000, int64(4_000_000_000), int64(999_999_999), "x\x00y", uint8(3), int64(0))
	f.Add([]byte{1}, 1, int64(5_000_000_000), int64(1), "after 2106", uint8(9), int64(0))              // pcapng only
	f.Add([]byte{1}, 1, int64(18_446_744_073), int64(709_551_615), "last ns", uint8(9), int64(0))      // 2^64-1 ns
	f.Add([]byte{1}, 1, int64(18_446_744_073), int64(709_551_616), "2^64 ns", uint8(9), int64(0))      // refused
	f.Add([]byte{1}, 1, int64(1<<61), int64(0), "", uint8(0x80), int64(-1<<61))                        // 2^-0 s, far future
	f.Add([]byte{1}, 1, int64(1), int64(999_999_999), "", uint8(0x80|63), int64(0))                    // 2^-63 s
	f.Add([]byte{1}, 1, int64(1_000), int64(5), "", uint8(19), int64(0))                               // 10^-19 s: past 2^64
	f.Add([]byte{1}, 1, int64(-1), int64(0), "before 1970", uint8(6), int64(-86_400))                  // pcapng with an offset only
	f.Add([]byte{1}, 1, int64(1_000), int64(0), "before the offset", uint8(6), int64(1_001))           // refused
	f.Add([]byte{1}, 1, int64(123_456_789), int64(987_654_321), "binary", uint8(0x80|20), int64(-123)) // exact binary fraction
	f.Fuzz(func(t *testing.T, data []byte, wire int, sec, nsec int64, comment string, res uint8, offset int64) {
		const lim = 1 << 62 // no sum or difference of two of these overflows int64
		if sec < -lim || sec > lim || offset < -lim || offset > lim || wire < 0 || len(comment) > 1000 || len(data) > 1<<16 {
			t.Skip()
		}
		nsec = (nsec%1e9 + 1e9) % 1e9
		tsr := TSResolution(res)
		if !tsr.Valid() {
			t.Skip()
		}
		ts := time.Unix(sec, nsec).UTC()
		in := Packet{Timestamp: ts, Data: data, Length: wire, Comment: comment}
		for _, format := range []Format{FormatPcap, FormatPcapNano, FormatPcapNg} {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, WriterOptions{Format: format, Interfaces: []Interface{{LinkType: LinkTypeRaw, TSResolution: tsr, TSOffset: offset}}})
			if err != nil {
				t.Fatal(err)
			}
			wantTS, wantComment, ok := ts.Truncate(time.Microsecond), "", sec >= 0 && sec <= 0xffffffff
			switch format {
			case FormatPcapNano:
				wantTS = ts
			case FormatPcapNg:
				eff := tsr
				if eff == 0 {
					eff = TSResolutionNano
				}
				wantTS, ok = pcapngTime(sec, nsec, eff, offset)
				wantComment = comment
			}
			err = w.WritePacket(&in)
			if !ok {
				if err == nil {
					t.Fatalf("%v: %v (resolution %v, offset %d s) written, want it refused", format, ts, tsr, offset)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%v: %v (resolution %v, offset %d s): %v", format, ts, tsr, offset, err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(&buf)
			if err != nil {
				t.Fatalf("%v: %v", format, err)
			}
			out, err := r.Next()
			if err != nil {
				t.Fatalf("%v: %v", format, err)
			}
			wantLen := max(wire, len(data))
			if !bytes.Equal(out.Data, data) || out.Length != wantLen || !out.Timestamp.Equal(wantTS) || out.Comment != trimNUL(wantComment) || out.LinkType != LinkTypeRaw {
				t.Fatalf("%v: %v (resolution %v, offset %d s) read back %v %d %q, want %v %d %q", format, ts, tsr, offset, out.Timestamp, out.Length, out.Comment, wantTS, wantLen, wantComment)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("%v: after the packet: %v", format, err)
			}
		}
	})
}

// pcapngTime returns the time a pcapng reader gives for a packet written
// at sec.nsec through an interface of resolution res and offset seconds:
// the count of units since the epoch plus the offset, rounded down, then
// back to nanoseconds, rounded down; ok is false when the time is before
// the epoch plus the offset or 2^64 units or more after it.
func pcapngTime(sec, nsec int64, res TSResolution, offset int64) (time.Time, bool) {
	base := big.NewInt(10)
	if res&0x80 != 0 {
		base = big.NewInt(2)
	}
	perSec := new(big.Int).Exp(base, big.NewInt(int64(res&0x7f)), nil)
	billion := big.NewInt(1e9)
	// units = floor(((sec - offset)·10^9 + nsec) · perSec / 10^9)
	ns := new(big.Int).Mul(new(big.Int).Sub(big.NewInt(sec), big.NewInt(offset)), billion)
	ns.Add(ns, big.NewInt(nsec))
	if ns.Sign() < 0 {
		return time.Time{}, false
	}
	units := new(big.Int).Div(new(big.Int).Mul(ns, perSec), billion)
	if units.BitLen() > 64 {
		return time.Time{}, false
	}
	whole, frac := new(big.Int).DivMod(units, perSec, new(big.Int))
	fracNs := new(big.Int).Div(new(big.Int).Mul(frac, billion), perSec)
	return time.Unix(whole.Int64()+offset, fracNs.Int64()).UTC(), true
}

func trimNUL(s string) string { return optString([]byte(s)) }
