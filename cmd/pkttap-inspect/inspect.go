package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/defrag"
	"github.com/pkttap/pkttap/dfilter"
	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/filter/explain"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/streams"
)

// dumpFlushEvery is how often a live capture's -w file is flushed.
const dumpFlushEvery = 200 * time.Millisecond

// inspect opens the capture the command line names, prints (and/or writes)
// its packets, and ends with the count line; a live capture also reports
// the kernel's counts. Cancelling ctx closes the capture, which ends the
// loop as cleanly as the end of a file.
func inspect(ctx context.Context, o options, stdout, stderr io.Writer) error {
	display, err := compileDisplay(o)
	if err != nil {
		return err
	}
	follows, err := parseFollows(o.stats)
	if err != nil {
		return err
	}
	c, live, expr, err := openCapture(o)
	if err != nil {
		return err
	}
	defer c.Close()
	stopWatch := context.AfterFunc(ctx, func() { c.Close() })
	defer stopWatch()
	for _, w := range c.Warnings() {
		fmt.Fprintf(stderr, "pkttap-inspect: warning: %v\n", w)
	}

	text := stdout
	if o.write == "-" {
		text = stderr // standard output carries the capture file
	}
	out := bufio.NewWriterSize(text, 64<<10)
	defer out.Flush()

	var dump *capture.Dump
	if o.write != "" {
		if dump, err = openDump(o, c); err != nil {
			return err
		}
		defer dump.Close()
	}
	pr := &printer{w: out, summary: o.summary, tree: o.verbose, fields: o.fields, opts: dissect.Options{ValidateChecksums: o.checksums}}
	var why *explainers
	var whyDisplay *explain.Display
	if o.explain && strings.TrimSpace(expr) != "" {
		opts := c.FilterOptions()
		opts.Target = filter.TargetFile // the packets as captured
		why = &explainers{expr: expr, opts: opts}
	}
	if o.explain && display != nil {
		whyDisplay = explain.DisplayOf(display) // explained, not applied
	}
	pr.hex = !o.summary && !o.verbose && o.write == "" && len(o.fields) == 0
	printing := !o.quiet && (pr.hex || pr.summary || pr.tree || len(pr.fields) > 0)
	// The hex and tree views start with the link type(s); a pcapng file
	// that describes no interface before its first packet gets them then.
	headPending := !o.quiet && (pr.hex || pr.tree)
	if headPending && (live || len(c.FileInterfaces()) > 0) {
		out.Write(appendLinkTypes(nil, c.LinkType(), c.FileInterfaces()))
		headPending = false
		if live {
			out.Flush()
		}
	}

	tracker, fragments := streams.New(), defrag.New()
	n, shown, loopErr, lastFlush := 0, 0, error(nil), time.Now()
	for o.count == 0 || n < o.count {
		p, err := c.NextZeroCopy()
		if errors.Is(err, io.EOF) || errors.Is(err, capture.ErrClosed) {
			break
		}
		if err != nil {
			loopErr = err
			break
		}
		n++
		if n == 1 {
			pr.first = p.Timestamp
		}
		// Every packet is tracked, shown or not, as tshark's first pass
		// does: the stream numbers, the analysis and the reassembled
		// datagrams depend on them all.
		si, reasm := tracker.AddDefrag(fragments, p.LinkType, p.Data, p.Length, p.Timestamp)
		for _, f := range follows {
			f.add(n, &p, &si, reasm)
		}
		dp := dfilter.Packet{LinkType: p.LinkType, Data: p.Data, Length: p.Length, Number: n, Stream: &si, Reassembled: reasm}
		if display != nil && whyDisplay == nil && !display.Match(dp) {
			continue
		}
		shown++
		if dump != nil {
			if err := dump.WritePacket(p); err != nil {
				loopErr = err
				break
			}
		}
		if headPending {
			out.Write(appendLinkTypes(nil, p.LinkType, c.FileInterfaces()))
			headPending = false
		}
		if printing {
			pr.printPacket(n, &p, &si, reasm)
		}
		if why != nil && !o.quiet {
			if err := why.explain(out, &p); err != nil {
				loopErr = err
				break
			}
		}
		if whyDisplay != nil && !o.quiet {
			fmt.Fprintf(out, "why %s:\n%s", display, whyDisplay.Explain(dp))
		}
		if live {
			// The -w file is flushed now and then (as tcpdump's is, unless
			// -U), the terminal after every packet.
			if dump != nil && time.Since(lastFlush) >= dumpFlushEvery {
				if err := dump.Flush(); err != nil {
					loopErr = err
					break
				}
				lastFlush = time.Now()
			}
			if err := out.Flush(); err != nil {
				loopErr = fmt.Errorf("write output: %w", err)
				break
			}
		}
	}
	// The counts after Close are final: a remote tcpdump reports its drops
	// as it ends.
	c.Close()
	st, statsErr := c.Stats()
	if dump != nil {
		if err := dump.Close(); err != nil && loopErr == nil {
			loopErr = err
		}
	}
	if headPending {
		out.Write(appendLinkTypes(nil, c.LinkType(), c.FileInterfaces()))
	}
	for i := len(follows) - 1; i >= 0; i-- { // in tshark's order: the last first
		if err := follows[i].write(out); err != nil && loopErr == nil {
			loopErr = err
		}
	}
	switch {
	case len(follows) > 0 && o.quiet:
		// As tshark -q -z: the followed streams only.
	case display != nil:
		// Worded so that no line but a packet's starts with a number.
		fmt.Fprintf(out, "displayed %d of %d packets\n", shown, n)
	default:
		fmt.Fprintf(out, "%d packets captured\n", n)
	}
	if live && statsErr == nil {
		fmt.Fprintf(out, "%d packets received by filter\n%d packets dropped by kernel\n", st.Received, st.Dropped)
		if st.IfDropped > 0 {
			fmt.Fprintf(out, "%d packets dropped by interface\n", st.IfDropped)
		}
	}
	if err := out.Flush(); err != nil && loopErr == nil {
		loopErr = fmt.Errorf("write output: %w", err)
	}
	return loopErr
}

