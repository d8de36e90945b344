package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// TestLiveSeveralSources spools a live capture of two sources of
// different link types (two capture files replayed, merged by
// capture.Merge): one pcapng interface per source, rows that say their
// source, per-source counts, a capture that ends with its last source, a
// .pcapng download tshark reads with both interfaces, each with its own
// link type, and a .pcap download refused.
func TestLiveSeveralSources(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	corpus := filepath.Join(testenv.SharedDir(t), "corpus")
	files := []struct {
		name, iface string
		n           int
	}{{"forces3.pcap", "h1:any", 154}, {"mptcp-v0.pcap", "h2:eth0", 264}}
	var inputs []capture.MergeInput
	for _, f := range files {
		c, err := capture.FromFile(filepath.Join(corpus, f.name)).Open()
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, capture.MergeInput{Reader: c, Interface: pcapio.Interface{Name: f.iface, LinkType: c.LinkType(), Snaplen: 9000, Filter: "ip"}})
	}
	m, err := capture.Merge(capture.MergeOptions{}, inputs...)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := OpenPool(Config{DataDir: dir, Logger: newTestPool(t, Config{}).log})
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.AddLive(m, LiveOptions{Interface: "h1:any, h2:eth0", Snaplen: capture.MaxSnaplen})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the capture did not end with its sources")
	}
	info := s.Info()
	if info.State != StateReady || info.Packets != 154+264 || strings.Join(info.Interfaces, ",") != "h1:any,h2:eth0" {
		t.Fatalf("info %+v", info)
	}
	if len(info.Live.Sources) != 2 {
		t.Fatalf("sources %+v", info.Live.Sources)
	}
	for i, src := range info.Live.Sources {
		if src.Name != files[i].iface || src.Packets != uint64(files[i].n) || src.Received != uint64(files[i].n) || src.State != capture.SourceStopped || src.Snaplen != 9000 {
			t.Errorf("source %d: %+v", i, src)
		}
	}
	page, err := s.Rows(0, 1000, nil, dissect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var perIface [2]int
	for _, r := range page.Rows {
		perIface[r.Iface]++
	}
	if perIface != [2]int{154, 264} {
		t.Errorf("rows per interface %v", perIface)
	}
	// Sorted by interface: source 2's packets first, each source's in
	// capture order (a stable sort).
	so, err := s.StartSort(SortSpec{Column: ColumnInterface, Descending: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitSort(t, so)
	var want []int
	for _, iface := range []int{1, 0} {
		for _, r := range page.Rows {
			if r.Iface == iface {
				want = append(want, r.No)
			}
		}
	}
	if got := sortedNos(t, s, so); !slices.Equal(got, want) {
		t.Errorf("sorted by interface, descending: %v\nwant %v", got, want)
	}

	if _, err := s.Download(context.Background(), nil, pcapio.FormatPcap); !errors.Is(err, ErrMixedLinkTypes) {
		t.Errorf(".pcap download: %v, want ErrMixedLinkTypes", err)
	}
	d, err := s.Download(context.Background(), nil, pcapio.FormatPcapNg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := d.WriteTo(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "dl.pcapng")
	if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command(tshark, "-r", out, "-T", "fields", "-e", "frame.interface_name", "-e", "frame.encap_type", "-e", "frame.time_epoch").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 154+264 {
		t.Fatalf("tshark reads %d packets", len(lines))
	}
	// (The merged order is compared with mergecap's in package capture.)
	count := map[string]int{}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		count[f[0]+" "+f[1]]++
	}
	// tshark's encapsulation numbers: 25 Linux cooked, 1 Ethernet.
	if count["h1:any 25"] != 154 || count["h2:eth0 1"] != 264 {
		t.Errorf("tshark reads per interface and encapsulation %v", count)
	}

	// After a restart: the same interfaces, sources and rows.
	id := s.ID()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p2 := newTestPool(t, Config{DataDir: dir})
	s2, ok := p2.Get(id)
	if !ok {
		t.Fatalf("capture %s not recovered", id)
	}
	<-s2.Done()
	info2 := s2.Info()
	if !slices.Equal(info2.Interfaces, info.Interfaces) || !slices.Equal(info2.Live.Sources, info.Live.Sources) || info2.Packets != info.Packets {
		t.Errorf("after a restart: %+v %+v\nbefore: %+v %+v", info2, info2.Live, info, info.Live)
	}
	page2, err := s2.Rows(0, 1000, nil, dissect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range page2.Rows {
		if page2.Rows[i].Iface != page.Rows[i].Iface {
			t.Fatalf("row %d after a restart: interface %d, was %d", i+1, page2.Rows[i].Iface, page.Rows[i].Iface)
		}
	}
}
