package web

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

func TestDownload(t *testing.T) {
	const n = 3000
	_, ts := newTestServer(t, Config{})
	src := synthetic(t, pcapio.FormatPcapNg, n)
	id := waitIndexed(t, ts, upload(t, ts, "trace.pcapng.gz", gzipped(t, src)).ID).ID
	orig := readCapture(t, src)
	tests := []struct {
		query, filename string
		format          pcapio.Format
		keep            func(i int) bool
	}{
		{"", "trace.pcap", pcapio.FormatPcap, nil},
		{"format=pcap", "trace.pcap", pcapio.FormatPcap, nil},
		{"format=pcapng", "trace.pcapng", pcapio.FormatPcapNg, nil},
		{"format=pcap&filter=tcp%20port%20443", "trace-tcp_port_443.pcap", pcapio.FormatPcap,
			func(i int) bool { return samplegen.Kind(i) == samplegen.KindTLS }},
		{"format=pcapng&filter=udp%20or%20arp", "trace-udp_or_arp.pcapng", pcapio.FormatPcapNg,
			func(i int) bool { k := samplegen.Kind(i); return k == samplegen.KindDNS || k == samplegen.KindARP }},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res := do(t, "GET", ts.URL+"/api/captures/"+id+"/download?"+tt.query, nil, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			_, params, _ := mime.ParseMediaType(res.Header.Get("Content-Disposition"))
			if params["filename"] != tt.filename {
				t.Errorf("file name %q, want %q", params["filename"], tt.filename)
			}
			data, _ := io.ReadAll(res.Body)
			r, err := pcapio.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if r.Format() != tt.format {
				t.Errorf("format %v, want %v", r.Format(), tt.format)
			}
			got := readCapture(t, data)
			var want []pcapio.Packet
			for i, p := range orig {
				if tt.keep == nil || tt.keep(i) {
					want = append(want, p)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d packets, want %d", len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i].Data, want[i].Data) || got[i].Length != want[i].Length || !got[i].Timestamp.Equal(want[i].Timestamp) {
					t.Fatalf("packet %d differs", i+1)
				}
			}
		})
	}
	for _, q := range []string{"format=txt", "filter=tcp%20port"} {
		var e apiError
		if res := do(t, "GET", ts.URL+"/api/captures/"+id+"/download?"+q, nil, &e); res.StatusCode != http.StatusBadRequest || e.Error == "" {
			t.Errorf("%s: status %d %+v", q, res.StatusCode, e)
		}
	}
}

// TestDownloadTshark checks downloads with Wireshark's reader, packet for
// packet against the uploaded file.
func TestDownloadTshark(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	_, ts := newTestServer(t, Config{})
	var b bytes.Buffer
	if err := samplegen.WriteSample(&b); err != nil {
		t.Fatal(err)
	}
	id := waitIndexed(t, ts, upload(t, ts, "sample.pcapng", b.Bytes()).ID).ID
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.pcapng")
	os.WriteFile(orig, b.Bytes(), 0o600)
	fields := func(path, filter string) string {
		args := []string{"-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len", "-e", "frame.protocols"}
		if filter != "" {
			args = append(args, "-Y", filter)
		}
		out, err := exec.Command(tshark, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tshark %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for _, tc := range []struct{ format, filter, display string }{
		{"pcap", "", ""},
		{"pcapng", "", ""},
		{"pcap", "tcp port 80", "tcp.port == 80"},
		{"pcapng", "udp port 53", "udp.port == 53 && !vlan"}, // BPF offsets do not look past a VLAN tag
	} {
		res := do(t, "GET", ts.URL+"/api/captures/"+id+"/download?format="+tc.format+"&filter="+urlQuery(tc.filter), nil, nil)
		data, _ := io.ReadAll(res.Body)
		path := filepath.Join(dir, "dl."+tc.format)
		os.WriteFile(path, data, 0o600)
		got, want := fields(path, ""), fields(orig, tc.display)
		if got != want {
			t.Errorf("%s %q: tshark sees\n%s\nwant\n%s", tc.format, tc.filter, got, want)
		}
		if n := strings.Count(got, "\n"); n == 0 {
			t.Errorf("%s %q: no packets", tc.format, tc.filter)
		} else {
			t.Logf("%s %q: %s packets identical", tc.format, tc.filter, strconv.Itoa(n))
		}
	}
}

// TestDownloadKeepsSnaplen: a download is a copy and records the uploaded
// file's snap length (31 here, shorter than its packets: tcpdump shows them
// cut to it), in pcap and in pcapng, as tcpdump -w keeps it.
func TestDownloadKeepsSnaplen(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	var src bytes.Buffer
	w, err := pcapio.NewWriter(&src, pcapio.WriterOptions{Format: pcapio.FormatPcap, LinkType: pcapio.LinkTypeEthernet, Snaplen: 31})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range readCapture(t, synthetic(t, pcapio.FormatPcap, 20)) {
		if err := w.WritePacket(&p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	id := waitIndexed(t, ts, upload(t, ts, "s31.pcap", src.Bytes()).ID).ID
	for _, format := range []string{"pcap", "pcapng"} {
		res := do(t, "GET", ts.URL+"/api/captures/"+id+"/download?format="+format, nil, nil)
		data, _ := io.ReadAll(res.Body)
		r, err := pcapio.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if ifs := r.Interfaces(); len(ifs) != 1 || ifs[0].Snaplen != 31 {
			t.Errorf("%s download: interfaces %+v, want one of snap length 31", format, ifs)
		}
	}
}

// TestDownloadCheck: check=1 answers what a download would get, without
// the packets: 204 where it would start, the refusal otherwise.
func TestDownloadCheck(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	mixed := waitIndexed(t, ts, upload(t, ts, "mixed.pcapng", mixedLinkTypes(t, 4)).ID).ID
	tests := []struct {
		id, query string
		status    int
	}{
		{mixed, "format=pcapng&check=1", http.StatusNoContent},
		{mixed, "format=pcapng&filter=ip&check=1", http.StatusNoContent},
		{mixed, "format=pcap&check=1", http.StatusConflict},
		{mixed, "format=txt&check=1", http.StatusBadRequest},
		{"0123456789abcdef", "check=1", http.StatusNotFound},
	}
	for _, tt := range tests {
		res := do(t, "GET", ts.URL+"/api/captures/"+tt.id+"/download?"+tt.query, nil, nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d (%s)", tt.query, res.StatusCode, tt.status, body)
		}
		if tt.status == http.StatusNoContent && len(body) != 0 {
			t.Errorf("%s: %d bytes of body, want none", tt.query, len(body))
		}
	}
}
