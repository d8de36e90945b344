package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/pkttap/pkttap/capture"
)

// listInterfaces prints the interfaces a live capture can open, one a line
// as tcpdump -D does, with their description, flags, link type and
// addresses.
func listInterfaces(stdout io.Writer) error {
	ifs, err := capture.Interfaces()
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	for i, ifc := range ifs {
		fmt.Fprintf(w, "%d.%s", i+1, ifc.Name)
		if ifc.Description != "" {
			fmt.Fprintf(w, " (%s)", ifc.Description)
		}
		var flags []string
		if ifc.Up {
			flags = append(flags, "Up")
		}
		if ifc.Loopback {
			flags = append(flags, "Loopback")
		}
		if len(flags) > 0 {
			fmt.Fprintf(w, " [%s]", strings.Join(flags, ", "))
		}
		fmt.Fprintf(w, " %s", ifc.LinkType)
		for _, a := range ifc.Addresses {
			fmt.Fprintf(w, " %s", a.String())
		}
		fmt.Fprintln(w)
	}
	return w.Flush()
}
