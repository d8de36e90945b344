package main

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/follow"
	"github.com/pkttap/pkttap/pcapio"
)

// followRun is one -z follow: the stream's selection, its follower and
// the chunks followed so far. The chunks' bytes go to a temporary file, so
// a long stream is not held in memory; tshark prints them once the
// capture is read.
type followRun struct {
	sel    follow.Selector
	mode   follow.Mode
	f      *follow.Follower
	sizes  []uint32 // each chunk's length; the top bit set for the server's
	tmp    *os.File
	w      *bufio.Writer
	err    error
	buf    []dissect.Transport
	frames uint32
}

// serverBit marks a server's chunk in followRun.sizes.
const serverBit = 1 << 31

// parseFollows parses the -z follow arguments among args, as tshark's:
// follow,tcp|udp,ascii|hex|raw,STREAM or ...,ADDR:PORT,ADDR:PORT.
func parseFollows(args []string) ([]*followRun, error) {
	var runs []*followRun
	for _, a := range args {
		r, err := parseFollow(a)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, nil
}

func parseFollow(a string) (*followRun, error) {
	parts := strings.Split(a, ",")
	if len(parts) < 4 || parts[0] != "follow" {
		return nil, usageErrorf("-z %s: only follow,PROTO,MODE,STREAM is known", a)
	}
	p, err := follow.ParseProto(parts[1])
	if err != nil {
		return nil, usageErrorf("-z %s: %v", a, err)
	}
	m, err := follow.ParseMode(parts[2])
	if err != nil {
		return nil, usageErrorf("-z %s: %v", a, err)
	}
	r := &followRun{sel: follow.Selector{Proto: p}, mode: m}
	switch len(parts) {
	case 4:
		n, err := strconv.ParseUint(parts[3], 10, 32)
		if err != nil || n >= 1<<32-1 {
			return nil, usageErrorf("-z %s: the stream %q is not a %s.stream number", a, parts[3], p)
		}
		r.sel.Stream = uint32(n)
	case 5:
		r.sel.Addrs = true
		for i, s := range parts[3:] {
			ap, err := netip.ParseAddrPort(s)
			if err != nil || ap.Port() == 0 {
				return nil, usageErrorf("-z %s: %q is not ADDR:PORT ([ADDR]:PORT for IPv6) with a port from 1 to 65535", a, s)
			}
			e := follow.Endpoint{Addr: ap.Addr().Unmap(), Port: ap.Port()}
			if i == 0 {
				r.sel.A = e
			} else {
				r.sel.B = e
			}
		}
		if r.sel.A.Addr.Is4() != r.sel.B.Addr.Is4() {
			return nil, usageErrorf("-z %s: one address is IPv4, the other IPv6", a)
		}
	default:
		return nil, usageErrorf("-z %s: give a stream number or two endpoints", a)
	}
	r.f = follow.New(p, r.chunk)
	return r, nil
}

// add follows packet number n, whose stream record is si and whose
// fragment completes the datagram ra (nil when none).
func (r *followRun) add(n int, p *pcapio.Packet, si *dissect.StreamInfo, ra *dissect.Reassembled) {
	pk := follow.Packet{Frame: uint32(n), Link: p.LinkType, Data: p.Data, WireLen: p.Length, Stream: si, Reassembled: ra}
	seg, buf, ok := r.sel.Segment(&pk, r.buf)
	r.buf = buf
	if ok {
		r.f.Add(&seg)
	}
}

// chunk keeps a chunk the follower emits.
func (r *followRun) chunk(c *follow.Chunk) {
	if r.err != nil {
		return
	}
	if r.tmp == nil {
		if r.tmp, r.err = os.CreateTemp("", "pkttap-follow-*"); r.err != nil {
			r.err = fmt.Errorf("follow: %w", r.err)
			return
		}
		os.Remove(r.tmp.Name()) // gone once closed
		r.w = bufio.NewWriterSize(r.tmp, 64<<10)
	}
	size := c.Len
	if c.Dir == 1 {
		size |= serverBit
	}
	r.sizes = append(r.sizes, size)
	if _, err := r.w.Write(c.Data); err != nil {
		r.err = fmt.Errorf("follow: %w", err)
	}
}

// write prints the followed stream in tshark's layout and lets its
// temporary file go.
func (r *followRun) write(out io.Writer) error {
	if r.tmp != nil {
		defer r.tmp.Close()
	}
	if r.err != nil {
		return r.err
	}
	client, server := r.f.Nodes()
	t := follow.NewTextWriter(out, r.sel.Proto, r.mode, r.sel.Filter(), client, server)
	if r.tmp != nil {
		if err := r.w.Flush(); err != nil {
			return fmt.Errorf("follow: %w", err)
		}
		in := bufio.NewReaderSize(io.NewSectionReader(r.tmp, 0, 1<<62), 64<<10)
		var data []byte
		for _, size := range r.sizes {
			n := int(size &^ serverBit)
			if cap(data) < n {
				data = make([]byte, n)
			}
			data = data[:n]
			if _, err := io.ReadFull(in, data); err != nil {
				return fmt.Errorf("follow: read back: %w", err)
			}
			dir := uint8(0)
			if size&serverBit != 0 {
				dir = 1
			}
			t.Chunk(dir, data)
		}
	}
	return t.Close()
}
