package web

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// readSpool reads a live spool with pcapio up to its first fault and
// returns its packets (copies) and data offsets.
func readSpool(t testing.TB, path string) ([]pcapio.Packet, []int64, pcapio.Format) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapio.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatalf("spool %s is not a capture file: %v", path, err)
	}
	var pkts []pcapio.Packet
	var offs []int64
	for {
		p, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Logf("spool read stopped after %d packets: %v", len(pkts), err)
			}
			return pkts, offs, r.Format()
		}
		pkts = append(pkts, p)
		offs = append(offs, r.DataOffset())
	}
}

// TestLiveSpoolPcapng checks that a live capture's spool is a pcapng file
// while it runs (every published packet is in it, in whole blocks) and
// after it stops: pcapio reads the packets the API serves, at the offsets
// the index records, with their interface, and tcpdump and tshark read the
// same count.
func TestLiveSpoolPcapng(t *testing.T) {
	b := &fakeBackend{ifaces: fakeInterfaces(), frame: 90, every: 100 * time.Microsecond}
	dir := t.TempDir()
	s, ts := newTestServer(t, Config{Live: b, DataDir: dir})
	_, info, _ := startLive(t, ts, `{"interface": "veth0", "filter": "ether proto 0x88b5", "snaplen": 1000}`)
	spool := filepath.Join(dir, info.ID, "spool")

	// While it runs: every published packet is already in the spool.
	for range 5 {
		published := waitInfo(t, ts, info.ID, "more packets", func(i CaptureInfo) bool { return i.Packets > 0 }).Packets
		pkts, _, format := readSpool(t, spool)
		if format != pcapio.FormatPcapNg || int64(len(pkts)) < published {
			t.Fatalf("running spool: %v with %d packets, %d published", format, len(pkts), published)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var stopped CaptureInfo
	do(t, "POST", ts.URL+"/api/captures/"+info.ID+"/stop", nil, &stopped)

	c, _ := s.capture(info.ID)
	pkts, _, _ := readSpool(t, spool)
	if int64(len(pkts)) != stopped.Packets || stopped.Packets < 5 {
		t.Fatalf("stopped spool holds %d packets, the capture %d", len(pkts), stopped.Packets)
	}
	st, _ := os.Stat(spool)
	if stopped.Size != st.Size() {
		t.Errorf("capture size %d, spool file %d bytes", stopped.Size, st.Size())
	}
	var data int64
	for i, p := range pkts {
		got, err := c.Packet(i+1, dissect.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Data, p.Data) || !got.Time.Equal(p.Timestamp) || got.CapLen != len(p.Data) {
			t.Fatalf("packet %d: served %v % x, spool %v % x", i+1, got.Time, got.Data, p.Timestamp, p.Data)
		}
		if want := fakeFrame(nil, i+1, 90); !bytes.Equal(p.Data, want) {
			t.Fatalf("spool packet %d: % x, want % x", i+1, p.Data, want)
		}
		data += int64(len(p.Data))
	}
	if stopped.Live.SpoolBytes != data {
		t.Errorf("spoolBytes %d, packet bytes %d", stopped.Live.SpoolBytes, data)
	}
	f, _ := os.Open(spool)
	r, _ := pcapio.NewReader(f)
	r.Next()
	if ifs := r.Interfaces(); len(ifs) != 1 || ifs[0].Name != "veth0" || ifs[0].Filter != "ether proto 0x88b5" || ifs[0].Snaplen != 1000 || ifs[0].LinkType != pcapio.LinkTypeEthernet {
		t.Errorf("spool interfaces %+v", ifs)
	}
	f.Close()

	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	tshark := testenv.LookPath(t, "tshark", "tshark")
	for _, cmd := range [][]string{{tcpdump, "-n", "-r", spool}, {tshark, "-n", "-r", spool, "-T", "fields", "-e", "frame.number"}} {
		out, err := exec.Command(cmd[0], cmd[1:]...).Output()
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(cmd[0]), err)
		}
		n := 0 // lines of packets, not of tcpdump's hex dumps of unknown ethertypes
		for _, line := range strings.Split(string(out), "\n") {
			if line != "" && line[0] != '\t' && line[0] != ' ' {
				n++
			}
		}
		if n != len(pkts) {
			t.Errorf("%s reads %d packets of the spool, want %d", filepath.Base(cmd[0]), n, len(pkts))
		}
	}
}
