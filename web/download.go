package web

import (
	"bufio"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/pkttap/pkttap/pcapio"
)

// handleDownload streams the capture's packets, all of them or those
// matching ?filter=, as ?format=pcap (default) or pcapng. Packets are read
// from the spool and written as they are read; their bytes, lengths and
// timestamps are those of the original file. With ?check=1 it answers
// 204 No Content where it would start the download, and the refusal a
// download would get otherwise: the page asks first, so it can show why a
// download is refused (a browser drops a refused download's message).
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	c, ok := s.captureParam(w, r)
	if !ok {
		return
	}
	format, ext := pcapio.FormatPcap, ".pcap"
	switch f := r.URL.Query().Get("format"); f {
	case "", "pcap":
	case "pcapng":
		format, ext = pcapio.FormatPcapNg, ".pcapng"
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("format must be pcap or pcapng, not %q", f))
		return
	}
	expr := normalizeFilter(r.URL.Query().Get("filter"))
	var j *filterJob
	if expr != "" {
		if j = s.job(w, r, c, expr); j == nil {
			return
		}
		c.filters.hold(j)
		defer c.filters.release(j)
	}
	total, ok := s.downloadSet(r, c, j)
	if !ok {
		return
	}
	n, index := total, func(k int) int { return k }
	if j != nil {
		m, err := j.snapshot()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "filter failed: "+err.Error())
			return
		}
		n, _ = m.Rank(uint32(total))
		index = matchIndexer(m)
	}
	lts := c.linkTypeList()
	if len(lts) == 0 {
		lts = []pcapio.LinkType{pcapio.LinkTypeEthernet}
	}
	c.mu.Lock()
	nano := c.nanoTS
	c.mu.Unlock()
	if format == pcapio.FormatPcap {
		if len(lts) > 1 {
			names := make([]string, len(lts))
			for i, lt := range lts {
				names[i] = lt.String()
			}
			writeError(w, http.StatusConflict, "this capture mixes link types ("+strings.Join(names, ", ")+"), which .pcap cannot hold: download it as .pcapng")
			return
		}
		if nano {
			format = pcapio.FormatPcapNano
		}
	}
	// A download is a copy: it records the capture's snap length (its
	// first interface's in a pcap file, each interface's in pcapng), as
	// tcpdump -w does, so tools show its packets as they show the original's.
	opts := pcapio.WriterOptions{Format: format, LinkType: lts[0], Snaplen: pcapio.MaxSnaplen}
	if all := c.interfaces(); len(all) > 0 && all[0].Snaplen != 0 {
		opts.Snaplen = all[0].Snaplen
	}
	var ifaces []pcapio.Interface
	if format == pcapio.FormatPcapNg {
		ifaces = c.interfaces()
		opts.Interfaces = downloadInterfaces(ifaces)
	}
	if r.URL.Query().Get("check") == "1" {
		w.WriteHeader(http.StatusNoContent)
		return
	}

	h := w.Header()
	h.Set("Content-Type", "application/vnd.tcpdump.pcap")
	if format == pcapio.FormatPcapNg {
		h.Set("Content-Type", "application/x-pcapng")
	}
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": downloadName(c.name, expr, ext)}))
	h.Set("Cache-Control", "no-store")
	body, done := s.watchDownload(w)
	defer done()
	bw := bufio.NewWriterSize(body, 256<<10)
	pw, err := pcapio.NewWriter(bw, opts)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "create writer: "+err.Error())
		return
	}
	if err := s.streamPackets(r, c, pw, n, index, ifaces); err != nil {
		s.log.Warn("download aborted", "id", c.id, "err", err)
		panic(http.ErrAbortHandler) // the client must see a broken download, not a short file
	}
	if err := pw.Flush(); err != nil {
		s.log.Warn("download flush", "id", c.id, "err", err)
		return
	}
	if err := bw.Flush(); err != nil {
		s.log.Warn("download flush", "id", c.id, "err", err)
	}
}

