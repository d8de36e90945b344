package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pkttap/pkttap/internal/dirlock"
	"github.com/pkttap/pkttap/web"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// run parses the flags, starts the server and serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pkttap-web", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve on; anything but loopback requires a token")
	maxUpload := fs.String("max-upload", "2GiB", "size limit of one capture (bytes, or with a unit: 500MB, 2GiB)")
	dataDir := fs.String("data-dir", "", "folder for spooled captures and their indexes, kept across restarts (default: a private temporary folder removed on exit)")
	token := fs.String("token", "", "access token, at least 128 bits (32 hex digits); other users see it in the process list: prefer --token-file or $"+tokenEnv+" (default: generated when listening beyond loopback)")
	tokenFile := fs.String("token-file", "", "read the access token from this file (its first line)")
	maxDisk := fs.String("max-disk", "", "most disk the captures may take in the data dir, all together: uploads, decompressed and live spools, indexes (bytes, or with a unit; default: half the free space at start-up)")
	maxLive := fs.String("max-live", "1GiB", "captured packet bytes at which a live capture stops by itself (bytes, or with a unit)")
	noLive := fs.Bool("no-live", false, "disable live capture (only capture files can be opened)")
	verbose := fs.Bool("v", false, "log every request")
	knownHosts := fs.String("known-hosts", "", "known_hosts file the host keys of remote sources (SSH) are checked against and accepted into (default ~/.ssh/known_hosts)")
	var open, sshKeys stringList
	fs.Var(&open, "open", "capture file to open at start-up (repeatable; files may also follow the flags)")
	fs.Var(&sshKeys, "ssh-key", "private key file remote sources (SSH) may log in with, named by its file name in the UI (repeatable; default ~/.ssh/id_ed25519, id_ecdsa and id_rsa)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	open = append(open, fs.Args()...)
	limit, err := parseSize(*maxUpload)
	if err != nil {
		return fmt.Errorf("--max-upload: %w", err)
	}
	liveLimit, err := parseSize(*maxLive)
	if err != nil {
		return fmt.Errorf("--max-live: %w", err)
	}
	var diskLimit int64 // 0: the web package's default
	if *maxDisk != "" {
		if diskLimit, err = parseSize(*maxDisk); err != nil {
			return fmt.Errorf("--max-disk: %w", err)
		}
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	tok, err := accessToken(*token, *tokenFile)
	if err != nil {
		return err
	}
	if *token != "" {
		log.Warn("the --token value is visible to other users in the process list: give it with --token-file or $" + tokenEnv + " instead")
	}

	dir := *dataDir
	if dir == "" {
		removeStaleDataDirs(os.TempDir(), log)
		if dir, err = os.MkdirTemp("", tempDirPrefix); err != nil {
			return fmt.Errorf("create data dir: %w", err)
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}

	srv, err := web.New(web.Config{
		Addr: *listen, Token: tok, MaxUpload: limit, DataDir: dir, Logger: log,
		MaxLive: liveLimit, NoLive: *noLive, MaxDisk: diskLimit,
		SSH: web.SSHOptions{KnownHostsFile: *knownHosts, KeyFiles: sshKeys},
	})
	if err != nil {
		return err
	}
	log.Info("disk budget", "dir", dir, "bytes", srv.MaxDisk())
	defer srv.Close()
	for _, f := range open {
		if _, err := srv.OpenFile(f); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Fprintf(stdout, "pkttap-web: open %s\n", srv.URL(ln.Addr()))
	return srv.Serve(ctx, ln)
}

// tokenEnv is the environment variable that may hold the access token.
const tokenEnv = "PKTTAP_WEB_TOKEN"

// accessToken returns the access token given by --token (flag), by
// --token-file (file: its first line, spaces trimmed), or else by the
// environment variable tokenEnv; "" when none is. Giving both flags is an
// error. Its strength is checked by web.New.
func accessToken(flag, file string) (string, error) {
	switch {
	case flag != "" && file != "":
		return "", errors.New("give the access token with --token or --token-file, not both")
	case flag != "":
		return flag, nil
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, 4<<10))
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if tok := strings.TrimSpace(line); tok != "" {
			return tok, nil
		}
		return "", fmt.Errorf("--token-file %s: the first line holds no token", file)
	}
	return strings.TrimSpace(os.Getenv(tokenEnv)), nil
}

// tempDirPrefix starts the name of the data dir made when --data-dir is
// not given.
const tempDirPrefix = "pkttap-web-"

// removeStaleDataDirs removes the temporary data dirs in tmp that earlier
// runs left behind when they could not clean up (killed, or the machine
// went down): those with pkttap-web's lock file that no running process
// holds. A running pkttap-web's dir, and anything without the lock file,
// are left alone.
func removeStaleDataDirs(tmp string, log *slog.Logger) {
	matches, _ := filepath.Glob(filepath.Join(tmp, tempDirPrefix+"*"))
	for _, dir := range matches {
		if st, err := os.Lstat(dir); err != nil || !st.IsDir() {
			continue
		}
		removed, err := dirlock.RemoveStale(dir)
		switch {
		case err != nil:
			log.Warn("remove the data dir of an earlier run", "dir", dir, "err", err)
		case removed:
			log.Info("removed the data dir of an earlier run that did not end cleanly", "dir", dir)
		}
	}
}

// parseSize parses "1048576", "500MB", "2GiB", "10k" (k/M/G/T are powers of
// 1000 with B, of 1024 with iB or alone).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.TrimSpace(s[i:])
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("bad size %q (try 500MB or 2GiB)", s)
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
		"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
		"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
		"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
	}[strings.ToLower(unit)]
	if mult == 0 {
		return 0, errors.New("bad size unit " + strconv.Quote(unit) + " (use B, KB, MB, GB, KiB, MiB, GiB)")
	}
	return int64(v * mult), nil
}
