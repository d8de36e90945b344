package rpcapdtest

import (
	"bytes"
	"encoding/hex"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// trace is the recording capture/remote's live test made.
const trace = "../../capture/remote/testdata/rpcapd-sessions.json"

// statsRequest is an rpcap STATS request (version 0).
var statsRequest = []byte{0, 9, 0, 0, 0, 0, 0, 0}

// playClient plays the client's side of sess against s, as recorded,
// except that before the first recorded STATS request it sends extra
// STATS requests of its own (reading each reply), and it leaves out the
// recorded STATS requests after the first (and their replies). It
// returns the first difference it saw in the server's bytes ("" for
// none).
func playClient(t *testing.T, s *ReplayServer, sess Session, extra int) string {
	t.Helper()
	conns := map[int]net.Conn{}
	conn := func(i int) net.Conn {
		for len(conns) <= i {
			c, err := s.Dial("tcp", sess.Conns[len(conns)].Remote)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			conns[len(conns)] = c
			t.Cleanup(func() { c.Close() })
		}
		return conns[i]
	}
	read := func(c net.Conn, n int) []byte {
		b := make([]byte, n)
		io.ReadFull(c, b) // a replay that gave up closed the connection: b stays zero
		return b
	}
	statsSeen, skipReply := 0, false
	for i, ev := range sess.Events {
		b, _ := hex.DecodeString(ev.Hex)
		c := conn(ev.Conn)
		if ev.Dir == "s" {
			if skipReply {
				skipReply = false
				continue
			}
			if got := read(c, len(b)); !bytes.Equal(got, b) {
				return "event " + strconv.Itoa(i) + ": " + hex.EncodeToString(got)
			}
			continue
		}
		if bytes.Equal(b, statsRequest) {
			if statsSeen++; statsSeen == 1 {
				for range extra {
					c.Write(statsRequest)
					if got := read(c, 24); got[1] != 9|0x80 {
						return "extra STATS answered " + hex.EncodeToString(got)
					}
				}
			} else {
				skipReply = true
				continue
			}
		}
		if _, err := c.Write(b); err != nil {
			return "event " + strconv.Itoa(i) + ": " + err.Error()
		}
	}
	return ""
}

// TestReplayAnyStats: with AnyStats the replay answers STATS requests the
// recording lacks and skips those the client did not send; without it,
// such a client fails the replay.
func TestReplayAnyStats(t *testing.T) {
	tr := ReadTrace(t, trace)
	sess := tr.Sessions[0]
	if sess.Name != "null-auth" {
		t.Fatalf("the first session is %s", sess.Name)
	}
	for _, any := range []bool{true, false} {
		s := NewReplayServerWith(t, sess, ReplayOptions{AnyStats: any})
		diff := playClient(t, s, sess, 3)
		if any && diff != "" {
			t.Fatalf("AnyStats: the client saw %s", diff)
		}
		err := s.Wait()
		switch {
		case any && err != nil:
			t.Errorf("AnyStats: %v", err)
		case !any && (err == nil || !strings.Contains(err.Error(), "the client wrote")):
			t.Errorf("strict replay of a client asking for STATS 3 times more: %v, want a difference", err)
		}
	}
}
