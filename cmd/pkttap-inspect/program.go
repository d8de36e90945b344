package main

import (
	"io"
	"os"
	"strings"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// printProgram compiles the filter and prints it as tcpdump -d, -dd or -ddd
// does. The link type is -y's; else, as tcpdump, the program is the one the
// file (-r, or a first argument naming an existing file) or interface (-i)
// would run (capture.FilterOptions, with the file's snap length as tcpdump
// -r uses it); else it is compiled for Ethernet.
func printProgram(o options, stdout io.Writer) error {
	opts := filter.Options{LinkType: pcapio.LinkTypeEthernet, Target: filter.TargetFile}
	args := o.args
	fileSnap := 0
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
		c, err := capture.FromFile(path).Open()
		if err != nil {
			return err
		}
		opts = c.FilterOptions()
		if ifs := c.FileInterfaces(); len(ifs) > 0 && o.snaplen < 0 {
			fileSnap = int(min(ifs[0].Snaplen, capture.MaxSnaplen))
		}
		c.Close()
	case o.iface != "":
		c, err := capture.Live(o.iface).Open()
		if err != nil {
			return err
		}
		opts = c.FilterOptions()
		c.Close()
	}
	// As tcpdump -d: the program returns -s's snap length, else the file's,
	// else 262144.
	opts.NoOptimize, opts.Snaplen = o.noOpt, max(o.snaplen, fileSnap, 0)
	prog, err := filter.Compile(filterExpr(args), opts)
	if err != nil {
		return err
	}
	out := prog.Dump(o.dumpLevel)
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	_, err = io.WriteString(stdout, out)
	return err
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
