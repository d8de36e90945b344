package remote

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pkttap/pkttap/pcapio"
)

// shellQuote quotes s as one word for a POSIX shell: in single quotes,
// inside which nothing is special; a single quote in s ends the quoted
// part, is written escaped with a backslash, and a new quoted part begins.
// Newlines, $(...), backquotes and semicolons stay literal text.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// checkArg rejects what no remote command argument can carry.
func checkArg(what, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("remote: the %s %q contains a NUL byte, which no command argument can hold", what, s)
	}
	return nil
}

// tcpdumpCommand returns the remote shell command that runs tcpdump with
// args, each quoted: exec'd, so that signals sent to the SSH session reach
// tcpdump itself, and through sudo -n when sudo is set.
func tcpdumpCommand(sudo bool, args ...string) string {
	var b strings.Builder
	b.WriteString("exec ")
	if sudo {
		b.WriteString("sudo -n ")
	}
	b.WriteString("tcpdump")
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(shellQuote(a))
	}
	return b.String()
}

// captureCommand returns the remote shell command that runs a capturing
// tcpdump with args until the SSH session's standard input ends: tcpdump
// runs in the background, and a watcher made of shell builtins waits for
// the end of standard input (the client closing it, the session or the
// connection ending) and then stops tcpdump. sshd passes no signal to a
// root login's command, and a tcpdump whose output pipe is gone lingers
// until it next writes, which on a quiet interface may be never. The
// command's exit status is tcpdump's.
func captureCommand(sudo bool, args ...string) string {
	run := strings.TrimPrefix(tcpdumpCommand(sudo, args...), "exec ")
	return "exec 3<&0; " + run + " 0</dev/null 3<&- & p=$!; " +
		"{ while IFS= read -r _; do :; done; kill -TERM $p; } <&3 >/dev/null 2>&1 & " +
		"exec 3<&-; wait $p"
}

// Interface is a network interface of a remote host.
type Interface struct {
	Name        string // what CaptureOptions.Interface takes
	Description string // as tcpdump -D describes it, if it does
	Up          bool
	Loopback    bool
	// Addresses are the interface's IPv4 and IPv6 addresses with their
	// prefix lengths, where the remote host says (rpcap does, tcpdump -D
	// does not).
	Addresses []netip.Prefix
}

// parseTcpdumpD parses tcpdump -D's output: "1.eth0 (desc) [Up, Running]".
func parseTcpdumpD(out []byte) []Interface {
	var ifs []Interface
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		num, rest, ok := strings.Cut(line, ".")
		if _, err := strconv.Atoi(num); !ok || err != nil || rest == "" {
			continue
		}
		var ifc Interface
		if i := strings.LastIndex(rest, " ["); i >= 0 && strings.HasSuffix(rest, "]") {
			for _, f := range strings.Split(rest[i+2:len(rest)-1], ", ") {
				ifc.Up = ifc.Up || f == "Up"
				ifc.Loopback = ifc.Loopback || f == "Loopback"
			}
			rest = rest[:i]
		}
		if i := strings.Index(rest, " ("); i >= 0 && strings.HasSuffix(rest, ")") {
			ifc.Description = rest[i+2 : len(rest)-1]
			rest = rest[:i]
		}
		ifc.Name = rest
		ifs = append(ifs, ifc)
	}
	return ifs
}

// parseIPLink parses `ip -o link`'s output: "2: eth0@if5: <BROADCAST,UP,
// LOWER_UP> mtu 1500 ...".
func parseIPLink(out []byte) []Interface {
	var ifs []Interface
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || !strings.HasSuffix(fields[0], ":") {
			continue
		}
		name := strings.TrimSuffix(fields[1], ":")
		name, _, _ = strings.Cut(name, "@")
		ifc := Interface{Name: name}
		for _, f := range strings.Split(strings.Trim(fields[2], "<>"), ",") {
			ifc.Up = ifc.Up || f == "UP"
			ifc.Loopback = ifc.Loopback || f == "LOOPBACK"
		}
		ifs = append(ifs, ifc)
	}
	return ifs
}

// parseLinkTypes parses tcpdump -L's output ("Data link types for eth0
// ...:" then "  EN10MB (Ethernet)" lines) and returns the first link type,
// the one tcpdump opens the interface with.
func parseLinkTypes(out []byte) (pcapio.LinkType, string, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		lt, err := pcapio.LinkTypeFromName(name)
		return lt, name, err
	}
	return 0, "", fmt.Errorf("tcpdump -L listed no link type: %q", firstLine(out))
}

// classify turns a failed remote tcpdump (its exit status and standard
// error) into an error that says what to do.
func classify(h *Host, iface string, status int, stderr []byte) error {
	msg := strings.TrimSpace(string(stderr))
	low := strings.ToLower(msg)
	who := h.user + "@" + h.addr
	switch {
	case status == 127 || strings.Contains(low, "tcpdump: not found") || strings.Contains(low, "command not found") || strings.Contains(low, "tcpdump: no such file"):
		return fmt.Errorf("%w: %s has no tcpdump in the PATH of a non-interactive shell (exit status %d: %s): install it there (apt-get install tcpdump, dnf install tcpdump)", ErrTcpdumpMissing, who, status, firstLine(stderr))
	case strings.Contains(low, "sudo:") && (strings.Contains(low, "password") || strings.Contains(low, "not allowed") || strings.Contains(low, "not in the sudoers")):
		return fmt.Errorf("%w: sudo -n tcpdump on %s needs a NOPASSWD sudo rule for tcpdump (%s)", ErrPermissionDenied, who, firstLine(stderr))
	case strings.Contains(low, "permission") || strings.Contains(low, "operation not permitted"):
		return fmt.Errorf("%w: %s may not capture (%s): log in as root, give tcpdump the capture capabilities (setcap cap_net_raw,cap_net_admin=eip on it), or turn on sudo", ErrPermissionDenied, who, firstLine(stderr))
	case strings.Contains(low, "no such device") || strings.Contains(low, "doesn't exist") || strings.Contains(low, "no suitable device") || strings.Contains(low, "that device doesn't support"):
		return fmt.Errorf("%w: %s has no interface %q (%s): list its interfaces with Host.Interfaces (pkttap-inspect -D ssh://%s)", ErrNoSuchInterface, h.addr, iface, firstLine(stderr), who)
	}
	if msg == "" {
		msg = "no message"
	}
	return fmt.Errorf("%w: tcpdump on %s failed (exit status %d): %s", ErrRemoteExited, who, status, msg)
}

// firstLine returns the first non-blank line of b, at most 200 bytes.
func firstLine(b []byte) string {
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if len(l) > 200 {
				l = l[:200] + "..."
			}
			return l
		}
	}
	return ""
}

// osFromUname maps uname -s to a GOOS value.
func osFromUname(s string) string {
	switch strings.TrimSpace(s) {
	case "Linux":
		return "linux"
	case "Darwin":
		return "darwin"
	}
	return strings.ToLower(strings.TrimSpace(s))
}
