package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/syncbuf"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/web"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"1048576", 1 << 20, false},
		{"2GiB", 2 << 30, false},
		{"2G", 2 << 30, false},
		{"500MB", 500e6, false},
		{"1.5k", 1536, false},
		{" 10 KiB ", 10 << 10, false},
		{"0", 0, true},
		{"-5", 0, true},
		{"ten", 0, true},
		{"5 parsecs", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d (error: %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// startRun runs the command with args and returns the URL it printed and a
// func that stops it (called at the end of the test if not before).
func startRun(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, &stdout, &stderr) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "\n") {
		select {
		case err := <-done:
			t.Fatalf("run ended: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no URL printed; stderr: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	line := strings.TrimSpace(stdout.String())
	return line[strings.Index(line, "http://"):], stop
}

// writeCapture writes a one-packet pcap file.
func writeCapture(t *testing.T, path string) int64 {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapio.NewWriter(&b, pcapio.WriterOptions{Format: pcapio.FormatPcap, LinkType: pcapio.LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 60)
	data[12], data[13] = 0x08, 0x06 // ARP
	if err := w.WritePacket(&pcapio.Packet{Timestamp: time.Unix(1, 0), Data: data, Length: 60, LinkType: pcapio.LinkTypeEthernet}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return int64(b.Len())
}

func TestRunOpensFiles(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "one.pcap")
	size := writeCapture(t, capture)
	data := filepath.Join(dir, "data")
	url, _ := startRun(t, "--listen", "127.0.0.1:0", "--data-dir", data, "--max-upload", "1MiB", "--open", capture)
	if strings.Contains(url, "token=") {
		t.Errorf("loopback URL %s carries a token", url)
	}
	res, err := http.Get(url + "api/captures")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list []web.CaptureInfo
	json.NewDecoder(res.Body).Decode(&list)
	if len(list) != 1 || list[0].Name != "one.pcap" {
		t.Fatalf("captures %+v, want the opened file", list)
	}
	// Over the limit given by --max-upload.
	res, err = http.Post(url+"api/captures?name=x.pcap", "application/octet-stream", bytes.NewReader(make([]byte, 2<<20)))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB upload with --max-upload 1MiB: status %d", res.StatusCode)
	}
	if st, err := os.Stat(capture); err != nil || st.Size() != size {
		t.Errorf("the opened file was touched: %v %v", st, err)
	}
}

func TestRunNoLive(t *testing.T) {
	url, _ := startRun(t, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--no-live")
	res, err := http.Post(url+"api/live", "application/json", strings.NewReader(`{"interface": "lo"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "--no-live") {
		t.Errorf("live start with --no-live: status %d: %s", res.StatusCode, body)
	}
}

func TestRunTokenBeyondLoopback(t *testing.T) {
	url, _ := startRun(t, "--listen", "0.0.0.0:0", "--data-dir", t.TempDir())
	i := strings.Index(url, "/?token=")
	if i < 0 || len(url)-i-len("/?token=") != 32 {
		t.Fatalf("URL %s does not carry a generated token", url)
	}
	// The printed host may be this machine's name: ask 127.0.0.1 on the
	// same port.
	port := url[strings.LastIndex(url[:i], ":")+1 : i]
	base := "http://127.0.0.1:" + port
	res, err := http.Get(base + "/api/captures")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: status %d", res.StatusCode)
	}
	res, err = http.Get(base + "/api/captures?" + url[i+2:])
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("with the token: status %d", res.StatusCode)
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--max-upload", "lots"},
		{"--max-live", "0"},
		{"--listen", "256.0.0.1:99999", "--data-dir", t.TempDir()},
		{"--open", filepath.Join(t.TempDir(), "missing.pcap"), "--listen", "127.0.0.1:0"},
		{"--no-such-flag"},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, &out); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}

func TestRunRemovesDefaultDataDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	url, stop := startRun(t, "--listen", "127.0.0.1:0")
	res, err := http.Post(url+"api/captures/sample", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("sample: status %d", res.StatusCode)
	}
	entries, _ := os.ReadDir(tmp)
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "pkttap-web-") {
		t.Fatalf("data dir not in TMPDIR: %v", entries)
	}
	stop()
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("data dir left after exit: %v", entries)
	}
}

// TestRunToken checks where the access token comes from (--token,
// --token-file, $PKTTAP_WEB_TOKEN) and that a weak one is refused.
func TestRunToken(t *testing.T) {
	strong := web.NewToken()
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte(strong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	weakFile := filepath.Join(dir, "weak")
	if err := os.WriteFile(weakFile, []byte("a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("refused", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			env  string
			want string
		}{
			{[]string{"--token", "a"}, "", "128 bits"},
			{[]string{"--token-file", weakFile}, "", "128 bits"},
			{nil, "secret", "128 bits"},
			{[]string{"--token", strong, "--token-file", file}, "", "not both"},
			{[]string{"--token-file", filepath.Join(dir, "missing")}, "", "token-file"},
		} {
			t.Setenv(tokenEnv, tt.env)
			var out bytes.Buffer
			args := append([]string{"--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, tt.args...)
			if err := run(context.Background(), args, &out, &out); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run %v with $%s=%q: error %v, want one naming %q", tt.args, tokenEnv, tt.env, err, tt.want)
			}
		}
	})
	for _, tt := range []struct {
		name string
		args []string
		env  string
	}{
		{"file", []string{"--token-file", file}, ""},
		{"environment", nil, strong},
		{"file before environment", []string{"--token-file", file}, web.NewToken()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tokenEnv, tt.env)
			url, _ := startRun(t, append([]string{"--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, tt.args...)...)
			base := url[:strings.Index(url, "/?token=")]
			for auth, want := range map[string]int{"": http.StatusUnauthorized, "Bearer " + strong: http.StatusOK} {
				req, _ := http.NewRequest("GET", base+"/api/captures", nil)
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != want {
					t.Errorf("Authorization %q: status %d, want %d", auth, res.StatusCode, want)
				}
			}
		})
	}
}

// TestRunMaxDisk checks that --max-disk limits what the captures may take
// on disk: an upload larger than it is refused with 507.
func TestRunMaxDisk(t *testing.T) {
	url, _ := startRun(t, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--max-disk", "1MiB")
	res, err := http.Post(url+"api/captures?name=x.pcap", "application/octet-stream", bytes.NewReader(make([]byte, 2<<20)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusInsufficientStorage || !strings.Contains(string(body), "--max-disk") {
		t.Errorf("2 MiB upload with --max-disk 1MiB: status %d: %s", res.StatusCode, body)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--max-disk", "lots"}, &out, &out); err == nil || !strings.Contains(err.Error(), "--max-disk") {
		t.Errorf("--max-disk lots: %v", err)
	}
}
