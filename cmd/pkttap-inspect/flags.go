package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// options are pkttap-inspect's parsed command line.
type options struct {
	help      bool
	list      bool
	promisc   bool
	snaplen   int // -1: not given
	count     int // 0: no limit
	write     string
	quiet     bool
	dumpLevel int      // 1, 2, 3 for -d, -dd, -ddd; 0 for none
	linkType  string   // -y
	noOpt     bool     // -O
	summary   bool     // -S
	verbose   bool     // -V
	checksums bool     // --verify-checksums
	iface     string   // -i
	file      string   // -r
	display   string   // -Y: a display filter
	format    string   // -T: "fields" or ""
	fields    []string // -e, in order
	report    string   // -G: "fields" or ""
	annotate  bool     // --annotate: -d with the source of each instruction
	explain   bool     // --explain: every packet, with why the filter matches it or not
	stats     []string // -z, in order
	// Remote sources (ssh://USER@HOST/IFACE, rpcap://HOST/IFACE)
	remoteList    string   // -D: ssh://USER@HOST or rpcap://HOST whose interfaces to list
	identities    []string // --identity, in order
	knownHosts    string   // --known-hosts
	acceptHostKey string   // --accept-host-key
	sudo          bool     // --sudo
	rpcapData     string   // --rpcap-data: tcp, server-open or udp
	args          []string
}

// usage is printed by -h and after a usage error.
const usage = `usage: pkttap-inspect [flags] <INTERFACE|FILE|ssh://[USER@]HOST[:PORT]/INTERFACE|rpcap://[USER@]HOST[:PORT]/INTERFACE> [FILTER...]
       pkttap-inspect -d|-dd|-ddd [--annotate] [-y LINKTYPE] [FILTER...]
       pkttap-inspect --explain [-Y EXPR] <INTERFACE|FILE> [FILTER...]
       pkttap-inspect -l
       pkttap-inspect -D ssh://[USER@]HOST[:PORT]|rpcap://[USER@]HOST[:PORT]

Prints the link type ("link type: Ethernet"), then each packet of a capture
file (.pcap or .pcapng, "-" for standard input) or of a live network
interface as a header line and hex + ASCII rows, then the number of packets
captured. The first argument is a file if a file
of that name exists or it looks like a path (a slash, a .pcap or .pcapng
extension), else an interface; the remaining arguments are joined into a
tcpdump filter expression (see pcap-filter(7)). A live capture runs
until -c packets were seen or Ctrl-C, then prints the kernel's counts.

An ssh:// source captures on another machine: pkttap-inspect logs in with
the ssh-agent or key files, checks the host key against known_hosts, and
runs tcpdump there (-U -w -), reading its packets as they come. The filter
is checked here first; -p, -s and -c work as for a local interface.

An rpcap:// source captures through a remote rpcapd (libpcap's and Npcap's
remote capture daemon, port 2002 by default): with null authentication, or
as USER with the password in the environment variable PKTTAP_RPCAP_PASSWORD
(rpcap sends it in the clear). The filter is compiled here for the remote
interface's link type and sent as BPF; the rpcap connections' own packets
are left out of the capture.

flags:
  -h, --help             print this help
  -l, --list-interfaces  list the interfaces a live capture can open, with
                         their flags, link type and addresses
  -i INTERFACE           capture from INTERFACE (even if a file has that name)
  -r FILE                read FILE (then every argument is the filter)
  -p                     put the interface in promiscuous mode
  -s SNAPLEN             keep at most SNAPLEN bytes of each packet (0 means
                         262144); longer packets are marked "[truncated to
                         N]". Without -s a live capture keeps 262144 bytes
                         and a file every byte it holds
  -c COUNT               stop after COUNT packets
  -w FILE                write the packets to FILE (.pcap or .pcapng, "-" for
                         pcap on standard output) instead of printing them;
                         add -S or -V to print them as well. A copy of a file
                         keeps its snap length (each interface's in pcapng)
  -q                     print only the final count
  -S                     print one summary line per packet (No., Time,
                         Source, Destination, Protocol, Length, Info)
  -V                     print each packet's protocol tree (with each field's
                         byte offset and length) above its hex dump
  --verify-checksums     with -V, verify the IPv4 header, TCP, UDP and SCTP
                         checksums too ("[Checksum Status: Good]" or "Bad");
                         without it they are "[unverified]", as in
                         Wireshark's default. ICMP and IGMP checksums are
                         always verified
  -d, -dd, -ddd          print the compiled filter program as tcpdump -d,
                         -dd, -ddd do, and exit
  --annotate             with -d, print after each instruction the part of
                         the filter it implements: "; COLUMNS TEXT" lines,
                         COLUMNS 1-based and inclusive, "all" for code of
                         the whole expression (link-layer prologue, returns)
  --explain              explain the filter instead of applying it: print
                         every packet followed by the primitives of the
                         filter, the comparisons each made with the packet
                         bytes they read (0-based offsets), true or false,
                         which one decided, and the verdict (match or no
                         match; for a truncated packet, the load that fell
                         off its end). With -Y, the display filter is
                         explained too, and not applied: its comparisons
                         with every value of each field (ip.addr's source
                         and destination), their bytes, and how they give
                         each term's outcome (any, all or none of them)
  -y LINKTYPE            the link type to compile for with -d (EN10MB, RAW,
                         LINUX_SLL, LINUX_SLL2, NULL, LOOP, ...)
  -O                     do not optimize the filter program (as tcpdump -O)
  -Y EXPR                print (and count, and write) only the packets that
                         pass EXPR, a display filter in Wireshark 4.0's
                         language ("tcp.port == 443 && tls"); it applies
                         after the tcpdump filter when both are given. A
                         packet's number is its place among the packets read
  -T fields              with -e, print the named fields of each packet
  -e FIELD               a field for -T fields (repeat the flag for more):
                         one line per packet, the fields tab-separated, a
                         field that occurs several times joined by ','
  -D ssh://[USER@]HOST[:PORT] or rpcap://[USER@]HOST[:PORT]
                         list the interfaces of a remote host (tcpdump -D
                         there, or ip -o link; rpcapd's list)
  --identity FILE        with ssh://, offer this private key (repeat the
                         flag for more; default: the ssh-agent, and
                         ~/.ssh/id_ed25519, id_ecdsa, id_rsa)
  --known-hosts FILE     with ssh://, the known host keys (default
                         ~/.ssh/known_hosts)
  --accept-host-key SHA256:...
                         with ssh://, trust a host not yet known whose key
                         has this fingerprint, and add it to known_hosts
  --sudo                 with ssh://, run tcpdump as sudo -n tcpdump
  --rpcap-data tcp|server-open|udp
                         with rpcap://, how packets travel: a TCP connection
                         to a port the server opens (the default), one the
                         server opens to this host, or UDP datagrams
  -G fields              list the fields and protocols display filters know,
                         as tshark -G fields does (F or P, description,
                         name, type, protocol, display base), and exit
  -z follow,PROTO,MODE,STREAM
  -z follow,PROTO,MODE,ADDR:PORT,ADDR:PORT
                         print the payload of one TCP or UDP conversation
                         after the packets (with -q, only it), in order,
                         retransmitted data once, as tshark 4.0's
                         -z follow prints it: PROTO tcp or udp, MODE ascii,
                         hex or raw, STREAM the tcp.stream or udp.stream
                         number, or the two endpoints ([ADDR]:PORT for IPv6)
`

