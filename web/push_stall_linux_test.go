package web

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pkttap/pkttap/pcapio"
)

// TestPushStalledReader follows the end of a file being indexed from a
// client that reads nothing (a 4 KiB receive buffer, so the server's
// writes block at once) until the file is indexed: the connection's queue
// never holds more than the follow's window, the server's heap holds no
// more than before once the file is indexed (the rows produced meanwhile
// are not kept), and once the client reads, the
// batches it gets account for every row (the newest window of each, the
// others counted as skipped) up to the last packet.
func TestPushStalledReader(t *testing.T) {
	s, _ := newTestServer(t, Config{})
	// The server's side of each connection gets a small send buffer too,
	// so its writes to the stalled client block within a few pushes.
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Listener = smallSendBuffers{ts.Listener}
	ts.Start()
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error { return setBuffer(c, syscall.SO_RCVBUF) }}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	conn, _, err := websocket.Dial(ctx, wsURL(ts), &websocket.DialOptions{HTTPClient: client, HTTPHeader: http.Header{"Origin": {ts.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(-1)

	const window = maxPushRows
	// live is the heap in use, garbage collected.
	live := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	base := live()
	info := upload(t, ts, "stalled.pcap", synthetic(t, pcapio.FormatPcap, 150_000))
	sendFollow(ctx, t, conn, followRequest{Capture: info.ID, Key: "k", Window: window})
	// Watch the heap while the file is indexed and nothing is read.
	var peak int64
	for {
		peak = max(peak, live())
		var cur CaptureInfo
		do(t, "GET", ts.URL+"/api/captures/"+info.ID, nil, &cur)
		if cur.State != "indexing" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the last pushes, queued behind the stalled writes
	after := live()
	if h := s.pushed.highest.Load(); h > window {
		t.Errorf("%d rows queued for the stalled client, over its window of %d", h, window)
	}
	// Indexed, the store holds next to nothing in memory (the indexer's
	// tens of MB are let go): a queue that kept each batch the client did
	// not take would still hold a window of rows per publish, tens of
	// thousands of rows.
	if grown := after - base; grown > 4<<20 {
		t.Errorf("the heap holds %d KiB more than before the capture, with a stalled client following it", grown>>10)
	}

	pushes := readPushes(ctx, t, conn, "k", func(b *rowsPush) bool { return !b.Indexing && b.end() == b.Total })
	rows, skipped := checkPushed(t, pushes, 0)
	if last := pushes[len(pushes)-1]; int64(last.end()) != info.Packets && last.end() != 150_000 {
		t.Fatalf("the last push ends at %d, want the last packet (150000)", last.end())
	}
	if rows+skipped != 150_000 || skipped == 0 {
		t.Errorf("%d rows pushed and %d skipped, want 150000 in all, most skipped", rows, skipped)
	}
	t.Logf("stalled client: heap %+d KiB over the start while indexing (at most), %+d KiB once indexed; %d rows at most queued; then %d pushes: %d rows, %d skipped",
		(peak-base)>>10, (after-base)>>10, s.pushed.highest.Load(), len(pushes), rows, skipped)
}

// setBuffer sets socket c's buffer opt (SO_RCVBUF, SO_SNDBUF) to 4 KiB.
func setBuffer(c syscall.RawConn, opt int) error {
	var serr error
	if err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, 4096) }); err != nil {
		return err
	}
	return serr
}

// smallSendBuffers gives each accepted connection a 4 KiB send buffer.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err == nil {
		err = setBuffer(raw, syscall.SO_SNDBUF)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
