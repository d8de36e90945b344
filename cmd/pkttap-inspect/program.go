package main

import (
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/pcapio"
)

// printProgram compiles the filter and prints it as tcpdump -d, -dd or -ddd
// does. The link type is -y's; else, as tcpdump, that of the file (-r, or a
// first argument naming an existing file) or interface (-i) the filter
// would be used on; else Ethernet.
func printProgram(o options, stdout io.Writer) error {
	opts := filter.Options{LinkType: pcapio.LinkTypeEthernet, Target: filter.TargetFile, NoOptimize: o.noOpt}
	if o.snaplen > 0 {
		opts.Snaplen = o.snaplen
	}
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
		c, err := capture.FromFile(path).Open()
		if err != nil {
			return err
		}
		opts.LinkType = c.LinkType()
		c.Close()
	case o.iface != "":
		c, err := capture.Live(o.iface).Open()
		if err != nil {
			return err
		}
		opts.LinkType = c.LinkType()
		c.Close()
		if runtime.GOOS == "linux" {
			opts.Target = filter.TargetLinuxSocket
		}
	}
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
