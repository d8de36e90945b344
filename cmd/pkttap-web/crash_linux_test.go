package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkttap/pkttap/internal/netnstest"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
	"github.com/pkttap/pkttap/web"
)

// nsClient returns an HTTP client whose connections are made in network
// namespace ns, where the child server listens.
func nsClient(t *testing.T, ns string) *http.Client {
	return &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var conn net.Conn
			var err error
			netnstest.Run(t, ns, func() {
				var d net.Dialer
				conn, err = d.DialContext(ctx, network, addr)
			})
			return conn, err
		}},
	}
}

// countPackets runs a reader of the spool and counts the packets it
// prints, one line each.
func countPackets(t *testing.T, argv ...string) int {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Logf("%s: %v: %s", filepath.Base(argv[0]), err, stderr.String())
	}
	return strings.Count(string(out), "\n")
}

// TestCrashRecoveryLive kills pkttap-web with SIGKILL while it captures
// live traffic in a network namespace, at a random point, then checks that
// tcpdump and tshark read the spool with every packet published before the
// kill, and that the restarted server lists the capture with the packets
// of the spool, serves and downloads them, and keeps it across a clean
// restart.
func TestCrashRecoveryLive(t *testing.T) {
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	tshark := testenv.LookPath(t, "tshark", "tshark")
	pair := netnstest.NewPair(t, netnstest.Options{Name: "crash", Static: true})
	ipPath := testenv.LookPath(t, "netns", "ip")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	client := nsClient(t, pair.NSB)
	wrap := []string{ipPath, "netns", "exec", pair.NSB}
	data := t.TempDir()
	args := []string{"--listen", "127.0.0.1:0", "--data-dir", data}

	c := startChild(t, client, wrap, nil, args...)
	res, err := client.Post(c.url+"/api/live", "application/json", strings.NewReader(fmt.Sprintf(`{"interface": %q, "filter": "udp port 7777"}`, pair.IfB)))
	if err != nil {
		t.Fatal(err)
	}
	var info web.CaptureInfo
	json.NewDecoder(res.Body).Decode(&info)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start live: status %d\n%s", res.StatusCode, c.stderr.String())
	}

	// Bounded traffic from A to B until the kill: at most 20000 datagrams.
	var conn *net.UDPConn
	netnstest.Run(t, pair.NSA, func() {
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: pair.IPA, Port: netnstest.UDPSourcePort})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 20_000 {
			select {
			case <-stop:
				return
			default:
			}
			conn.WriteToUDP([]byte(fmt.Sprintf("crash %05d %s", i, strings.Repeat("x", i%60))), &net.UDPAddr{IP: pair.IPB, Port: 7777})
			if i%50 == 49 {
				time.Sleep(2 * time.Millisecond)
			}
		}
	})
	target := int64(50 + rng.IntN(3000))
	var at web.CaptureInfo
	deadline := time.Now().Add(15 * time.Second)
	for c.get(t, "/api/captures/"+info.ID, &at); at.Packets < target && time.Now().Before(deadline); c.get(t, "/api/captures/"+info.ID, &at) {
		time.Sleep(time.Duration(rng.IntN(5)) * time.Millisecond)
	}
	c.kill()
	close(stop)
	wg.Wait()
	published := at.Packets
	t.Logf("killed with %d packets published", published)
	if published == 0 {
		t.Fatal("no packet captured before the kill")
	}

	spool := filepath.Join(data, info.ID, "spool")
	nTcpdump := countPackets(t, tcpdump, "-n", "-r", spool)
	nTshark := countPackets(t, tshark, "-n", "-r", spool, "-T", "fields", "-e", "frame.number")
	if int64(nTcpdump) < published || nTshark != nTcpdump {
		t.Fatalf("after the kill tcpdump reads %d packets, tshark %d; %d were published", nTcpdump, nTshark, published)
	}

	check := func(c *child, when string) {
		t.Helper()
		list := c.list(t)
		if len(list) != 1 || list[0].ID != info.ID || list[0].Packets != int64(nTcpdump) || list[0].State != "ready" ||
			list[0].Format != "live" || list[0].Live == nil || list[0].Live.Running || !strings.Contains(list[0].Live.Stopped, "ended while capturing") {
			t.Fatalf("%s: %+v (live %+v), want %s with %d packets", when, list, list[0].Live, info.ID, nTcpdump)
		}
		var rows struct {
			Rows []struct {
				No    int    `json:"no"`
				Proto string `json:"proto"`
			} `json:"rows"`
		}
		c.get(t, fmt.Sprintf("/api/captures/%s/rows?start=%d&count=1", info.ID, nTcpdump-1), &rows)
		if len(rows.Rows) != 1 || rows.Rows[0].No != nTcpdump || rows.Rows[0].Proto != "UDP" {
			t.Errorf("%s: last row %+v", when, rows.Rows)
		}
		res, err := c.client.Get(c.url + "/api/captures/" + info.ID + "/download?format=pcapng")
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapio.NewReader(res.Body)
		n := 0
		for err == nil {
			if _, err = r.Next(); err == nil {
				n++
			}
		}
		res.Body.Close()
		if n != nTcpdump {
			t.Errorf("%s: download holds %d packets, want %d", when, n, nTcpdump)
		}
		checkDataDir(t, data, list)
		if got := countPackets(t, tcpdump, "-n", "-r", spool); got != nTcpdump {
			t.Errorf("%s: tcpdump reads %d packets of the spool, want %d", when, got, nTcpdump)
		}
	}
	c = startChild(t, client, wrap, nil, args...)
	check(c, "after the restart")
	c.stop(t)
	c = startChild(t, client, wrap, nil, args...)
	check(c, "after a clean restart")
	c.stop(t)
}
