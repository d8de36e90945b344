package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    options // only the fields compared below
		wantErr string
	}{
		{args: []string{"f.pcap", "tcp", "port", "80"}, want: options{snaplen: -1, args: []string{"f.pcap", "tcp", "port", "80"}}},
		{args: []string{"-c", "3", "f.pcap", "-s", "96", "udp"}, want: options{snaplen: 96, count: 3, args: []string{"f.pcap", "udp"}}},
		{args: []string{"-ddd", "-y", "EN10MB", "-len < 0"}, want: options{snaplen: -1, dumpLevel: 3, linkType: "EN10MB", args: []string{"-len < 0"}}},
		{args: []string{"-dd", "-y=RAW", "--", "-x", "-c"}, want: options{snaplen: -1, dumpLevel: 2, linkType: "RAW", args: []string{"-x", "-c"}}},
		{args: []string{"-d", "-1", "=", "ip[0]"}, want: options{snaplen: -1, dumpLevel: 1, args: []string{"-1", "=", "ip[0]"}}},
		{args: []string{"-", "-q", "-w", "out.pcapng"}, want: options{snaplen: -1, quiet: true, write: "out.pcapng", args: []string{"-"}}},
		{args: []string{"--list-interfaces"}, want: options{snaplen: -1, list: true}},
		{args: []string{"-p", "-S", "-V", "eth0"}, want: options{snaplen: -1, promisc: true, summary: true, verbose: true, args: []string{"eth0"}}},
		{args: []string{"-s", "0", "-O", "-d", "ip"}, want: options{snaplen: 0, noOpt: true, dumpLevel: 1, args: []string{"ip"}}},
		{args: []string{"-x"}, wantErr: "flag provided but not defined: -x"},
		{args: []string{"-c"}, wantErr: "flag needs an argument: -c"},
		{args: []string{"-c", "many"}, wantErr: "invalid value"},
		{args: []string{"-s", "-5", "f"}, wantErr: "snap length"},
		{args: []string{"-i", "eth0", "-r", "f"}, wantErr: "-i and -r"},
		{args: []string{"-y", "RAW", "f"}, wantErr: "-y chooses"},
	}
	for _, tt := range tests {
		o, err := parseArgs(tt.args)
		if tt.wantErr != "" {
			if err == nil || !isUsageError(err) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseArgs(%q) error = %v, want a usage error with %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tt.args, err)
			continue
		}
		o.args = slices.Clip(o.args)
		w := tt.want
		if o.snaplen != w.snaplen || o.count != w.count || o.dumpLevel != w.dumpLevel || o.linkType != w.linkType ||
			o.quiet != w.quiet || o.write != w.write || o.list != w.list || o.promisc != w.promisc ||
			o.summary != w.summary || o.verbose != w.verbose || o.noOpt != w.noOpt || !slices.Equal(o.args, w.args) {
			t.Errorf("parseArgs(%q) = %+v, want %+v", tt.args, o, w)
		}
	}
}

// FuzzParseArgs feeds command lines split at NUL bytes: parsing must not
// panic, and a line it accepts must name its pieces consistently.
func FuzzParseArgs(f *testing.F) {
	for _, seed := range []string{"f.pcap\x00tcp", "-ddd\x00-y\x00EN10MB\x00-len < 0", "-c\x003\x00-w\x00-\x00eth0", "--\x00-x", "-s=0\x00-O\x00-d"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		o, err := parseArgs(args)
		if err != nil {
			if !isUsageError(err) {
				t.Fatalf("parseArgs(%q) = %v, not a usage error", args, err)
			}
			return
		}
		if len(o.args) > len(args) || o.dumpLevel < 0 || o.dumpLevel > 3 || o.count < 0 || o.snaplen < -1 {
			t.Fatalf("parseArgs(%q) = %+v", args, o)
		}
	})
}
