package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/dirlock"
	"github.com/pkttap/pkttap/internal/syncbuf"
	"github.com/pkttap/pkttap/internal/testpkt"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/web"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binary serverBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// serverBinary builds pkttap-web once for the test binary's run.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pkttap-crashtest-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "pkttap-web")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// child is a pkttap-web process started by a test.
type child struct {
	cmd    *exec.Cmd
	url    string
	client *http.Client
	stderr *syncbuf.Buffer
}

// startChild starts pkttap-web with args (prefixed by wrap, such as
// "ip netns exec NS"; in environment env, nil for this process's) and waits
// for its URL. client dials its address.
func startChild(t *testing.T, client *http.Client, wrap, env []string, args ...string) *child {
	t.Helper()
	argv := append(slices.Clone(wrap), serverBinary(t))
	argv = append(argv, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, client: client, stderr: &stderr}
	t.Cleanup(func() { c.kill() })
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			select {
			case line <- s.Text():
			default:
			}
		}
	}()
	select {
	case l := <-line:
		c.url = strings.TrimSuffix(l[strings.Index(l, "http://"):], "/")
	case <-time.After(15 * time.Second):
		t.Fatalf("pkttap-web printed no URL; stderr:\n%s", stderr.String())
	}
	return c
}

// kill ends the child with SIGKILL and waits for it.
func (c *child) kill() {
	if c.cmd.ProcessState == nil {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	}
}

// stop ends the child with SIGTERM (a clean exit) and waits for it.
func (c *child) stop(t *testing.T) {
	t.Helper()
	c.cmd.Process.Signal(os.Interrupt)
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("pkttap-web exit: %v\n%s", err, c.stderr.String())
	}
}

