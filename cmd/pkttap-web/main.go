// Command pkttap-web is a packet inspector in the browser: open a .pcap or
// .pcapng file or start a live capture on a network interface, look at its
// packets (list, protocol tree, hex and ASCII), filter them with display
// filters or tcpdump expressions and download the result.
//
// Usage:
//
//	pkttap-web [--listen ADDR] [--max-upload SIZE] [--max-disk SIZE] [--max-live SIZE] [--no-live] [--known-hosts FILE] [--ssh-key FILE]... [--data-dir DIR] [--token-file FILE] [-v] [--open FILE]... [FILE...]
//
// It serves http://127.0.0.1:8080 by default and prints the URL to open. On
// any address but loopback every request needs a token, printed as part of
// the URL (generated at start-up unless one is given). A token given is read
// from the first line of --token-file, or from $PKTTAP_WEB_TOKEN, or (seen
// by every user in the process list) from --token; it must carry at least
// 128 bits, e.g. 32 hex digits.
//
// All the captures' files together stay within --max-disk (half the data
// dir's free space at start-up by default).
//
// Live capture needs the privileges of package capture (root, or
// CAP_NET_RAW and CAP_NET_ADMIN on Linux); a live capture stops by itself
// when its captured packet bytes reach --max-live (1 GiB by default), and --no-live turns
// live capture off. A live capture may also take its packets from remote hosts
// over SSH (running tcpdump there), several sources merged into one capture:
// host keys are checked against --known-hosts (~/.ssh/known_hosts by default),
// where the UI adds a key its user accepted, and the key files a remote
// source may log in with are those given with --ssh-key (by default
// ~/.ssh/id_ed25519, id_ecdsa and id_rsa); passwords typed in the UI are used
// once and never stored. -v logs every request.
//
// Captures are kept in --data-dir across restarts: a server started on it
// lists again every capture whose data had arrived whole, however the last
// one ended (killed included), and removes uploads cut short. Without
// --data-dir, a private temporary folder is used and removed on exit; the
// folders of earlier runs that were killed are removed at start. The README
// says more ("pkttap-web's data dir").
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pkttap-web:", err)
		os.Exit(1)
	}
}
