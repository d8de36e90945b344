// Command pkttap-inspect prints the packets of a capture file or a live
// network interface as hex + ASCII dumps, tshark-like summary lines or
// protocol trees, writes them to capture files, and prints compiled filter
// programs as tcpdump -d/-dd/-ddd do. It shows every feature of package
// capture from a terminal.
//
// Usage:
//
//	pkttap-inspect [flags] <INTERFACE|FILE> [FILTER...]
//	pkttap-inspect -ddd -y EN10MB 'tcp port 443'
//	pkttap-inspect -l
//
// Run pkttap-inspect -h for the flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals()...)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// stopSignals are the signals that end a capture as its end would: the -w
// file is flushed and closed and the counts printed, as tcpdump does for
// the same signals. SIGHUP is left alone when it is ignored (nohup); with
// SIGPIPE caught, writing to a closed pipe fails instead of killing the
// process with the -w file's last packets unwritten.
func stopSignals() []os.Signal {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE}
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	return sigs
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // something failed while running
	exitUsage = 2 // the command line could not be understood
)

// run is pkttap-inspect: it parses args, does the work, writes to stdout
// and stderr, and returns the exit code. Cancelling ctx (Ctrl-C) stops a
// capture cleanly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "pkttap-inspect: %v\nRun pkttap-inspect -h for help.\n", err)
		return exitUsage
	}
	switch {
	case o.help:
		fmt.Fprint(stdout, usage)
		return exitOK
	case o.list:
		err = listInterfaces(stdout)
	case o.remoteList != "":
		err = listRemoteInterfaces(o, stdout)
	case o.report != "":
		err = printFieldList(stdout)
	case o.dumpLevel > 0:
		err = printProgram(o, stdout)
	default:
		err = inspect(ctx, o, stdout, stderr)
	}
	if err != nil {
		if errors.Is(err, syscall.EPIPE) {
			// The reader of our output went away ("| head"): nothing to
			// tell it, and the -w file has been closed whole.
			return exitError
		}
		fmt.Fprintf(stderr, "pkttap-inspect: %v\n", err)
		if isUsageError(err) {
			fmt.Fprintln(stderr, "Run pkttap-inspect -h for help.")
			return exitUsage
		}
		return exitError
	}
	return exitOK
}
