package remote

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/sshdtest"
	"github.com/pkttap/pkttap/pcapio"
)

// rateWindow is how long each rate is measured.
const rateWindow = 2 * time.Second

// countFor reads c for d (then closes it) and returns the packets and
// bytes read and the capture's final counts.
func countFor(b *testing.B, c *capture.Capture, d time.Duration) (pkts, bytes int, st capture.Stats) {
	b.Helper()
	closed := make(chan struct{})
	time.AfterFunc(d, func() { c.Close(); close(closed) })
	for {
		p, err := c.NextZeroCopy()
		if errors.Is(err, capture.ErrClosed) {
			<-closed // Stats has the final counts once Close returned
			break
		}
		if err != nil {
			b.Fatalf("after %d packets: %v", pkts, err)
		}
		pkts++
		bytes += len(p.Data)
	}
	st, _ = c.Stats()
	return pkts, bytes, st
}

func reportRate(b *testing.B, name string, pkts, bytes int, d time.Duration) (pps float64) {
	pps = float64(pkts) / d.Seconds()
	b.ReportMetric(pps, name+"-pkts/s")
	b.ReportMetric(float64(bytes)/d.Seconds()/1e6, name+"-MB/s")
	return pps
}

// BenchmarkSSHFlood measures the sustained rate of an SSH source: a real
// tcpdump behind a real sshd captures a UDP flood across the veth (the SSH
// connection shares the link) for rateWindow. The anchor is a local live
// capture (AF_PACKET) of the same flood on the same interface at the same
// time; ssh/local is the ratio of their packet counts (1: the SSH source
// kept up with the flood).
func BenchmarkSSHFlood(b *testing.B) {
	s := sshdtest.Start(b, sshdtest.Options{})
	h, err := dial(b, s, sshConfig(s))
	if err != nil {
		b.Fatal(err)
	}
	expr := fmt.Sprintf("udp port %d", netnstest.FloodPort)
	var local *capture.Capture
	netnstest.Run(b, s.Pair.NSB, func() {
		local, err = capture.Live(s.Pair.IfB).Filter(expr).Open()
	})
	if err != nil {
		b.Fatal(err)
	}
	c, err := h.Capture(CaptureOptions{Interface: s.Pair.IfB, Filter: expr})
	if err != nil {
		b.Fatal(err)
	}
	type result struct {
		pkts, bytes int
		st          capture.Stats
	}
	var lr, sr result
	var wg sync.WaitGroup
	b.ResetTimer()
	stop := s.Pair.Flood(b)
	for _, x := range []struct {
		c *capture.Capture
		r *result
	}{{local, &lr}, {c, &sr}} {
		wg.Go(func() { x.r.pkts, x.r.bytes, x.r.st = countFor(b, x.c, rateWindow+time.Second) })
	}
	time.Sleep(rateWindow)
	stop()
	wg.Wait() // a second more for what is still on its way
	b.StopTimer()
	localPPS := reportRate(b, "local", lr.pkts, lr.bytes, rateWindow)
	sshPPS := reportRate(b, "ssh", sr.pkts, sr.bytes, rateWindow)
	b.ReportMetric(float64(sr.st.Dropped), "ssh-drops")
	b.ReportMetric(float64(lr.st.Dropped), "local-drops")
	b.ReportMetric(sshPPS/localPPS, "ssh/local")
}

// BenchmarkSSHStream measures what the SSH transport and the pcap reader
// carry when the remote side is not the limit: a stand-in tcpdump writes
// a 64 MiB pcap file as fast as cat can, read for rateWindow at most. The
// anchor is the same cat piped to the same reader on this side, with no
// SSH between; ssh/pipe is the ratio of their byte rates. merged is the
// same SSH stream read through capture.Merge (a source of a capture of
// several, as pkttap-web reads it): merged/ssh is what the merge costs.
func BenchmarkSSHStream(b *testing.B) {
	dir := b.TempDir()
	file := filepath.Join(dir, "stream.pcap")
	writeBigPcap(b, file, 64<<20)
	s := sshdtest.Start(b, sshdtest.Options{Path: sshdtest.FakeBin(b, "tcpdump", sshdtest.FakeTcpdumpHead+"exec /bin/cat "+file+"\n")})
	h, err := dial(b, s, sshConfig(s))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cmd := exec.Command("cat", file)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	r, err := pcapio.NewReader(out)
	if err != nil {
		b.Fatal(err)
	}
	var pp, pb int
	for time.Since(start) < rateWindow {
		p, err := r.NextZeroCopy()
		if err != nil {
			break
		}
		pp, pb = pp+1, pb+len(p.Data)
	}
	pd := time.Since(start)
	cmd.Process.Kill()
	cmd.Wait()
	c, err := h.Capture(CaptureOptions{Interface: "eth0"})
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now() // from the header on, as the pipe's
	sp, sb, _ := countUntilEnd(b, c, rateWindow)
	sd := time.Since(start)
	c, err = h.Capture(CaptureOptions{Interface: "eth0"})
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	m, err := capture.Merge(capture.MergeOptions{}, capture.MergeInput{Reader: c, Interface: pcapio.Interface{Name: "h:eth0", LinkType: c.LinkType()}})
	if err != nil {
		b.Fatal(err)
	}
	timer := time.AfterFunc(rateWindow, func() { m.Close() })
	var mp, mb int
	for {
		p, err := m.Next()
		if err != nil {
			break
		}
		mp, mb = mp+1, mb+len(p.Data)
	}
	md := time.Since(start)
	timer.Stop()
	m.Close()
	b.StopTimer()
	reportRate(b, "pipe", pp, pb, pd)
	reportRate(b, "ssh", sp, sb, sd)
	reportRate(b, "merged", mp, mb, md)
	b.ReportMetric((float64(sb)/sd.Seconds())/(float64(pb)/pd.Seconds()), "ssh/pipe")
	b.ReportMetric((float64(mb)/md.Seconds())/(float64(sb)/sd.Seconds()), "merged/ssh")
}

// countUntilEnd is countFor that also stops at the end of the stream.
func countUntilEnd(b *testing.B, c *capture.Capture, d time.Duration) (pkts, bytes int, st capture.Stats) {
	b.Helper()
	timer := time.AfterFunc(d, func() { c.Close() })
	defer timer.Stop()
	defer c.Close()
	for {
		p, err := c.NextZeroCopy()
		if err != nil {
			if !errors.Is(err, capture.ErrClosed) && !errors.Is(err, ErrRemoteExited) && err.Error() != "EOF" {
				b.Fatalf("after %d packets: %v", pkts, err)
			}
			break
		}
		pkts++
		bytes += len(p.Data)
	}
	st, _ = c.Stats()
	return pkts, bytes, st
}

// writeBigPcap writes a pcap file of about size bytes of 1514-byte
// Ethernet frames.
func writeBigPcap(b *testing.B, path string, size int) {
	buf := pcapHeader()
	frame := make([]byte, 1514)
	for i := 0; len(buf) < size; i++ {
		buf = pcapRecordHeader(buf, uint32(i/1000), uint32(i%1000), len(frame))
		buf = append(buf, frame...)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.Fatal(err)
	}
}
