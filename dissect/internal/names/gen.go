//go:build ignore

// gen writes the name tables of package names from Wireshark's data
// files, which hold public registries' facts: the IEEE Registration
// Authority's MA-L, MA-M and MA-S assignments with Wireshark's short
// vendor names (manuf), well-known MAC addresses and ranges (wka), and
// the IANA Service Name and Transport Protocol Port Number Registry
// (services). Run it with the files of the Wireshark version whose output
// the tables must match (Debian's wireshark-common keeps them in
// /usr/share/wireshark):
//
//	go run gen.go -dir /usr/share/wireshark
//
// It writes ethers.txt.gz, lines "KIND BITS HEX NAME": KIND V for a
// vendor's 24-bit prefix (a manuf line without a mask), R for an address
// range of BITS bits (manuf's /28 and /36 blocks, wka's ranges, and single
// addresses as 48), HEX its first BITS bits; and services.txt.gz, lines "PROTO PORT NAME" (tcp, udp, sctp,
// dccp), the last of the file's names for a port winning, as in
// Wireshark.
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func main() {
	dir := flag.String("dir", "/usr/share/wireshark", "folder of Wireshark's manuf, wka and services files")
	flag.Parse()
	var ethers []string
	for _, f := range []string{"manuf", "wka"} {
		lines, err := readEthers(filepath.Join(*dir, f), f == "manuf")
		if err != nil {
			log.Fatal(err)
		}
		ethers = append(ethers, lines...)
	}
	sort.Strings(ethers)
	if err := writeGz("ethers.txt.gz", ethers); err != nil {
		log.Fatal(err)
	}
	services, err := readServices(filepath.Join(*dir, "services"))
	if err != nil {
		log.Fatal(err)
	}
	if err := writeGz("services.txt.gz", services); err != nil {
		log.Fatal(err)
	}
}

// readEthers reads a manuf or wka file: "ADDR[/BITS] NAME [LONG NAME]",
// ADDR's octets separated by ':', '-' or '.'. A manuf line without a mask
// names a 24-bit vendor prefix ("V" lines); others are ranges ("R").
func readEthers(path string, manuf bool) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		addr, bitsText, masked := strings.Cut(fields[0], "/")
		octets := strings.FieldsFunc(addr, func(r rune) bool { return r == ':' || r == '-' || r == '.' })
		var b []byte
		for _, o := range octets {
			v, err := strconv.ParseUint(o, 16, 8)
			if err != nil {
				return nil, fmt.Errorf("%s: bad address %q", path, fields[0])
			}
			b = append(b, byte(v))
		}
		bits := len(b) * 8
		if masked {
			if bits, err = strconv.Atoi(bitsText); err != nil || bits < 1 || bits > 48 {
				return nil, fmt.Errorf("%s: bad mask %q", path, fields[0])
			}
		}
		kind := "R"
		if manuf && !masked && len(b) == 3 {
			kind = "V"
		}
		for len(b)*8 < bits {
			b = append(b, 0)
		}
		b = b[:(bits+7)/8]
		out = append(out, fmt.Sprintf("%s %d %x %s", kind, bits, b, fields[1]))
	}
	return out, sc.Err()
}

// readServices reads a services file: "NAME PORT/PROTO[/PROTO...]".
func readServices(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := map[string]string{} // "proto port" -> name
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		parts := strings.Split(fields[1], "/")
		port, err := strconv.ParseUint(parts[0], 10, 16)
		if err != nil {
			continue // a port range, which Wireshark's file does not use
		}
		for _, proto := range parts[1:] {
			names[proto+" "+strconv.FormatUint(port, 10)] = fields[0]
		}
	}
	var out []string
	for k, v := range names {
		out = append(out, k+" "+v)
	}
	sort.Strings(out)
	return out, sc.Err()
}

func writeGz(path string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Fprintln(zw, l)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}
