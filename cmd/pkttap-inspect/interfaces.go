package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/pkttap/pkttap/capture"
)

// listInterfaces prints the interfaces a live capture can open, one a line
// as tcpdump -D does (see writeInterfaces).
func listInterfaces(stdout io.Writer) error {
	ifs, err := capture.Interfaces()
	if err != nil {
		return err
	}
	return writeInterfaces(stdout, ifs)
}

// writeInterfaces prints interfaces one a line: the number, the name -i
// takes (on Windows the friendly name, "Ethernet", first, with the device
// path, which -i takes too, and the description in parentheses), the
// flags, the link type and the addresses.
func writeInterfaces(stdout io.Writer, ifs []capture.Interface) error {
	w := bufio.NewWriter(stdout)
	for i, ifc := range ifs {
		var about []string
		if ifc.FriendlyName != "" {
			fmt.Fprintf(w, "%d.%s", i+1, ifc.FriendlyName)
			about = append(about, ifc.Name)
		} else {
			fmt.Fprintf(w, "%d.%s", i+1, ifc.Name)
		}
		if ifc.Description != "" {
			about = append(about, ifc.Description)
		}
		if len(about) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(about, ", "))
		}
		writeFlags(w, ifc.Up, ifc.Loopback)
		fmt.Fprintf(w, " %s", ifc.LinkType)
		for _, a := range ifc.Addresses {
			fmt.Fprintf(w, " %s", a.String())
		}
		fmt.Fprintln(w)
	}
	return w.Flush()
}

// writeFlags prints an interface's flags as tcpdump -D does: " [Up,
// Loopback]", nothing when it has none.
func writeFlags(w io.Writer, up, loopback bool) {
	var flags []string
	if up {
		flags = append(flags, "Up")
	}
	if loopback {
		flags = append(flags, "Loopback")
	}
	if len(flags) > 0 {
		fmt.Fprintf(w, " [%s]", strings.Join(flags, ", "))
	}
}
