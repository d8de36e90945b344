package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// TestDownloadKeepsMetadata checks that a pcapng download keeps each
// packet's comment and the interfaces' names, descriptions, snap lengths
// and timestamp resolutions, in a file of two sections.
func TestDownloadKeepsMetadata(t *testing.T) {
	ifaces := [][]pcapio.Interface{
		{
			{LinkType: pcapio.LinkTypeEthernet, Name: "eth0", Description: "uplink", Snaplen: 1500, TSResolution: pcapio.TSResolutionMicro},
			{LinkType: pcapio.LinkTypeRaw, Name: "tun0", Description: "vpn tunnel", Snaplen: 9000, TSResolution: pcapio.TSResolutionNano},
		},
		{
			{LinkType: pcapio.LinkTypeEthernet, Name: "wlan0", Description: "wifi", Snaplen: 4096, TSResolution: pcapio.TSResolutionMicro},
		},
		{ // written back with no offset, in nanoseconds
			{LinkType: pcapio.LinkTypeEthernet, Name: "odd0", Snaplen: 128, TSResolution: 0x80 | 10, TSOffset: 3600},
		},
	}
	type sent struct {
		pkt   pcapio.Packet
		iface pcapio.Interface
	}
	var want []sent
	var src bytes.Buffer
	base := time.Unix(1_700_000_000, 0)
	for s, sec := range ifaces {
		w, err := pcapio.NewWriter(&src, pcapio.WriterOptions{Format: pcapio.FormatPcapNg, Interfaces: sec})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 6 {
			ifc := i % len(sec)
			var data []byte
			if sec[ifc].LinkType == pcapio.LinkTypeRaw {
				data = make([]byte, 28)
				data[0], data[9] = 0x45, 17
			} else {
				data = make([]byte, 60)
				copy(data, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, byte(i), 0x08, 0x06})
			}
			data[len(data)-1] = byte(10*s + i)
			p := pcapio.Packet{
				Timestamp:      base.Add(time.Duration(10*s+i) * time.Millisecond),
				Data:           data,
				Length:         len(data),
				LinkType:       sec[ifc].LinkType,
				InterfaceIndex: ifc,
			}
			if i%2 == 0 {
				p.Comment = fmt.Sprintf("comment %d of section %d", i, s)
			}
			if err := w.WritePacket(&p); err != nil {
				t.Fatal(err)
			}
			want = append(want, sent{p, sec[ifc]})
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	// Timestamps as a reader sees them in the source (binary resolutions
	// are not exact in nanoseconds).
	for i, p := range readCapture(t, src.Bytes()) {
		want[i].pkt.Timestamp = p.Timestamp
	}
	odd := &want[len(want)-1].iface
	odd.TSOffset, odd.TSResolution = 0, pcapio.TSResolutionNano
	for i := len(want) - 6; i < len(want); i++ {
		want[i].iface = *odd
	}
	_, ts := newTestServer(t, Config{})
	id := waitIndexed(t, ts, upload(t, ts, "meta.pcapng", src.Bytes()).ID).ID

	check := func(t *testing.T, data []byte, want []sent) {
		t.Helper()
		r, err := pcapio.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		for ; ; n++ {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if n >= len(want) {
				t.Fatalf("more than %d packets", len(want))
			}
			w := want[n]
			if !bytes.Equal(p.Data, w.pkt.Data) || p.Length != w.pkt.Length || !p.Timestamp.Equal(w.pkt.Timestamp) || p.LinkType != w.pkt.LinkType {
				t.Errorf("packet %d differs", n+1)
			}
			if p.Comment != w.pkt.Comment {
				t.Errorf("packet %d: comment %q, want %q", n+1, p.Comment, w.pkt.Comment)
			}
			if p.InterfaceIndex >= len(r.Interfaces()) {
				t.Fatalf("packet %d: interface %d of %d", n+1, p.InterfaceIndex, len(r.Interfaces()))
			}
			got := r.Interfaces()[p.InterfaceIndex]
			if got.Name != w.iface.Name || got.Description != w.iface.Description || got.Snaplen != w.iface.Snaplen ||
				got.TSResolution != w.iface.TSResolution || got.LinkType != w.iface.LinkType {
				t.Errorf("packet %d: interface %+v, want %+v", n+1, got, w.iface)
			}
		}
		if n != len(want) {
			t.Errorf("%d packets, want %d", n, len(want))
		}
	}
	dl := func(t *testing.T, query string) []byte {
		res := do(t, "GET", ts.URL+"/api/captures/"+id+"/download?format=pcapng"+query, nil, nil)
		data, err := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("download: status %d, %v", res.StatusCode, err)
		}
		return data
	}
	t.Run("all", func(t *testing.T) { check(t, dl(t, ""), want) })
	t.Run("filtered", func(t *testing.T) {
		var arp []sent
		for _, w := range want {
			if w.pkt.LinkType == pcapio.LinkTypeEthernet {
				arp = append(arp, w)
			}
		}
		check(t, dl(t, "&filter=arp"), arp)
	})
	t.Run("tshark", func(t *testing.T) {
		tshark := testenv.LookPath(t, "tshark", "tshark")
		f := filepath.Join(t.TempDir(), "dl.pcapng")
		if err := os.WriteFile(f, dl(t, ""), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tshark, "-r", f, "-T", "fields", "-e", "frame.comment", "-e", "frame.interface_name").Output()
		if err != nil {
			t.Fatalf("tshark: %v\n%s", err, out)
		}
		var exp strings.Builder
		for _, w := range want {
			fmt.Fprintf(&exp, "%s\t%s\n", w.pkt.Comment, w.iface.Name)
		}
		if string(out) != exp.String() {
			t.Errorf("tshark sees\n%s\nwant\n%s", out, exp.String())
		}
	})
}