// downloadSet waits until the packets a download holds are known and
// returns how many of the capture's packets it covers. For a file, that is
// all of them once the index pass has ended; for a running live capture,
// those that had arrived when the request came. With a filter job j, it
// also waits until j has scanned them.
func (s *Server) downloadSet(r *http.Request, c *Capture, j *filterJob) (int, bool) {
	if !c.liveRunning() {
		for _, done := range []<-chan struct{}{c.done, jobDone(j)} {
			select {
			case <-done:
			case <-r.Context().Done():
				return 0, false
			}
		}
		return c.Packets(), true
	}
	total := c.Packets()
	for j != nil {
		changed := s.waitChange()
		if st := j.status(); st.Done || st.Scanned >= total {
			break
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return 0, false
		}
	}
	return total, true
}

// jobDone returns j's done channel, or a closed channel for no job.
func jobDone(j *filterJob) <-chan struct{} {
	if j == nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return j.done
}

// downloadInterfaces returns the pcapng interfaces of a download: those of
// the capture, with their names, descriptions, snap lengths and other
// options. Timestamps are written without if_tsoffset (the index holds them
// with it applied), and at the source resolution only where that keeps the
// indexed nanoseconds exact (10^-k, k <= 9), else in nanoseconds.
func downloadInterfaces(ifaces []pcapio.Interface) []pcapio.Interface {
	out := make([]pcapio.Interface, len(ifaces))
	for i, ifc := range ifaces {
		ifc.TSOffset = 0
		if res := ifc.TSResolution; res.IsBinary() || res.Exponent() > 9 {
			ifc.TSResolution = pcapio.TSResolutionNano
		}
		out[i] = ifc
	}
	return out
}

// streamPackets writes n packets, the k-th being packet index(k), reading
// records in batches and packet bytes through one spool window. For pcapng,
// ifaces are the writer's interfaces, which record.IfIndex indexes, and
// packet comments are read from the summaries of the packets that have one.
func (s *Server) streamPackets(r *http.Request, c *Capture, pw *pcapio.Writer, n int, index func(int) int, ifaces []pcapio.Interface) error {
	sr := newSpoolReader(c.spool)
	idx := make([]int, 0, scanBatch)
	for k := 0; k < n; k += scanBatch {
		if err := r.Context().Err(); err != nil {
			return err
		}
		idx = idx[:0]
		for i := k; i < min(k+scanBatch, n); i++ {
			idx = append(idx, index(i))
		}
		recs, err := c.recordsAt(idx)
		if err != nil {
			return err
		}
		var comments map[int]string
		if ifaces != nil {
			if comments, err = c.comments(recs); err != nil {
				return err
			}
		}
		for i := range recs {
			rec := &recs[i]
			data, err := sr.read(rec.DataOff, int(rec.CapLen))
			if err != nil {
				return err
			}
			p := pcapio.Packet{
				Timestamp: rec.Time(),
				Data:      data,
				Length:    int(rec.WireLen),
				LinkType:  rec.LinkType,
				Comment:   comments[i],
			}
			if ifaces != nil {
				if int(rec.IfIndex) >= len(ifaces) || ifaces[rec.IfIndex].LinkType != rec.LinkType {
					return fmt.Errorf("packet %d: interface %d is not one of the capture's %d", idx[i]+1, rec.IfIndex, len(ifaces))
				}
				p.InterfaceIndex = int(rec.IfIndex)
			}
			if err := pw.WritePacket(&p); err != nil {
				return fmt.Errorf("write packet %d: %w", idx[i]+1, err)
			}
		}
	}
	return nil
}

// comments returns the comments of those of recs that have one, by
// position in recs, reading only their summaries.
func (c *Capture) comments(recs []record) (map[int]string, error) {
	var with []record
	var at []int
	for i := range recs {
		if recs[i].Flags&flagComment != 0 {
			with = append(with, recs[i])
			at = append(at, i)
		}
	}
	if len(with) == 0 {
		return nil, nil
	}
	sums, err := c.summaries(with)
	if err != nil {
		return nil, err
	}
	m := make(map[int]string, len(with))
	for k, i := range at {
		m[i] = sums[k].Comment
	}
	return m, nil
}
