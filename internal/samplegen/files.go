package samplegen

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

// Synthetic returns a capture file of n synthetic packets (see Kind) in
// the given format.
func Synthetic(format pcapio.Format, n int) ([]byte, error) {
	var b bytes.Buffer
	if err := WriteSynthetic(&b, format, n); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ReadAll reads every packet of a capture file, each owning its Data.
func ReadAll(data []byte) ([]pcapio.Packet, error) {
	r, err := pcapio.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var out []pcapio.Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("after %d packets: %w", len(out), err)
		}
		out = append(out, p)
	}
}

// Pcapng returns pkts as a pcapng file with one interface of each link
// type lts, in order, timestamps in nanoseconds (a packet's
// InterfaceIndex names its own).
func Pcapng(pkts []pcapio.Packet, lts ...pcapio.LinkType) ([]byte, error) {
	ifs := make([]pcapio.Interface, len(lts))
	for i, lt := range lts {
		ifs[i] = pcapio.Interface{LinkType: lt, Snaplen: pcapio.MaxSnaplen, TSResolution: pcapio.TSResolutionNano}
	}
	var b bytes.Buffer
	w, err := pcapio.NewWriter(&b, pcapio.WriterOptions{Format: pcapio.FormatPcapNg, Interfaces: ifs})
	if err != nil {
		return nil, err
	}
	for i := range pkts {
		if err := w.WritePacket(&pkts[i]); err != nil {
			return nil, err
		}
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// MustSynthetic is Synthetic for a test, which fails on error.
func MustSynthetic(t testing.TB, format pcapio.Format, n int) []byte {
	t.Helper()
	data, err := Synthetic(format, n)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// MustReadAll is ReadAll for a test, which fails on error.
func MustReadAll(t testing.TB, data []byte) []pcapio.Packet {
	t.Helper()
	pkts, err := ReadAll(data)
	if err != nil {
		t.Fatal(err)
	}
	return pkts
}