// usageError is a command line that cannot be understood.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usageErrorf returns a *usageError with a formatted message.
func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// isUsageError reports whether err is (or wraps) a *usageError.
func isUsageError(err error) bool {
	var ue *usageError
	return errors.As(err, &ue)
}

// parseArgs parses the command line. Flags may come before, between and
// after the positional arguments (as GNU getopt allows tcpdump); "--" ends
// the flags, and an argument that cannot be a flag ("-len < 0") is filter
// text.
func parseArgs(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("pkttap-inspect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&o.help, "h", false, "")
	fs.BoolVar(&o.help, "help", false, "")
	fs.BoolVar(&o.list, "l", false, "")
	fs.BoolVar(&o.list, "list-interfaces", false, "")
	fs.BoolVar(&o.promisc, "p", false, "")
	fs.IntVar(&o.snaplen, "s", -1, "")
	fs.IntVar(&o.count, "c", 0, "")
	fs.StringVar(&o.write, "w", "", "")
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.BoolVar(&o.summary, "S", false, "")
	fs.BoolVar(&o.verbose, "V", false, "")
	fs.BoolVar(&o.checksums, "verify-checksums", false, "")
	fs.StringVar(&o.linkType, "y", "", "")
	fs.BoolVar(&o.noOpt, "O", false, "")
	fs.StringVar(&o.iface, "i", "", "")
	fs.StringVar(&o.file, "r", "", "")
	fs.StringVar(&o.display, "Y", "", "")
	fs.StringVar(&o.format, "T", "", "")
	fs.Func("e", "", func(s string) error { o.fields = append(o.fields, s); return nil })
	fs.StringVar(&o.report, "G", "", "")
	fs.Func("z", "", func(s string) error { o.stats = append(o.stats, s); return nil })
	fs.BoolVar(&o.annotate, "annotate", false, "")
	fs.BoolVar(&o.explain, "explain", false, "")
	fs.StringVar(&o.remoteList, "D", "", "")
	fs.Func("identity", "", func(s string) error { o.identities = append(o.identities, s); return nil })
	fs.StringVar(&o.knownHosts, "known-hosts", "", "")
	fs.StringVar(&o.acceptHostKey, "accept-host-key", "", "")
	fs.BoolVar(&o.sudo, "sudo", false, "")
	fs.StringVar(&o.rpcapData, "rpcap-data", "", "")
	var d, dd, ddd bool
	fs.BoolVar(&d, "d", false, "")
	fs.BoolVar(&dd, "dd", false, "")
	fs.BoolVar(&ddd, "ddd", false, "")
	for len(args) > 0 {
		arg := args[0]
		switch {
		case arg == "--":
			o.args = append(o.args, args[1:]...)
			args = nil
			continue
		case arg == "-" || !strings.HasPrefix(arg, "-") || looksLikeFilter(arg):
			// A file, interface or filter word; a filter word may begin
			// with a minus ("-len < 0").
			o.args = append(o.args, arg)
			args = args[1:]
			continue
		}
		// One flag, with its value if it takes one.
		n := 1
		name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if f := fs.Lookup(name); f != nil && !hasValue && !isBoolFlag(f) {
			n = 2
		}
		if err := fs.Parse(args[:min(n, len(args))]); err != nil {
			return o, usageErrorf("%v", err)
		}
		args = args[min(n, len(args)):]
	}
	switch {
	case ddd:
		o.dumpLevel = 3
	case dd:
		o.dumpLevel = 2
	case d:
		o.dumpLevel = 1
	}
	switch {
	case o.snaplen < -1 || o.snaplen == -1 && flagGiven(fs, "s"):
		return o, usageErrorf("-s %d: the snap length must be 0 or more", o.snaplen)
	case o.count < 0:
		return o, usageErrorf("-c %d: the count must be 1 or more", o.count)
	case o.iface != "" && o.file != "":
		return o, usageErrorf("-i and -r cannot be used together")
	case o.linkType != "" && o.dumpLevel == 0:
		return o, usageErrorf("-y chooses the link type for -d, -dd or -ddd only")
	case o.checksums && !o.verbose:
		return o, usageErrorf("--verify-checksums is for the protocol tree of -V")
	case o.format != "" && o.format != "fields":
		return o, usageErrorf("-T %s: the only output format is fields", o.format)
	case o.format == "fields" && len(o.fields) == 0:
		return o, usageErrorf("-T fields needs at least one -e FIELD")
	case len(o.fields) > 0 && o.format != "fields":
		return o, usageErrorf("-e is for -T fields")
	case o.annotate && o.dumpLevel != 1:
		return o, usageErrorf("--annotate is for the listing of -d")
	case o.explain && o.dumpLevel > 0:
		return o, usageErrorf("--explain is for packets, not with -d, -dd or -ddd")
	case o.explain && o.write != "":
		return o, usageErrorf("--explain prints packets; it does not write them (-w)")
	case o.report != "" && o.report != "fields":
		return o, usageErrorf("-G %s: the only report is fields", o.report)
	case o.remoteList != "" && !isRemoteSource(o.remoteList):
		return o, usageErrorf("-D %s: name a remote host as ssh://[USER@]HOST[:PORT] or rpcap://[USER@]HOST[:PORT] (-l lists the local interfaces)", o.remoteList)
	case o.rpcapData != "" && o.rpcapData != "tcp" && o.rpcapData != "server-open" && o.rpcapData != "udp":
		return o, usageErrorf("--rpcap-data %s: say tcp, server-open or udp", o.rpcapData)
	}
	return o, nil
}

// looksLikeFilter reports whether arg, which flag would take for a flag,
// is filter text: a minus followed by a digit or "(", or any argument with
// a character no flag name has (a blank, an operator).
func looksLikeFilter(arg string) bool {
	if len(arg) < 2 || arg[0] != '-' || arg == "--" {
		return false
	}
	if c := arg[1]; c >= '0' && c <= '9' || c == '(' {
		return true
	}
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-')
	})
}

// isBoolFlag reports whether f is a flag without a value.
func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// flagGiven reports whether the named flag was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// filterExpr joins filter arguments as tcpdump does.
func filterExpr(args []string) string { return strings.Join(args, " ") }
