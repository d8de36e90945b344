package dissect

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkttap/pkttap/dissect/internal/names"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// resolveFrames makes the frames of the name resolution test: one of an
// unknown EtherType between each sampled MAC address and the next (the
// Source and Destination columns are the MAC addresses), then an
// IPv4/UDP or IPv4/TCP (SYN) packet from each sampled port to the next of
// its protocol.
func resolveFrames(macs [][]byte, ports []names.ServicePort) [][]byte {
	var frames [][]byte
	for i := range macs {
		f := append(append(append([]byte{}, macs[i]...), macs[(i+1)%len(macs)]...), 0x88, 0xb5)
		frames = append(frames, append(f, make([]byte, 46)...))
	}
	for i, p := range ports {
		next := ports[(i+1)%len(ports)].Port
		var l4 []byte
		proto := byte(17)
		switch p.Proto {
		case "udp":
			l4 = binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, p.Port), next)
			l4 = append(l4, 0, 8, 0, 0)
		case "tcp":
			proto = 6
			l4 = binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, p.Port), next)
			l4 = append(l4, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0)
		default:
			continue
		}
		ip := []byte{0x45, 0, 0, byte(20 + len(l4)), 0, 1, 0x40, 0, 64, proto, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2}
		eth := []byte{0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0}
		frames = append(frames, append(append(eth, ip...), l4...))
	}
	return frames
}

// pdmlShow returns, for each packet of tshark's PDML, the showname of
// each of the given fields and protocols (their first occurrence).
func pdmlShow(t *testing.T, b []byte, want map[string]bool) []map[string]string {
	t.Helper()
	// tshark writes some names of the tables as their bytes, which need
	// not be UTF-8.
	dec := xml.NewDecoder(bytes.NewReader(bytes.ToValidUTF8(b, []byte("\uFFFD"))))
	var out []map[string]string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("parse pdml: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local == "packet" {
			out = append(out, map[string]string{})
			continue
		}
		var name, show string
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "name":
				name = a.Value
			case "showname":
				show = a.Value
			}
		}
		if want[name] && len(out) > 0 {
			if _, seen := out[len(out)-1][name]; !seen {
				out[len(out)-1][name] = show
			}
		}
	}
}

// TestResolveNamesTshark compares MAC and port name resolution with
// tshark's -N m and -N t: for an address in every 41st vendor prefix and
// range of the tables (and every 13th named TCP and UDP port; every
// 3rd and 2nd, 23,229 frames, also agree), the Source
// and Destination columns, and the Ethernet, TCP and UDP tree lines.
// Without resolution the same frames show numbers, as tshark -n does.
func TestResolveNamesTshark(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	macs, _ := names.Samples(41, 0x5a)
	_, ports := names.Samples(13, 0)
	frames := resolveFrames(macs, ports)
	path := filepath.Join(t.TempDir(), "names.pcap")
	var buf bytes.Buffer
	w, err := pcapio.NewWriter(&buf, pcapio.WriterOptions{Format: pcapio.FormatPcap, LinkType: pcapio.LinkTypeEthernet, Snaplen: 65535})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		if err := w.WritePacket(&pcapio.Packet{Timestamp: time.Unix(int64(i), 0), Data: f, Length: len(f), LinkType: pcapio.LinkTypeEthernet}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fields := map[string]bool{"eth": true, "eth.src": true, "eth.dst": true, "udp": true, "udp.srcport": true, "udp.dstport": true, "tcp": true, "tcp.srcport": true, "tcp.dstport": true}
	for _, tt := range []struct {
		flag string
		o    Options
	}{{"mt", Options{ResolveMAC: true, ResolvePorts: true}}, {"", Options{}}} {
		args := []string{"-r", path, "-o", "tcp.relative_sequence_numbers:FALSE", "-o", "tcp.analyze_sequence_numbers:FALSE"}
		if tt.flag == "" {
			args = append(args, "-n")
		} else {
			args = append(args, "-N", tt.flag)
		}
		cols, err := runTshark(ctx, tshark, append(args, "-T", "fields", "-E", "separator=/t", "-e", "_ws.col.Source", "-e", "_ws.col.Destination")...)
		if err != nil {
			t.Fatal(err)
		}
		pdml, err := runTshark(ctx, tshark, append(args, "-T", "pdml")...)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(cols), "\n"), "\n")
		shows := pdmlShow(t, pdml, fields)
		if len(lines) != len(frames) || len(shows) != len(frames) {
			t.Fatalf("-N %q: tshark printed %d lines and %d packets for %d frames", tt.flag, len(lines), len(shows), len(frames))
		}
		bad, compared := 0, 0
		for i, f := range frames {
			s := tt.o.Summarize(pcapio.LinkTypeEthernet, f, len(f))
			mine := map[string]string{}
			tt.o.Dissect(pcapio.LinkTypeEthernet, f, len(f)).Walk(func(n *Node, _ int) bool {
				if _, ok := mine[n.Field]; !ok && fields[n.Field] {
					mine[n.Field] = n.Label
				}
				return true
			})
			theirs := shows[i]
			if i < len(macs) {
				theirs["columns"] = lines[i]
				mine["columns"] = s.Source + "\t" + s.Destination
			}
			if tcp := theirs["tcp"]; tcp != "" {
				theirs["tcp"], _, _ = strings.Cut(tcp, ", Seq")
				mine["tcp"], _, _ = strings.Cut(mine["tcp"], ", Seq")
			}
			for k, v := range theirs {
				compared++
				if mine[k] != v {
					if bad++; bad <= 15 {
						t.Errorf("-N %q, frame %d (% x), %s: %q, tshark %q", tt.flag, i+1, f[:12], k, mine[k], v)
					}
				}
			}
		}
		t.Logf("-N %q: %d frames, %d values compared, %d differ", tt.flag, len(frames), compared, bad)
	}
}
