package store

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/pkttap/pkttap/pcapio"
)

func TestRecordRoundTrip(t *testing.T) {
	tests := []record{
		{},
		{DataOff: 24 + 16, TSNanos: 1_769_947_200_000_100_000, CapLen: 96, WireLen: 1514, LinkType: pcapio.LinkTypeEthernet, IfIndex: 3, SumOff: 1 << 40, SumLen: 77},
		{DataOff: 1<<62 + 5, TSNanos: -1, CapLen: 1<<32 - 1, WireLen: 1<<32 - 1, LinkType: pcapio.LinkTypeLinuxSLL2, IfIndex: 1<<32 - 1, SumOff: 0, SumLen: 1<<32 - 1, Flags: flagComment},
	}
	for _, want := range tests {
		var b [recordSize]byte
		want.put(b[:])
		var got record
		got.get(b[:])
		if got != want {
			t.Errorf("round trip of %+v gave %+v", want, got)
		}
	}
}

func TestSummaryRoundTrip(t *testing.T) {
	tests := []summary{
		{},
		{Source: "192.0.2.1", Destination: "203.0.113.80", Protocol: "HTTP", Info: "GET / HTTP/1.1", Tags: []string{"tcp-syn", "bad-checksum"}},
		{Source: "ff:ff:ff:ff:ff:ff", Info: string(bytes.Repeat([]byte("é"), 300))},
		{Protocol: "ARP", Comment: "a packet comment"},
		{Tags: []string{"x"}, Comment: "c"},
	}
	for _, want := range tests {
		got, err := decodeSummary(appendSummary(nil, &want))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %+v gave %+v, %v", want, got, err)
		}
	}
}

// FuzzDecodeSummary checks that a damaged summaries file gives an error,
// never a panic or a huge allocation.
func FuzzDecodeSummary(f *testing.F) {
	f.Add(appendSummary(nil, &summary{Source: "a", Destination: "b", Protocol: "TCP", Info: "i", Tags: []string{"arp"}}))
	f.Add(appendSummary(nil, &summary{Protocol: "ARP", Comment: "comment"}))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSummary(b)
		if err != nil {
			return
		}
		again, err := decodeSummary(appendSummary(nil, &s))
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Errorf("decoded %+v does not survive a round trip: %+v, %v", s, again, err)
		}
	})
}
