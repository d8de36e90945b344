package dissect

import (
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// The benchmarks run over a generated mix of mixSize packets (see
// trafficMix), small enough to build in milliseconds, so
// "go test -bench . -benchtime=1x" stays fast; b.N picks how many packets
// are decoded. BenchmarkGopacketDecode is the anchor: gopacket decoding the
// same packets, measured in the same run: BenchmarkGopacketDecode decodes
// every layer (gopacket.Default), which is the work closest to a summary,
// and BenchmarkGopacketLazy only what finding the network layer needs,
// the least gopacket can do. Summarize's goal is at
// least one million packets per second on one core: the pkts/cpu-s metric
// (Linux) counts the benchmark thread's CPU time, so it holds on a machine
// shared with other work, where pkts/s (wall clock) does not.

const mixSize = 4096

var (
	mixOnce sync.Once
	mixPkts []mixPacket
)

func benchMix() []mixPacket {
	mixOnce.Do(func() { mixPkts = trafficMix(mixSize, 1) })
	return mixPkts
}

// meter measures a benchmark loop in wall-clock time and, where the
// platform tells, in CPU time of the benchmark's thread.
type meter struct {
	start time.Time
	cpu   time.Duration
	ok    bool
}

func startMeter(b *testing.B) *meter {
	lockThread()
	b.ResetTimer()
	m := &meter{start: time.Now()}
	m.cpu, m.ok = threadCPU()
	return m
}

// stop reports pkts/s (wall clock) and pkts/cpu-s (packets per second of
// the thread's CPU time: the one-core rate, meaningful on a loaded machine).
func (m *meter) stop(b *testing.B) {
	cpu, ok := threadCPU()
	el := time.Since(m.start)
	b.StopTimer()
	unlockThread()
	if el > 0 {
		b.ReportMetric(float64(b.N)/el.Seconds(), "pkts/s")
	}
	if ok && m.ok && cpu > m.cpu {
		b.ReportMetric(float64(b.N)/(cpu-m.cpu).Seconds(), "pkts/cpu-s")
	}
}

// runMix decodes the mix's packets round-robin, b.N of them, with the
// meter running; decode returns "" or, when its result is unusable, why.
func runMix(b *testing.B, decode func(p *mixPacket) string) {
	pkts := benchMix()
	b.ReportAllocs()
	m := startMeter(b)
	for i := 0; i < b.N; i++ {
		if msg := decode(&pkts[i%len(pkts)]); msg != "" {
			b.Fatal(msg)
		}
	}
	m.stop(b)
}

func BenchmarkSummarize(b *testing.B) {
	runMix(b, func(p *mixPacket) string {
		if s := Summarize(p.lt, p.data, p.wire); s.Protocol == "" {
			return "empty protocol"
		}
		return ""
	})
}

// BenchmarkSummarizeValidating is BenchmarkSummarize with the checksums
// Wireshark leaves unverified by default verified too.
func BenchmarkSummarizeValidating(b *testing.B) {
	runMix(b, func(p *mixPacket) string {
		if s := validating.Summarize(p.lt, p.data, p.wire); s.Protocol == "" {
			return "empty protocol"
		}
		return ""
	})
}

func BenchmarkDissect(b *testing.B) {
	runMix(b, func(p *mixPacket) string {
		if t := Dissect(p.lt, p.data, p.wire); len(t.Layers) == 0 {
			return "no layers"
		}
		return ""
	})
}

// BenchmarkGopacketDecode is the anchor for BenchmarkSummarize: gopacket
// decoding all layers of the same packets.
func BenchmarkGopacketDecode(b *testing.B) {
	runMix(b, func(p *mixPacket) string {
		pk := gopacket.NewPacket(p.data, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
		if len(pk.Layers()) == 0 {
			return "no layers"
		}
		return ""
	})
}

// BenchmarkGopacketLazy is gopacket decoding only as far as the network
// layer, lazily: a lower bound on what any decoder costs.
func BenchmarkGopacketLazy(b *testing.B) {
	runMix(b, func(p *mixPacket) string {
		pk := gopacket.NewPacket(p.data, layers.LayerTypeEthernet, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		if pk.NetworkLayer() == nil && pk.LinkLayer() == nil {
			return "no layers"
		}
		return ""
	})
}