// get decodes the JSON answer to GET path.
func (c *child) get(t *testing.T, path string, out any) {
	t.Helper()
	res, err := c.client.Get(c.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: status %d: %s", path, res.StatusCode, b)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// list returns the captures once none is indexing.
func (c *child) list(t *testing.T) []web.CaptureInfo {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var list []web.CaptureInfo
		c.get(t, "/api/captures", &list)
		if !slices.ContainsFunc(list, func(i web.CaptureInfo) bool { return i.State == "indexing" }) {
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("still indexing: %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// upload posts data as a raw upload and returns the capture's info.
func (c *child) upload(t *testing.T, name string, data []byte) web.CaptureInfo {
	t.Helper()
	res, err := c.client.Post(c.url+"/api/captures?name="+name, "application/octet-stream", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var info web.CaptureInfo
	if res.StatusCode != http.StatusCreated || json.NewDecoder(res.Body).Decode(&info) != nil {
		t.Fatalf("upload %s: status %d", name, res.StatusCode)
	}
	return info
}

// udpCapture returns a pcap file of n Ethernet/IPv4/UDP packets of varied
// lengths.
func udpCapture(t *testing.T, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapio.NewWriter(&b, pcapio.WriterOptions{Format: pcapio.FormatPcap, LinkType: pcapio.LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	eth := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00}
	src, dst := []byte{198, 18, 0, 1}, []byte{198, 18, 0, 2}
	for i := range n {
		ip := testpkt.IPv4(17, src, dst, testpkt.UDP(40000, uint16(1000+i%50), make([]byte, i%90)))
		data := append(slices.Clone(eth), ip...)
		if err := w.WritePacket(&pcapio.Packet{Timestamp: time.Unix(1_700_000_000, int64(i)*1000), Data: data, Length: len(data)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// checkDataDir checks that the data dir holds the lock file and one folder
// per listed capture, each with only the files of a capture.
func checkDataDir(t *testing.T, dir string, list []web.CaptureInfo) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == dirlock.FileName {
			continue
		}
		if !slices.ContainsFunc(list, func(i web.CaptureInfo) bool { return i.ID == e.Name() }) {
			t.Errorf("orphan %s in the data dir (listed: %d captures)", e.Name(), len(list))
			continue
		}
		files, _ := os.ReadDir(filepath.Join(dir, e.Name()))
		for _, f := range files {
			if !slices.Contains([]string{"upload", "spool", "index", "summaries", "streams", "reassembly", "meta.json"}, f.Name()) {
				t.Errorf("orphan %s/%s in the data dir", e.Name(), f.Name())
			}
		}
	}
}

// TestCrashRecovery kills pkttap-web with SIGKILL at random points while
// it receives an upload and while it indexes a large capture, restarts it
// on the same data dir, and checks that every capture whose data had
// arrived whole is listed with all its packets, and that nothing else is
// left on disk. The live case is in TestCrashRecoveryLive.
func TestCrashRecovery(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	small := udpCapture(t, 1000)
	large := udpCapture(t, 300_000)
	client := &http.Client{Timeout: 20 * time.Second}
	data := t.TempDir()
	args := []string{"--listen", "127.0.0.1:0", "--data-dir", data}

	t.Run("upload", func(t *testing.T) {
		c := startChild(t, client, nil, nil, args...)
		done := c.upload(t, "whole.pcap", small)
		// An upload cut by the kill: the body stops after a random part.
		cut := 1 + rng.IntN(len(large)-1)
		pr, pw := io.Pipe()
		go func() {
			pw.Write(large[:cut])
			time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
			c.kill()
			pw.CloseWithError(io.ErrUnexpectedEOF)
		}()
		req, _ := http.NewRequestWithContext(context.Background(), "POST", c.url+"/api/captures?name=cut.pcap", pr)
		if res, err := client.Do(req); err == nil {
			res.Body.Close()
		}
		c.kill()
		t.Logf("killed after %d of %d bytes", cut, len(large))

		c = startChild(t, client, nil, nil, args...)
		list := c.list(t)
		if len(list) != 1 || list[0].ID != done.ID || list[0].Packets != 1000 || list[0].State != "ready" || list[0].Name != "whole.pcap" {
			t.Fatalf("after restart: %+v, want only %s with 1000 packets", list, done.ID)
		}
		checkDataDir(t, data, list)
		c.stop(t)
	})

	t.Run("indexing", func(t *testing.T) {
		c := startChild(t, client, nil, nil, args...)
		before := c.list(t)
		info := c.upload(t, "large.pcap", large)
		// Kill once a random number of packets is indexed.
		target := int64(rng.IntN(300_000))
		var at web.CaptureInfo
		for c.get(t, "/api/captures/"+info.ID, &at); at.Packets < target && at.State == "indexing"; c.get(t, "/api/captures/"+info.ID, &at) {
		}
		c.kill()
		t.Logf("killed at %d packets indexed (%s)", at.Packets, at.State)

		c = startChild(t, client, nil, nil, args...)
		list := c.list(t)
		i := slices.IndexFunc(list, func(i web.CaptureInfo) bool { return i.ID == info.ID })
		if len(list) != len(before)+1 || i < 0 || list[i].Packets != 300_000 || list[i].State != "ready" {
			t.Fatalf("after restart: %+v, want %s with 300000 packets", list, info.ID)
		}
		var rows struct {
			Rows []struct {
				No       int    `json:"no"`
				Protocol string `json:"proto"`
			} `json:"rows"`
		}
		c.get(t, fmt.Sprintf("/api/captures/%s/rows?start=299990&count=10", info.ID), &rows)
		if len(rows.Rows) != 10 || rows.Rows[9].No != 300_000 || rows.Rows[9].Protocol != "UDP" {
			t.Errorf("last rows after restart: %+v", rows.Rows)
		}
		checkDataDir(t, data, list)
		c.stop(t)
	})
}

// TestTempDataDirCleanup checks the data dir made without --data-dir: at
// start, a dead earlier run's dir is removed, a running one's is kept, and
// a folder of the same name pattern that pkttap-web did not make is left
// alone.
func TestTempDataDirCleanup(t *testing.T) {
	tmp := t.TempDir()
	client := &http.Client{Timeout: 10 * time.Second}
	env := append(os.Environ(), "TMPDIR="+tmp)
	start := func() *child {
		t.Helper()
		return startChild(t, client, nil, env, "--listen", "127.0.0.1:0")
	}
	tempDirs := func() []string {
		m, _ := filepath.Glob(filepath.Join(tmp, tempDirPrefix+"*"))
		return m
	}
	foreign := filepath.Join(tmp, tempDirPrefix+"notmine")
	os.Mkdir(foreign, 0o700)
	os.WriteFile(filepath.Join(foreign, "keep"), []byte("x"), 0o600)

	dead := start()
	dead.upload(t, "a.pcap", udpCapture(t, 10))
	dead.kill()
	deadDirs := tempDirs()
	if len(deadDirs) != 2 {
		t.Fatalf("temp dirs after a killed run: %v", deadDirs)
	}
	alive := start()
	alive.upload(t, "b.pcap", udpCapture(t, 10))
	dirs := tempDirs()
	if len(dirs) != 2 || !slices.Contains(dirs, foreign) {
		t.Fatalf("temp dirs with one run alive: %v (the dead run's should be gone, the foreign one kept)", dirs)
	}
	third := start()
	if dirs := tempDirs(); len(dirs) != 3 {
		t.Errorf("a running server's data dir was removed by the next start: %v", dirs)
	}
	var list []web.CaptureInfo
	alive.get(t, "/api/captures", &list)
	if len(list) != 1 {
		t.Errorf("the running server lists %d captures, want 1", len(list))
	}
	third.stop(t)
	alive.stop(t)
	if dirs := tempDirs(); len(dirs) != 1 || dirs[0] != foreign {
		t.Errorf("temp dirs after clean exits: %v", dirs)
	}
	if _, err := os.Stat(filepath.Join(foreign, "keep")); err != nil {
		t.Errorf("foreign folder touched: %v", err)
	}
}
