package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// printProgram compiles the filter and prints it as tcpdump -d, -dd or -ddd
// does. The link type is -y's; else, as tcpdump, the program is the one the
// file (-r, or a first argument naming an existing file) or interface (-i)
// would run (capture.FilterOptions, which for a file returns the file's snap
// length as tcpdump -r uses it; capture.LiveFilterOptions for the link type
// the interface list gives, so no capture is opened and no privilege is
// needed); else it is compiled for Ethernet. As with tcpdump -d, the
// program returns -s's snap length, else the file's, else 262144.
func printProgram(o options, stdout io.Writer) error {
	opts := filter.Options{LinkType: pcapio.LinkTypeEthernet, Target: filter.TargetFile, Snaplen: max(o.snaplen, 0)}
	args := o.args
	switch {
	case o.linkType != "":
		lt, err := pcapio.LinkTypeFromName(o.linkType)
		if err != nil {
			return usageErrorf("-y: %v", err)
		}
		opts.LinkType = lt
	case o.file != "" || len(args) > 0 && isFile(args[0]):
		path := o.file
		if path == "" {
			path, args = args[0], args[1:]
		}
		b := capture.FromFile(path)
		if o.snaplen >= 0 {
			b = b.Snaplen(o.snaplen)
		}
		c, err := b.Open()
		if err != nil {
			return err
		}
		opts = c.FilterOptions()
		c.Close()
	case o.iface != "":
		lt, err := interfaceLinkType(o.iface)
		if err != nil {
			return err
		}
		opts = capture.LiveFilterOptions(lt, max(o.snaplen, 0))
	}
	opts.NoOptimize = o.noOpt
	prog, err := filter.Compile(filterExpr(args), opts)
	if err != nil {
		return err
	}
	out := prog.Dump(o.dumpLevel)
	if o.annotate {
		out = prog.Annotated()
	}
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	_, err = io.WriteString(stdout, out)
	return err
}

// interfaceLinkType returns the link type of the interface named name, as
// the interface list gives it.
func interfaceLinkType(name string) (pcapio.LinkType, error) {
	ifs, err := capture.Interfaces()
	if err != nil {
		return 0, err
	}
	i := slices.IndexFunc(ifs, func(ifc capture.Interface) bool { return ifc.Name == name })
	if i < 0 {
		return 0, fmt.Errorf("no interface named %q (pkttap-inspect -l lists the interfaces)", name)
	}
	return ifs[i].LinkType, nil
}

// isFile reports whether name is "-" (standard input) or names an existing
// file that is not a directory.
func isFile(name string) bool {
	if name == "-" {
		return true
	}
	st, err := os.Stat(name)
	return err == nil && !st.IsDir()
}
