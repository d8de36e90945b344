package web

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/store"
)

// The benchmark's capture: 1,000,000 packets (about 520 MB) with
// PKTTAP_BENCH_BIG=1, else 20,000 so that `go test -bench . -benchtime=1x`
// stays quick. It is generated once per test binary run, in a temporary
// folder removed by TestMain.
var (
	benchOnce sync.Once
	benchDir  string
	benchFile string
	benchN    int
	benchErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func benchCapture(b *testing.B) (string, int) {
	benchOnce.Do(func() {
		benchN = 20_000
		if os.Getenv("PKTTAP_BENCH_BIG") == "1" {
			benchN = 1_000_000
		}
		if benchDir, benchErr = os.MkdirTemp("", "pkttap-web-bench-"); benchErr != nil {
			return
		}
		benchFile = filepath.Join(benchDir, "big.pcap")
		var f *os.File
		if f, benchErr = os.Create(benchFile); benchErr != nil {
			return
		}
		w := bufio.NewWriterSize(f, 1<<20)
		if benchErr = samplegen.WriteSynthetic(w, pcapio.FormatPcap, benchN); benchErr == nil {
			benchErr = w.Flush()
		}
		if err := f.Close(); benchErr == nil {
			benchErr = err
		}
		// The server binary, so its memory is measured alone.
		out, err := exec.Command("go", "build", "-o", filepath.Join(benchDir, "pkttap-web"), "github.com/pkttap/pkttap/cmd/pkttap-web").CombinedOutput()
		if err != nil && benchErr == nil {
			benchErr = fmt.Errorf("build pkttap-web: %v\n%s", err, out)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchFile, benchN
}

// startServerProcess runs pkttap-web on a random loopback port and returns
// its base URL and process.
func startServerProcess(b *testing.B) (string, *exec.Cmd) {
	cmd := exec.Command(filepath.Join(benchDir, "pkttap-web"), "--listen", "127.0.0.1:0", "--data-dir", b.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	url := strings.TrimSuffix(strings.TrimSpace(line[strings.Index(line, "http://"):]), "/")
	return url, cmd
}

// peakRSS returns a process's peak resident set size (VmHWM) in bytes.
func peakRSS(b *testing.B, pid int) float64 {
	n, err := procStatusBytes(pid, "VmHWM")
	if errors.Is(err, fs.ErrNotExist) {
		testenv.Missing(b, "proc", fmt.Sprintf("no /proc: peak RSS not measurable here: %v", err))
	}
	if err != nil {
		b.Fatal(err)
	}
	return float64(n)
}

// procStatusBytes returns a size field ("VmHWM", "VmRSS") of a process's
// /proc status, in bytes.
func procStatusBytes(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field+":" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s in /proc status: %w", field, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}

func getJSON(b *testing.B, url string, v any) {
	res, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkOpenFilterBig measures, on a separate pkttap-web process: the
// time from the end of an upload to the first rows, the time to index the
// whole capture, the time to apply `tcp port 443`, and the server's peak
// RSS. The anchors are sequential reads of the same file: from the page
// cache (as the index pass reads a fresh upload) and, on Linux, from the
// disk itself with O_DIRECT; index-vs-*-read is index time over read time.
func BenchmarkOpenFilterBig(b *testing.B) {
	file, n := benchCapture(b)
	st, err := os.Stat(file)
	if err != nil {
		b.Fatal(err)
	}
	size := float64(st.Size())
	for b.Loop() {
		// Anchor: read the file once, sequentially.
		f, err := os.Open(file)
		if err != nil {
			b.Fatal(err)
		}
		t := time.Now()
		if _, err := io.CopyBuffer(io.Discard, f, make([]byte, 1<<20)); err != nil {
			b.Fatal(err)
		}
		readTime := time.Since(t)
		f.Close()
		diskTime, diskOK := diskReadTime(file)

		url, cmd := startServerProcess(b)
		if f, err = os.Open(file); err != nil {
			b.Fatal(err)
		}
		req, err := http.NewRequest("POST", url+"/api/captures?name=big.pcap", f)
		if err != nil {
			b.Fatal(err)
		}
		req.ContentLength = st.Size()
		res, err := http.DefaultClient.Do(req)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		var info CaptureInfo
		derr := json.NewDecoder(res.Body).Decode(&info)
		res.Body.Close()
		uploaded := time.Now()
		if res.StatusCode != http.StatusCreated {
			b.Fatalf("upload: status %d", res.StatusCode)
		}
		if derr != nil {
			b.Fatalf("upload answer: %v", derr)
		}

		var firstRows time.Duration
		for {
			var r RowsResponse
			getJSON(b, url+"/api/captures/"+info.ID+"/rows?count=50", &r)
			if len(r.Rows) > 0 {
				firstRows = time.Since(uploaded)
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		for info.State == store.StateIndexing {
			time.Sleep(5 * time.Millisecond)
			getJSON(b, url+"/api/captures/"+info.ID, &info)
		}
		indexTime := time.Since(uploaded)
		if info.State != store.StateReady || info.Packets != int64(n) {
			b.Fatalf("indexed: %+v", info)
		}

		t = time.Now()
		res, err = http.Post(url+"/api/captures/"+info.ID+"/filter", "application/json", bytes.NewReader([]byte(`{"filter": "tcp port 443"}`)))
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		var matched int
		for done := false; !done; {
			time.Sleep(5 * time.Millisecond)
			getJSON(b, url+"/api/captures/"+info.ID, &info)
			for _, fs := range info.Filters {
				done, matched = fs.Done, fs.Matched
			}
		}
		filterTime := time.Since(t)
		if matched != n/2 {
			b.Fatalf("tcp port 443 matched %d of %d, want %d", matched, n, n/2)
		}
		rss := peakRSS(b, cmd.Process.Pid)

		b.ReportMetric(float64(n), "packets")
		b.ReportMetric(size/1e6, "MB")
		b.ReportMetric(float64(firstRows.Microseconds())/1e3, "first-rows-ms")
		b.ReportMetric(indexTime.Seconds(), "index-s")
		b.ReportMetric(size/1e6/indexTime.Seconds(), "index-MB/s")
		b.ReportMetric(size/1e6/readTime.Seconds(), "cached-read-MB/s")
		b.ReportMetric(indexTime.Seconds()/readTime.Seconds(), "index-vs-cached-read")
		if diskOK {
			b.ReportMetric(size/1e6/diskTime.Seconds(), "disk-read-MB/s")
			b.ReportMetric(indexTime.Seconds()/diskTime.Seconds(), "index-vs-disk-read")
		}
		b.ReportMetric(filterTime.Seconds(), "filter-s")
		b.ReportMetric(rss/1e6, "peak-RSS-MB")
		cmd.Process.Kill()
		cmd.Wait()
	}
}
