package dissect

// The tshark oracle: every packet of every capture in the shared corpus
// whose link type pkttap decodes, and the packets the tests generate, are
// decoded by pkttap and by tshark, and the two must agree on
//
//   (a) the protocols: every layer pkttap names appears in tshark's
//       protocol list for the packet, in the same order;
//   (b) the byte positions: for every field both decode in a matched layer
//       (pkttap's Field names are Wireshark's display-filter names), the
//       k-th occurrence of the field has the same pos and size in tshark's
//       PDML;
//   (c) the values: a field found at the same pos and size has the same
//       value, pkttap's label against tshark's "show" (see
//       oracle_values_test.go for how both are normalised, and valueRules
//       for the deliberate differences);
//   (d) the summary: where pkttap's Protocol column equals tshark's, the
//       Info columns are equal after normalizeInfo.
//
// Starting tshark costs about a second on a loaded machine, so the test
// does not run it per file: it copies the packets, read with pcapio, into
// two pcapng files (one interface per source file and link type) and runs
// tshark twice on each, once for PDML and once for the columns. The
// display-filter set's capture.pcapng is read by tshark in place, its
// real traffic (the packets on its last interface) picked with -Y.
//
// tshark runs with name resolution off (-n) and with its stateful
// features off, because pkttap decodes each packet on its own: no TCP
// sequence analysis or relative sequence numbers, no reassembly of IP
// fragments, TCP streams, HTTP, TLS or DNS messages.
//
// Deliberate differences, not counted as disagreements:
//   - With reassembly off tshark shows all TLS records of a segment in one
//     layer; pkttap gives each record a layer. They are matched to the one.
//   - Layers tshark shows that pkttap does not decode (OSPF, SMB, ...) are
//     not checked; pkttap shows their bytes as a "data" layer.
//   - ARP with hardware type ATM (19): Wireshark switches to the RFC 2225
//     ATMARP layout (variable-length type/length fields) and, on the
//     corpus's fuzzed ATM-typed frames, gives up as malformed; pkttap does
//     not decode ATMARP and shows the fixed ARP header. See atmARP.
//   - Where the Protocol columns differ the Info columns are not compared;
//     the test lists the pairs under -v. Almost all are protocols tshark
//     decodes and pkttap does not; one is deliberate: TLS continuation data
//     of unknown version is "TLS" for pkttap, "SSL" for tshark.
//   - OpenFlow: tshark finds it by a heuristic on the destination port
//     (6653, 6633) and from then on decodes the TCP conversation as
//     OpenFlow, so a controller's segments before the switch's first one
//     in the capture are bare TCP; pkttap decodes each segment on its own,
//     to or from the ports. A packet where pkttap decodes OpenFlow and
//     tshark none is not counted.
//   - Both decode with their default preferences: the IPv4, TCP, UDP and
//     SCTP checksums unverified, ICMP, ICMPv6 and IGMP ones verified.
//   - Info: tshark's cross-packet annotations ("(reply in 5)", "[TCP
//     Retransmission]", "[Reassembled in #7]") and its own malformed and
//     truncation marks are removed, as are pkttap's; runs of spaces are
//     collapsed. See normalizeInfo and infoExceptions for the rest.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// tsharkPrefs turn off tshark's cross-packet state.
var tsharkPrefs = []string{
	"-o", "tcp.desegment_tcp_streams:FALSE",
	"-o", "tcp.analyze_sequence_numbers:FALSE",
	"-o", "tcp.relative_sequence_numbers:FALSE",
	"-o", "tcp.calculate_timestamps:FALSE",
	"-o", "ip.defragment:FALSE",
	"-o", "ipv6.defragment:FALSE",
	"-o", "http.desegment_headers:FALSE",
	"-o", "http.desegment_body:FALSE",
	"-o", "tls.desegment_ssl_records:FALSE",
	"-o", "tls.desegment_ssl_application_data:FALSE",
	"-o", "dns.desegment_dns_messages:FALSE",
	"-o", "sctp.relative_tsns:FALSE",
}

type pdmlField struct {
	name      string
	pos, size int
	show      string // tshark's show attribute, or pkttap's label
}

