package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/pcapio"
)

// displayFilterError is a -Y expression that does not compile; it prints
// as tshark's message does, with the expression and a caret line under
// the fault.
type displayFilterError struct{ err *dfilter.Error }

func (e *displayFilterError) Error() string {
	return fmt.Sprintf("display filter: %v\n    %s", e.err, indentLines(e.err.Caret()))
}

func (e *displayFilterError) Unwrap() error { return e.err }

func indentLines(s string) string {
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '\n' {
			out = append(out, "    "...)
		}
	}
	return string(out)
}

// compileDisplay compiles -Y's expression (nil for none) and checks -e's
// field names.
func compileDisplay(o options) (*dfilter.Filter, error) {
	for _, name := range o.fields {
		if _, ok := dissect.LookupField(name); !ok {
			return nil, usageErrorf("-e %s: no such field (pkttap-inspect -G fields lists them)", name)
		}
	}
	if o.display == "" {
		return nil, nil
	}
	f, err := dfilter.Compile(o.display)
	var de *dfilter.Error
	if errors.As(err, &de) {
		return nil, &displayFilterError{de}
	}
	return f, err
}

// appendFields appends a -T fields line: each field's values in tree
// order joined by ',', the fields separated by tabs, as tshark prints
// them (integers with a hexadecimal display base as 0x…, booleans as 1 or
// 0, bytes as hex digits).
func appendFields(b []byte, opts dissect.Options, names []string, n int, p *pcapio.Packet) []byte {
	tree := opts.Dissect(p.LinkType, p.Data, p.Length)
	for i, vals := range dfilter.FieldValues(tree, n, names) {
		if i > 0 {
			b = append(b, '\t')
		}
		f, _ := dissect.LookupField(names[i])
		b = dfilter.AppendFieldText(b, vals, f.Base)
	}
	return append(b, '\n')
}

// printFieldList prints the registry as tshark -G fields does: a P line
// per protocol (description, name) and an F line per field (description,
// name, type, protocol, display base, bitmask).
func printFieldList(w io.Writer) error {
	out := bufio.NewWriter(w)
	for _, f := range dissect.Fields() {
		if f.IsProtocol() {
			fmt.Fprintf(out, "P\t%s\t%s\n", f.Description, f.Name)
			continue
		}
		fmt.Fprintf(out, "F\t%s\t%s\t%s\t%s\t%s\t0x%x\t\n", f.Description, f.Name, f.Type, f.Parent(), f.Base, f.Mask)
	}
	return out.Flush()
}