// openDump opens -w's file for the packets of c. A copy of a file keeps
// its snap length, as tcpdump -r IN -w OUT does (tcpdump shows the bytes of
// a packet longer than the snap length cut to it): the pcap header's, or
// for pcapng each interface's (a pcapng copy of a file with several
// interfaces keeps them all, whether or not their link types differ; any
// other copy has one, with the first interface's). -s sets the snap length
// of every copy; a live capture's is its own. Packets of a file are written
// with the on-wire lengths it records, even a damaged record's.
func openDump(o options, c *capture.Capture) (*capture.Dump, error) {
	db := capture.ToFile(o.write).LinkType(c.LinkType()).VerbatimLengths(true)
	ifs := c.FileInterfaces()
	switch {
	case o.snaplen >= 0:
		snap := min(o.snaplen, capture.MaxSnaplen) // what the capture cuts to
		db = db.Snaplen(snap)
		for i := range ifs {
			ifs[i].Snaplen = uint32(snap)
		}
	case len(ifs) > 0:
		db = db.Snaplen(int(ifs[0].Snaplen))
	}
	if len(ifs) > 1 {
		if f, err := pcapio.FormatFromPath(o.write); err == nil && f == pcapio.FormatPcapNg {
			db = db.Interfaces(ifs)
		}
	}
	return db.Open()
}

// looksLikePath reports whether name, which is not an existing file, is
// still meant as one: it has a slash or a capture file extension, which no
// interface name has (a backslash does not count: Windows interfaces are
// named \Device\NPF_{GUID}). The user then gets "no such file".
func looksLikePath(name string) bool {
	if strings.ContainsRune(name, '/') {
		return true
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".pcap", ".pcapng", ".cap", ".ntar":
		return true
	}
	return false
}

// openCapture opens the capture the command line names, a remote source
// (ssh://, rpcap://) or what builderFor describes, and returns its filter expression (with
// --explain, explained rather than applied).
func openCapture(o options) (c *capture.Capture, live bool, expr string, err error) {
	if src := o.iface; isRemoteSource(src) || src == "" && o.file == "" && len(o.args) > 0 && isRemoteSource(o.args[0]) {
		args := o.args
		if src == "" {
			src, args = args[0], args[1:]
		}
		expr = filterExpr(args)
		if err := checkExplain(o, expr); err != nil {
			return nil, false, "", err
		}
		apply := expr
		if o.explain {
			apply = ""
		}
		c, err = openRemote(o, src, apply)
		return c, true, expr, err
	}
	b, live, expr, err := builderFor(o)
	if err != nil {
		return nil, false, "", err
	}
	if err := checkExplain(o, expr); err != nil {
		return nil, false, "", err
	}
	c, err = b.Open()
	if err != nil {
		var pe *capture.PlatformError
		if live && errors.As(err, &pe) && !errors.Is(err, capture.ErrPermissionDenied) {
			return nil, false, "", fmt.Errorf("%w (pkttap-inspect -l lists the interfaces)", err)
		}
		return nil, false, "", err
	}
	return c, live, expr, nil
}

// checkExplain rejects --explain without a filter to explain (a tcpdump
// expression, or -Y's display filter).
func checkExplain(o options, expr string) error {
	if o.explain && strings.TrimSpace(expr) == "" && strings.TrimSpace(o.display) == "" {
		return usageErrorf("--explain needs a filter expression to explain")
	}
	return nil
}

// builderFor describes the capture the command line names: -r FILE, -i
// INTERFACE, or a first argument that is a file if one of that name exists
// and an interface otherwise; the other arguments are the filter.
//
// With --explain the filter selects nothing: it is returned, to be
// explained on every packet.
func builderFor(o options) (b capture.Builder, live bool, expr string, err error) {
	args := o.args
	switch {
	case o.file != "":
		b = capture.FromFile(o.file)
	case o.iface != "":
		b, live = capture.Live(o.iface), true
	case len(args) == 0:
		return b, false, "", usageErrorf("name a capture file or an interface (pkttap-inspect -l lists the interfaces)")
	default:
		if isFile(args[0]) || looksLikePath(args[0]) {
			b = capture.FromFile(args[0])
		} else {
			b, live = capture.Live(args[0]), true
		}
		args = args[1:]
	}
	expr = filterExpr(args)
	if o.explain {
		b = b.Promiscuous(o.promisc)
	} else {
		b = b.Filter(expr).Promiscuous(o.promisc)
	}
	if o.snaplen >= 0 {
		b = b.Snaplen(o.snaplen)
	}
	return b, live, expr, nil
}