type pdmlProto struct {
	name      string
	pos, size int
	fields    []pdmlField
	nested    [][2]int // byte ranges of protocols tshark nests inside this one
}

// layerNames are the layer Field names pkttap produces; a child node with
// one of these names is a nested (quoted) layer, not a field.
var layerNames = map[string]bool{}

func init() {
	for _, n := range strings.Fields("frame juniper ipoib ipnet nflog ppi wlan fr avsp cmd nsh sflow eth llc stp vlan ieee8021ad sll null raw mpls pppoed pppoes ppp lcp ipcp ipv6cp pap chap ip ipv6 ipv6.hopopts ipv6.routing ipv6.fraghdr ipv6.dstopts ah esp arp icmp icmpv6 igmp gre vxlan geneve tcp udp sctp dns mdns llmnr dhcp ntp http ssdp tls quic data _ws.short _ws.malformed") {
		layerNames[n] = true
	}
}

// mergedNested are protocols Wireshark (and pkttap) nest inside the IPv6
// layer; their fields are compared as the IPv6 layer's.
var mergedNested = map[string]bool{"ipv6.hopopts": true, "ipv6.routing": true, "ipv6.fraghdr": true, "ipv6.dstopts": true, "ah": true}

// ignoredTsharkProtos are PDML protos that are not protocol layers.
var ignoredTsharkProtos = map[string]bool{"geninfo": true, "frame": true, "ethertype": true, "fake-field-wrapper": true, "_ws.expert": true, "_ws.malformed": true, "_ws.short": true, "_ws.lua.fake": true, "pkt_comment": true}

// skipLayers are pkttap layers not compared by name ("juniper": tshark's
// PDML has the Juniper pseudo-header's fields in a fake-field-wrapper, not
// a protocol, although frame.protocols names it).
var skipLayers = map[string]bool{"frame": true, "data": true, "_ws.short": true, "_ws.malformed": true, "stp": true, "juniper": true}

type corpusFile struct {
	name string
	lt   string
}

func readManifest(t *testing.T, dir string) []corpusFile {
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		testenv.Missing(t, "corpus", fmt.Sprintf("read corpus manifest: %v", err))
	}
	defer f.Close()
	var files []corpusFile
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 || cols[0] == "file" {
			continue
		}
		files = append(files, corpusFile{cols[0], cols[1]})
	}
	return files
}

func readPackets(path string) ([]pcapio.Packet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcapio.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var pkts []pcapio.Packet
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return pkts, fmt.Errorf("read %s: %w", path, err)
		}
		pkts = append(pkts, p)
	}
	return pkts, nil
}

