package dfilter

import (
	"testing"
	"time"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/pcapio"
)

// BenchmarkMatch measures filters over the shared capture's packets, per
// packet: the goals are tcp.port == 443 at 2 M packets/s per core
// and dns.qry.name contains "x", http.host == "x" at 1 M/s. The anchors
// in the same run are a full dissection (what a filter without the fast
// path costs) and a summary.
func BenchmarkMatch(b *testing.B) {
	pkts := readCapture(b)
	for _, expr := range []string{`tcp.port == 443`, `ip.addr == 10.0.0.0/8 && udp`, `dns.qry.name contains "x"`, `http.host == "x"`} {
		f, err := Compile(expr)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(expr, func(b *testing.B) {
			cpu0 := startCPU(b)
			n := 0
			for i := 0; i < b.N; i++ {
				p := &pkts[i%len(pkts)]
				if f.Match(Packet{LinkType: p.LinkType, Data: p.Data, Length: p.Length, Number: i}) {
					n++
				}
			}
			report(b, cpu0)
		})
	}
	// The real HTTP, HTTPS and DNS-less traffic at the capture's end (its
	// last interface): a typical mix, unlike the corpus's odd link types.
	var real []pcapio.Packet
	for _, p := range pkts {
		if p.InterfaceIndex == pkts[len(pkts)-1].InterfaceIndex {
			real = append(real, p)
		}
	}
	for _, expr := range []string{`tcp.port == 443`, `http.host == "x"`, `tls.handshake.type == 1`} {
		f, err := Compile(expr)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("real/"+expr, func(b *testing.B) {
			cpu0 := startCPU(b)
			for i := 0; i < b.N; i++ {
				p := &real[i%len(real)]
				f.Match(Packet{LinkType: p.LinkType, Data: p.Data, Length: p.Length, Number: i})
			}
			report(b, cpu0)
		})
	}
	// The fast path alone: the packets dissect.Quick calls plain.
	var plain []Packet
	var h dissect.Headers
	for _, p := range pkts {
		if dissect.Quick(p.LinkType, p.Data, p.Length, &h) {
			plain = append(plain, Packet{LinkType: p.LinkType, Data: p.Data, Length: p.Length})
		}
	}
	f, err := Compile("tcp.port == 443")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("plain/tcp.port == 443", func(b *testing.B) {
		cpu0 := startCPU(b)
		for i := 0; i < b.N; i++ {
			f.Match(plain[i%len(plain)])
		}
		report(b, cpu0)
	})
	b.Run("anchor=Dissect", func(b *testing.B) {
		cpu0 := startCPU(b)
		for i := 0; i < b.N; i++ {
			p := &pkts[i%len(pkts)]
			dissect.Dissect(p.LinkType, p.Data, p.Length)
		}
		report(b, cpu0)
	})
	b.Run("anchor=Summarize", func(b *testing.B) {
		cpu0 := startCPU(b)
		for i := 0; i < b.N; i++ {
			p := &pkts[i%len(pkts)]
			dissect.Summarize(p.LinkType, p.Data, p.Length)
		}
		report(b, cpu0)
	})
}

// startCPU resets the timer and returns the process's CPU time so far.
func startCPU(b *testing.B) time.Duration {
	b.ResetTimer()
	c, _ := processCPU()
	return c
}

// report gives pkts/s (wall clock) and pkts/cpu-s: packets per second of
// the process's CPU time since cpu0 (garbage collection included), the
// one-core rate that a loaded machine does not change.
func report(b *testing.B, cpu0 time.Duration) {
	c, ok := processCPU()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	if ok && c > cpu0 {
		b.ReportMetric(float64(b.N)/(c-cpu0).Seconds(), "pkts/cpu-s")
	}
}

// BenchmarkTrace measures a traced evaluation (what an explanation
// costs), per packet, against Match on the same packets in the same run.
func BenchmarkTrace(b *testing.B) {
	pkts := readCapture(b)
	for _, expr := range []string{`tcp.port == 443`, `ip.addr == 10.0.0.0/8 && udp`, `dns.qry.name contains "x"`} {
		f, err := Compile(expr)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(expr, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p := &pkts[i%len(pkts)]
				f.Trace(Packet{LinkType: p.LinkType, Data: p.Data, Length: p.Length, Number: i})
			}
		})
		b.Run("anchor=Match/"+expr, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p := &pkts[i%len(pkts)]
				f.Match(Packet{LinkType: p.LinkType, Data: p.Data, Length: p.Length, Number: i})
			}
		})
	}
}
