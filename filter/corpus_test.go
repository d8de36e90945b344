package filter

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// corpusFile is one capture of the shared corpus, read once per test run.
type corpusFile struct {
	name      string
	linkType  pcapio.LinkType
	byteOrder binary.ByteOrder // of the file's headers
	packets   []corpusPacket
}

type corpusPacket struct {
	data    []byte
	wireLen int
}

var (
	corpusOnce  sync.Once
	corpusFiles map[string]*corpusFile
	corpusErr   error
)

// testedLinkTypes are the link types the differential tests cover.
var testedLinkTypes = map[string]pcapio.LinkType{
	"EN10MB": pcapio.LinkTypeEthernet, "RAW": pcapio.LinkTypeRaw,
	"LINUX_SLL": pcapio.LinkTypeLinuxSLL, "LINUX_SLL2": pcapio.LinkTypeLinuxSLL2,
	"NULL": pcapio.LinkTypeNull, "LOOP": pcapio.LinkTypeLoop,
	"IPV4": pcapio.LinkTypeIPv4, "IPV6": pcapio.LinkTypeIPv6,
	"IEEE802_11": pcapio.LinkTypeIEEE802_11, "IEEE802_11_RADIO": pcapio.LinkTypeIEEE802_11Radio,
	"PPP": pcapio.LinkTypePPP, "PPP_SERIAL": pcapio.LinkTypePPPHDLC, "C_HDLC": pcapio.LinkTypeCHDLC, "SLIP": pcapio.LinkTypeSLIP,
	"PPI": pcapio.LinkTypePPI, "ARCNET_LINUX": pcapio.LinkTypeArcnetLinux, "FRELAY": pcapio.LinkTypeFRelay, "IPNET": linkTypeIPNet,
	// link types libpcap filters only with link[...], len and the like
	"IPOIB": pcapio.LinkType(242), "NFLOG": pcapio.LinkType(239), "DSA_TAG_DSA": pcapio.LinkType(284),
}

// loadCorpus reads every capture of a tested link type listed in the
// shared corpus MANIFEST.tsv.
func loadCorpus(t testing.TB) map[string]*corpusFile {
	t.Helper()
	dir := filepath.Join(testenv.SharedDir(t), "corpus")
	corpusOnce.Do(func() { corpusFiles, corpusErr = readCorpus(dir) })
	if corpusErr != nil {
		t.Fatalf("read corpus: %v", corpusErr)
	}
	return corpusFiles
}

func readCorpus(dir string) (map[string]*corpusFile, error) {
	rows, err := readTSV(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		return nil, err
	}
	files := make(map[string]*corpusFile)
	for _, r := range rows {
		lt, ok := testedLinkTypes[r[1]]
		if !ok {
			continue
		}
		cf, err := readCapture(filepath.Join(dir, r[0]))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r[0], err)
		}
		cf.name, cf.linkType = r[0], lt
		files[r[0]] = cf
	}
	return files, nil
}

func readCapture(path string) (*corpusFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var head [12]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	cf := &corpusFile{byteOrder: binary.LittleEndian}
	switch {
	case binary.BigEndian.Uint32(head[:4]) == 0x0a0d0d0a: // pcapng SHB
		if binary.BigEndian.Uint32(head[8:]) == 0x1a2b3c4d {
			cf.byteOrder = binary.BigEndian
		}
	case binary.BigEndian.Uint32(head[:4]) == 0xa1b2c3d4 || binary.BigEndian.Uint32(head[:4]) == 0xa1b23c4d:
		cf.byteOrder = binary.BigEndian
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	rd, err := pcapio.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, err
	}
	for {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return cf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("packet %d: %w", len(cf.packets), err)
		}
		cf.packets = append(cf.packets, corpusPacket{data: p.Data, wireLen: p.Length})
	}
}

// readTSV reads a tab-separated file, skipping its header line.
func readTSV(path string) ([][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var rows [][]string
	for _, l := range lines[1:] {
		rows = append(rows, strings.Split(l, "\t"))
	}
	return rows, nil
}

// verdict is what a program does over one capture, as the shared
// libpcap-verdicts.tsv records it.
type verdict struct {
	count   int
	hash    string
	retvals string // distinct non-zero return values, ascending, comma-separated; "-" for none
}

func (v verdict) String() string {
	return fmt.Sprintf("count=%d hash=%s retvals=%s", v.count, v.hash, v.retvals)
}

// runVerdict runs match over every packet of cf.
func runVerdict(cf *corpusFile, match func(data []byte, wireLen int) uint32) verdict {
	h := uint64(0xcbf29ce484222325)
	count := 0
	rets := map[uint32]bool{}
	for i, p := range cf.packets {
		r := match(p.data, p.wireLen)
		if r == 0 {
			continue
		}
		count++
		rets[r] = true
		var idx [4]byte
		binary.LittleEndian.PutUint32(idx[:], uint32(i))
		for _, c := range idx {
			h ^= uint64(c)
			h *= 0x100000001b3
		}
	}
	var vals []uint32
	for r := range rets {
		vals = append(vals, r)
	}
	for i := range vals {
		for j := i + 1; j < len(vals); j++ {
			if vals[j] < vals[i] {
				vals[i], vals[j] = vals[j], vals[i]
			}
		}
	}
	rs := "-"
	if len(vals) > 0 {
		var parts []string
		for _, v := range vals {
			parts = append(parts, strconv.FormatUint(uint64(v), 10))
		}
		rs = strings.Join(parts, ",")
	}
	return verdict{count: count, hash: fmt.Sprintf("%016x", h), retvals: rs}
}

func readFirstLine(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return first, nil
}

// randomSeed is PKTTAP_RANDOM_SEED, or 1.
func randomSeed(t testing.TB) int64 {
	if s := os.Getenv("PKTTAP_RANDOM_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("PKTTAP_RANDOM_SEED=%q: %v", s, err)
		}
		t.Logf("random seed %d", v)
		return v
	}
	return 1
}

type compileKey struct {
	expr    string
	lt      pcapio.LinkType
	snaplen int
	big     bool
}

type compiled struct {
	p   *Program
	err error
}

var (
	compileCacheMu sync.Mutex
	compileCache   = map[compileKey]compiled{}
)

// compileCached compiles for a capture file (savefile semantics), caching
// the result across tests: many corpus files share link type, byte order
// and snaplen.
func compileCached(expr string, cf *corpusFile, snaplen int) (*Program, error) {
	bo := cf.byteOrder
	if bo == nil {
		bo = binary.LittleEndian
	}
	k := compileKey{expr, cf.linkType, snaplen, bo == binary.BigEndian}
	compileCacheMu.Lock()
	c, ok := compileCache[k]
	compileCacheMu.Unlock()
	if ok {
		return c.p, c.err
	}
	p, err := Compile(expr, Options{LinkType: cf.linkType, Snaplen: snaplen, SavefileByteOrder: bo})
	compileCacheMu.Lock()
	compileCache[k] = compiled{p, err}
	compileCacheMu.Unlock()
	return p, err
}