func runTshark(ctx context.Context, tshark string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, tshark, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("tshark %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// parsePDML returns each packet's top-level protocols with their fields
// (fields of nested protocols left out).
func parsePDML(b []byte) ([][]pdmlProto, error) {
	dec := xml.NewDecoder(bytes.NewReader(b))
	var pkts [][]pdmlProto
	var cur *pdmlProto
	protoDepth := 0    // nesting of <proto> inside the current packet
	var collect []bool // per open <proto>: are its fields the current layer's
	attr := func(se xml.StartElement, name string) string {
		for _, a := range se.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	num := func(s string) int { n, _ := strconv.Atoi(s); return n }
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			return pkts, fmt.Errorf("parse pdml: %w", err)
		}
		switch se := tok.(type) {
		case xml.StartElement:
			switch se.Name.Local {
			case "packet":
				pkts = append(pkts, nil)
			case "proto":
				protoDepth++
				c := protoDepth == 1 || len(collect) > 0 && collect[len(collect)-1] && mergedNested[attr(se, "name")]
				if !c && cur != nil {
					cur.nested = append(cur.nested, [2]int{num(attr(se, "pos")), num(attr(se, "size"))})
				}
				collect = append(collect, c)
				if protoDepth == 1 && len(pkts) > 0 {
					last := &pkts[len(pkts)-1]
					*last = append(*last, pdmlProto{name: attr(se, "name"), pos: num(attr(se, "pos")), size: num(attr(se, "size"))})
					cur = &(*last)[len(*last)-1]
				}
			case "field":
				if len(collect) > 0 && collect[len(collect)-1] && cur != nil && attr(se, "pos") != "" {
					cur.fields = append(cur.fields, pdmlField{attr(se, "name"), num(attr(se, "pos")), num(attr(se, "size")), attr(se, "show")})
				}
			}
		case xml.EndElement:
			if se.Name.Local == "proto" {
				protoDepth--
				collect = collect[:len(collect)-1]
				if protoDepth == 0 {
					cur = nil
				}
			}
		}
	}
}

// myLayer is a pkttap layer with its fields flattened.
type myLayer struct {
	name   string
	fields []pdmlField
}

func flatten(tr *Tree) []myLayer {
	var out []myLayer
	for _, l := range tr.Layers {
		ml := myLayer{name: l.Field}
		var walk func(n *Node)
		walk = func(n *Node) {
			for _, c := range n.Children {
				if mergedNested[c.Field] {
					walk(c) // an extension header inside IPv6
					continue
				}
				if layerNames[c.Field] {
					continue // a nested layer
				}
				if c.Field != "" {
					ml.fields = append(ml.fields, pdmlField{c.Field, c.Offset, c.Length, c.Label})
				}
				walk(c)
			}
		}
		walk(l)
		out = append(out, ml)
	}
	return out
}

// tsharkName maps pkttap's layer name to the PDML proto name where the two
// differ.
func tsharkName(name string) string {
	return name
}

var (
	reStateful = regexp.MustCompile(`\s*\(retransmission\)|\s*\[BoundError[^\]]*\]|\s*\(duplicate use of [^)]* detected!\)|\s*\((reply|request) in \d+\)|\s*\(no response found!\)|\[TCP [^\]]*\]\s*|\s*\[Reassembled in #\d+\]|\s*\[Packet size limited during capture[^\]]*\]|\s*\[Malformed Packet[^\]]*\]|\s*\[Unreassembled Packet[^\]]*\]|\s*\[ETHERNET FRAME CHECK SEQUENCE INCORRECT\]|\s*\[(Illegal|Incorrect|Bogus)[^\]]*\]`)
	reMine     = regexp.MustCompile(`\s*\[Packet truncated\]|\s*\[Malformed: [^\]]*\]`)
	reSpaces   = regexp.MustCompile(`\s+`)
)

// normalizeInfo removes what only one side can know and formatting noise.
func normalizeInfo(s string, mine bool) string {
	if mine {
		s = reMine.ReplaceAllString(s, "")
	} else {
		s = reStateful.ReplaceAllString(s, "")
	}
	s = reSpaces.ReplaceAllString(s, " ")
	return strings.TrimSpace(strings.TrimRight(s, ", "))
}

type oracleStats struct {
	mu                            sync.Mutex
	packets                       int
	layersChecked, fieldsChecked  int
	infoChecked                   int
	layerBad, fieldBad, infoBad   []string
	valuesChecked                 int
	valueBad                      []string
	valueBadByName                map[string]int
	protoMismatch                 map[string]int
	fieldBadByName, infoBadByProt map[string]int
	protoColumn                   map[string]int // pkttap's Protocol vs tshark's where they differ
}

// oracleLinkTypes are the link types pkttap decodes; captures of other
// types are left out (tshark also refuses some of them).
var oracleLinkTypes = map[pcapio.LinkType]bool{
	pcapio.LinkTypeEthernet: true, pcapio.LinkTypeLinuxSLL: true, pcapio.LinkTypeLinuxSLL2: true,
	pcapio.LinkTypeNull: true, pcapio.LinkTypeLoop: true, pcapio.LinkTypeRaw: true,
	pcapio.LinkTypeIPv4: true, pcapio.LinkTypeIPv6: true, pcapio.LinkTypePPP: true, pcapio.LinkTypePPPHDLC: true,
	pcapio.LinkTypeIPoIB: true, pcapio.LinkTypeIPNet: true, pcapio.LinkTypeNFLog: true, pcapio.LinkTypePPI: true, pcapio.LinkTypeFRelay: true, pcapio.LinkTypeJuniperEther: true,
}

// oraclePacket is one corpus packet and where it came from.
type oraclePacket struct {
	where string // file#n
	pkt   pcapio.Packet
}

// corpusPackets reads the packets of each file whose
// link type pkttap decodes.
func corpusPackets(t *testing.T, corpus string, files []string) []oraclePacket {
	var out []oraclePacket
	for _, name := range files {
		pkts, err := readPackets(filepath.Join(corpus, name))
		if err != nil {
			t.Errorf("%s: %v (comparing the %d packets read before it)", name, err, len(pkts))
		}
		for i, p := range pkts {
			if oracleLinkTypes[p.LinkType] {
				out = append(out, oraclePacket{fmt.Sprintf("%s#%d", name, i+1), p})
			}
		}
	}
	return out
}

// trafficPackets returns the packets of the display-filter capture at path
// that are on its last interface, the real traffic after the corpus, and
// the 1-based number of the first of them.
func trafficPackets(t *testing.T, path string) ([]oraclePacket, int) {
	if _, err := os.Stat(path); err != nil {
		testenv.Missing(t, "corpus", fmt.Sprintf("the display-filter capture: %v", err))
	}
	pkts, err := readPackets(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) == 0 {
		t.Fatalf("%s holds no packets", path)
	}
	last := pkts[len(pkts)-1].InterfaceIndex
	i := len(pkts)
	for i > 0 && pkts[i-1].InterfaceIndex == last {
		i--
	}
	var out []oraclePacket
	for j, p := range pkts[i:] {
		if !oracleLinkTypes[p.LinkType] {
			t.Fatalf("%s: the traffic's link type %v is not one pkttap decodes", path, p.LinkType)
		}
		out = append(out, oraclePacket{fmt.Sprintf("capture.pcapng#%d", i+j+1), p})
	}
	return out, i + 1
}

// generatedPackets are the packets the fuzz seeds are made of: protocols
// the corpus lacks (TLS with SNI, QUIC, DHCP, mDNS, PPPoE, VXLAN, ...).
func generatedPackets() []oraclePacket {
	var out []oraclePacket
	for i, b := range fuzzSeeds() {
		out = append(out, oraclePacket{fmt.Sprintf("generated#%d", i+1), pcapio.Packet{Data: b, Length: len(b), LinkType: pcapio.LinkTypeEthernet}})
	}
	return out
}

// writeMerged writes the packets as one pcapng file with an interface per
// link type.
func writeMerged(t *testing.T, path string, pkts []oraclePacket) {
	var ifaces []pcapio.Interface
	ifOf := map[pcapio.LinkType]int{}
	for i := range pkts {
		p := &pkts[i].pkt
		idx, ok := ifOf[p.LinkType]
		if !ok {
			idx = len(ifaces)
			ifOf[p.LinkType] = idx
			ifaces = append(ifaces, pcapio.Interface{LinkType: p.LinkType})
		}
		p.InterfaceIndex = idx
		p.Comment = ""
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcapio.NewWriter(f, pcapio.WriterOptions{Format: pcapio.FormatPcapNg, Interfaces: ifaces})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		if err := w.WritePacket(&pkts[i].pkt); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestTsharkOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("the tshark oracle takes up to a minute")
	}
	tshark := testenv.LookPath(t, "tshark", "tshark")
	shared := testenv.SharedDir(t)
	corpus := filepath.Join(shared, "corpus")
	files := readManifest(t, corpus)
	if len(files) == 0 {
		testenv.Missing(t, "corpus", "the corpus manifest lists no files")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st := &oracleStats{valueBadByName: map[string]int{}, protoMismatch: map[string]int{}, fieldBadByName: map[string]int{}, infoBadByProt: map[string]int{}, protoColumn: map[string]int{}}
	var halves [2][]string
	for i, cf := range files {
		halves[i%2] = append(halves[i%2], cf.name)
	}
	dir := t.TempDir()
	if d := os.Getenv("PKTTAP_ORACLE_KEEP"); d != "" {
		dir = d // a developer keeps the merged captures to look at them
	}
	var wg sync.WaitGroup
	for h, names := range halves {
		path := filepath.Join(dir, fmt.Sprintf("merged%d.pcapng", h))
		pkts := corpusPackets(t, corpus, names)
		if h == 1 {
			pkts = append(pkts, generatedPackets()...)
		}
		writeMerged(t, path, pkts)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := oracleFile(ctx, tshark, path, pkts, st); err != nil {
				t.Error(err)
			}
		}()
	}
	// The display-filter capture's own traffic (real HTTP, TLS, ICMP, ARP;
	// the rest of it is the corpus again), read by tshark in place.
	capPath := filepath.Join(shared, "dfilters", "capture.pcapng")
	capPkts, first := trafficPackets(t, capPath)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := oracleFile(ctx, tshark, capPath, capPkts, st, "-Y", fmt.Sprintf("frame.number >= %d", first)); err != nil {
			t.Error(err)
		}
	}()
	wg.Wait()
	t.Logf("compared %d packets: %d layers, %d fields (%d values), %d Info columns", st.packets, st.layersChecked, st.fieldsChecked, st.valuesChecked, st.infoChecked)
	if testing.Verbose() {
		// Where the Protocol columns differ, tshark decoded a layer
		// pkttap does not (or names it differently): listed, not failed.
		keys := make([]string, 0, len(st.protoColumn))
		for k := range st.protoColumn {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return st.protoColumn[keys[i]] > st.protoColumn[keys[j]] })
		for _, k := range keys {
			t.Logf("Protocol column %s: %d packets", k, st.protoColumn[k])
		}
	}
	report := func(what string, list []string, by map[string]int) {
		if len(list) == 0 {
			return
		}
		sort.Strings(list)
		keys := make([]string, 0, len(by))
		for k := range by {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return by[keys[i]] > by[keys[j]] })
		var sb strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&sb, "  %s: %d\n", k, by[k])
		}
		max := len(list)
		if max > 60 && os.Getenv("PKTTAP_ORACLE_ALL") == "" {
			max = 60
		}
		t.Errorf("%d %s disagreements with tshark; by kind:\n%sfirst ones:\n  %s", len(list), what, sb.String(), strings.Join(list[:max], "\n  "))
	}
	report("protocol", st.layerBad, st.protoMismatch)
	report("field position", st.fieldBad, st.fieldBadByName)
	report("field value", st.valueBad, st.valueBadByName)
	report("Info column", st.infoBad, st.infoBadByProt)
}

