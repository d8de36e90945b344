package pcapio

import (
	"bytes"
	"errors"
	"io"
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
// format and reads it back unchanged (timestamps to the format's
// precision).
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello"), 100, int64(1_700_000_000), int64(123456789), "comment", uint8(9))
	f.Add([]byte{}, 0, int64(0), int64(0), "", uint8(0x80|30))
	f.Add(make([]byte, 1600), 70000, int64(4_000_000_000), int64(999_999_999), "x\x00y", uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, wire int, sec, nsec int64, comment string, res uint8) {
		if sec < 0 || sec > 0xffffffff || nsec < 0 || nsec >= 1e9 || wire < 0 || len(comment) > 1000 || len(data) > 1<<16 {
			t.Skip()
		}
		tsr := TSResolution(res)
		if !tsr.Valid() {
			t.Skip()
		}
		eff := tsr // what the writer uses: the zero resolution means nanoseconds
		if eff == 0 {
			eff = TSResolutionNano
		}
		ts := time.Unix(sec, nsec).UTC()
		in := Packet{Timestamp: ts, Data: data, Length: wire, Comment: comment}
		for _, format := range []Format{FormatPcap, FormatPcapNano, FormatPcapNg} {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, WriterOptions{Format: format, Interfaces: []Interface{{LinkType: LinkTypeRaw, TSResolution: tsr}}})
			if err != nil {
				t.Fatal(err)
			}
			err = w.WritePacket(&in)
			if format == FormatPcapNg && err != nil {
				if _, uerr := newTSConv(eff, 0).units(ts); uerr != nil {
					continue // does not fit 64 bits at this resolution
				}
			}
			if err != nil {
				t.Fatalf("%v: %v", format, err)
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
			wantTS, wantComment := ts.Truncate(time.Microsecond), ""
			switch format {
			case FormatPcapNano:
				wantTS = ts
			case FormatPcapNg:
				conv := newTSConv(eff, 0)
				u, _ := conv.units(ts)
				wantTS, wantComment = conv.time(u), comment
			}
			wantLen := max(wire, len(data))
			if !bytes.Equal(out.Data, data) || out.Length != wantLen || !out.Timestamp.Equal(wantTS) || out.Comment != trimNUL(wantComment) || out.LinkType != LinkTypeRaw {
				t.Fatalf("%v: read back %v %d %q, want %v %d %q", format, out.Timestamp, out.Length, out.Comment, wantTS, wantLen, wantComment)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("%v: after the packet: %v", format, err)
			}
		}
	})
}

func trimNUL(s string) string { return optString([]byte(s)) }