// columnRecords splits tshark's "-T fields -e frame.number -e
// _ws.col.Protocol -e _ws.col.Info" output into one "Protocol\tInfo"
// record per packet. A record starts with its frame number; a line that
// does not continues the previous record's Info (a column holding a line
// break, which tshark writes as it is).
func columnRecords(out []byte) ([]string, error) {
	var recs []string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		no, rest, ok := strings.Cut(line, "\t")
		if _, err := strconv.Atoi(no); ok && err == nil {
			recs = append(recs, rest)
			continue
		}
		if len(recs) == 0 {
			return nil, fmt.Errorf("a line before the first packet's: %q", line)
		}
		recs[len(recs)-1] += "\n" + line
	}
	return recs, nil
}

// oracleFile compares pkts with tshark's reading of the capture at path;
// extra are more tshark arguments (a display filter that picks pkts).
func oracleFile(ctx context.Context, tshark, path string, pkts []oraclePacket, st *oracleStats, extra ...string) error {
	// Clipped: the two runs below append their own arguments to base at
	// once, which must not share its spare capacity (one run then read
	// the other's -T and printed PDML as its columns).
	base := slices.Clip(append(append([]string{"-n", "-r", path}, tsharkPrefs...), extra...))
	var pdmlOut, colOut []byte
	var pdmlErr, colErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		pdmlOut, pdmlErr = runTshark(ctx, tshark, append(base, "-T", "pdml")...)
	}()
	go func() {
		defer wg.Done()
		colOut, colErr = runTshark(ctx, tshark, append(base, "-T", "fields", "-E", "separator=/t", "-E", "quote=n", "-e", "frame.number", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info")...)
	}()
	wg.Wait()
	if err := errors.Join(pdmlErr, colErr); err != nil {
		return err
	}
	theirs, err := parsePDML(pdmlOut)
	if err != nil {
		return err
	}
	cols, err := columnRecords(colOut)
	if err != nil {
		return fmt.Errorf("tshark's columns of %s: %w", path, err)
	}
	if len(theirs) != len(pkts) || len(cols) != len(pkts) {
		return fmt.Errorf("%s: tshark decoded %d packets (%d column records), pcapio read %d", path, len(theirs), len(cols), len(pkts))
	}
	var layerBad, fieldBad, valueBad, infoBad []string
	protoMis, fieldMis, valueMis, infoMis, colMis := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	layers, fields, values, infos := 0, 0, 0, 0
	for i, op := range pkts {
		p, where := op.pkt, op.where
		mine := flatten(Options{NoDefragment: true}.Dissect(p.LinkType, p.Data, p.Length))
		tp := theirs[i]
		var tnames []string
		for _, x := range tp {
			if !ignoredTsharkProtos[x.name] {
				tnames = append(tnames, x.name)
			}
		}
		// (a) and (b): match pkttap's layers in order within tshark's.
		j := 0
		used := map[int]map[string]int{} // per tshark layer, the fields matched so far
		for _, ml := range mine {
			if skipLayers[ml.name] {
				continue
			}
			want := tsharkName(ml.name)
			k := j
			if k > 0 && tp[k-1].name == want && want == "tls" {
				k-- // tshark shows a segment's TLS records in one layer, pkttap a layer per record
			}
			for k < len(tp) && tp[k].name != want {
				k++
			}
			layers++
			if k == len(tp) && ml.name == "arp" && len(p.Data) > 0 && atmARP(p) {
				break // see atmARP
			}
			if k == len(tp) && strings.HasPrefix(ml.name, "openflow_v") && !slices.ContainsFunc(tp, func(l pdmlProto) bool { return strings.HasPrefix(l.name, "openflow") }) {
				break // see the OpenFlow conversations in the package comment
			}
			if k == len(tp) {
				layerBad = append(layerBad, fmt.Sprintf("%s: pkttap decodes %s, tshark shows %s", where, ml.name, strings.Join(tnames, ":")))
				protoMis[ml.name]++
				break
			}
			if used[k] == nil {
				used[k] = map[string]int{}
			}
		nextField:
			for _, f := range ml.fields {
				for _, r := range tp[k].nested {
					if f.pos >= r[0] && f.pos < r[0]+r[1] {
						continue nextField // tshark decodes these bytes as a nested protocol
					}
				}
				nth := used[k][f.name]
				used[k][f.name]++
				seen := 0
				for _, tf := range tp[k].fields {
					if tf.name != f.name {
						continue
					}
					if seen == nth {
						fields++
						if (tf.pos != f.pos || tf.size != f.size) && !fieldException(f, tf) {
							fieldBad = append(fieldBad, fmt.Sprintf("%s: %s at [%d,+%d], tshark [%d,+%d]", where, f.name, f.pos, f.size, tf.pos, tf.size))
							fieldMis[f.name]++
						} else if tf.pos == f.pos && tf.size == f.size {
							compared, agree := valueCompared(f, tf)
							if compared {
								values++
							}
							if compared && !agree {
								valueBad = append(valueBad, fmt.Sprintf("%s: %s pkttap %q, tshark %q", where, f.name, f.show, tf.show))
								valueMis[f.name]++
							}
						}
						break
					}
					seen++
				}
			}
			j = k + 1
		}
		// (d) the summary columns.
		c := strings.SplitN(cols[i], "\t", 2)
		if len(c) < 2 {
			c = append(c, "")
		}
		s := Options{NoDefragment: true}.Summarize(p.LinkType, p.Data, p.Length)
		if s.Protocol != c[0] {
			key := s.Protocol + " vs " + c[0]
			colMis[key]++
			if key == os.Getenv("PKTTAP_ORACLE_SHOW") { // a developer's look at one pair
				infoBad = append(infoBad, fmt.Sprintf("%s %s: %q / %q", where, key, s.Info, c[1]))
			}
		}
		if s.Protocol == c[0] {
			infos++
			a, b := normalizeInfo(s.Info, true), normalizeInfo(c[1], false)
			if a != b && !infoException(s.Protocol, a, b) {
				infoBad = append(infoBad, fmt.Sprintf("%s %s:\n    pkttap %q\n    tshark %q", where, s.Protocol, a, b))
				infoMis[s.Protocol]++
			}
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.packets += len(pkts)
	st.layersChecked += layers
	st.fieldsChecked += fields
	st.infoChecked += infos
	st.layerBad = append(st.layerBad, layerBad...)
	st.fieldBad = append(st.fieldBad, fieldBad...)
	st.valueBad = append(st.valueBad, valueBad...)
	st.valuesChecked += values
	for k, v := range valueMis {
		st.valueBadByName[k] += v
	}
	st.infoBad = append(st.infoBad, infoBad...)
	for k, v := range protoMis {
		st.protoMismatch[k] += v
	}
	for k, v := range fieldMis {
		st.fieldBadByName[k] += v
	}
	for k, v := range infoMis {
		st.infoBadByProt[k] += v
	}
	for k, v := range colMis {
		st.protoColumn[k] += v
	}
	return nil
}

// fieldException reports whether a position difference is a documented,
// deliberate one: Wireshark 4.0 gives an IPv6 Pad1 option (one byte, RFC
// 8200 section 4.2) the size of a PadN option.
func fieldException(mine, theirs pdmlField) bool {
	return mine.name == "ipv6.opt" && mine.size == 1 && mine.pos == theirs.pos
}

var reWin = regexp.MustCompile(`Win=\d+`)

// infoException reports whether a difference between pkttap's Info (a) and
// tshark's (b) is a documented, deliberate one:
//   - TCP: tshark multiplies the window by the scale factor it saw in the
//     connection's SYN, and shows AccECN's counters ("ACE=5", "EE0B=")
//     once it saw AccECN negotiated; both need earlier packets.
//   - QUIC: tshark decrypts Initial packets and lists their frames ("PKN:
//     0, CRYPTO, PADDING") and knows short-header connection IDs from
//     earlier packets; pkttap stops at the header, so tshark's Info must
//     start with pkttap's. The key phase of a short header is protected:
//     tshark's "(KP0)" is its default without keys, pkttap says nothing.
//   - ICMP: tshark leaves out "ttl=" for an echo inside IP-in-IP.
//   - GRE: tshark guesses keepalives from the payload ("Possible GRE
//     keepalive packet"); pkttap names the EtherType.
//   - LLC: tshark spells out the control field ("U P, func=SABME; DSAP
//     NetBIOS Individual, ..."); pkttap shows the SAPs only.
//   - ERSPAN without a mirrored frame: tshark's Info is just "ERSPAN:".
//   - An empty tshark Info (some broken IPv6 fragments) is nothing to
//     compare; VXLAN-GPE and NSH (UDP 4790) are not decoded by pkttap.
func infoException(proto, a, b string) bool {
	switch {
	case b == "":
		return true
	case proto == "TCP":
		return reWin.ReplaceAllString(a, "") == reWin.ReplaceAllString(b, "") || strings.Contains(b, "ACE=") || strings.Contains(b, "EE0B=")
	case proto == "QUIC":
		return strings.HasPrefix(b, a+", PKN") || strings.HasPrefix(b, a+", DCID=") || a == "Protected Payload" && strings.HasPrefix(b, "Protected Payload (KP")
	case proto == "ICMP":
		return strings.Contains(a, ", ttl=") && a[:strings.Index(a, ", ttl=")] == b
	case proto == "GRE":
		return strings.Contains(b, "GRE keepalive")
	case proto == "LLC":
		return strings.Contains(b, "DSAP") && strings.Contains(a, "DSAP")
	case proto == "UDP":
		return strings.HasPrefix(a, "4790 → 4790")
	case proto == "ERSPAN":
		return b == "ERSPAN:"
	}
	return false
}

// atmARP reports whether an Ethernet ARP packet has hardware type ATM (19),
// whose RFC 2225 layout Wireshark decodes as ATMARP and pkttap does not.
func atmARP(p pcapio.Packet) bool {
	return p.LinkType == pcapio.LinkTypeEthernet && len(p.Data) >= 16 &&
		p.Data[12] == 0x08 && p.Data[13] == 0x06 && p.Data[14] == 0 && p.Data[15] == 19
}
