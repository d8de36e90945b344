package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pkttap/pkttap/dissect"
	"github.com/pkttap/pkttap/pcapio"
)

// Row is one line of the packet list.
type Row struct {
	No       int      `json:"no"`               // 1-based packet number in the capture
	Sec      int64    `json:"sec"`              // timestamp: seconds since the Unix epoch
	Nsec     int64    `json:"nsec"`             // and nanoseconds
	Delta    int64    `json:"delta"`            // ns since the previous displayed packet; 0 when either has no timestamp
	NoTime   bool     `json:"noTime,omitempty"` // the packet has no timestamp (a pcapng Simple Packet Block): sec and nsec are 0
	CapLen   int      `json:"caplen"`
	Length   int      `json:"length"`
	Source   string   `json:"src"`
	Dest     string   `json:"dst"`
	Protocol string   `json:"proto"`
	Info     string   `json:"info"`
	Tags     []string `json:"tags,omitempty"`
	Marked   bool     `json:"marked,omitempty"`  // marked (Wireshark's Mark Packet)
	Ignored  bool     `json:"ignored,omitempty"` // ignored: not dissected, its columns empty and Info "<Ignored>"
	Comment  string   `json:"comment,omitempty"` // the packet's comment: the file's, or as edited (in rows, its first RowCommentLen bytes)
	Color    *int     `json:"color,omitempty"`   // index of the first coloring rule the packet matches (see Store.Colorize); nil: none, or none asked
	Iface    int      `json:"iface,omitempty"`   // the packet's interface: an index into Info.Interfaces (a live capture's source)
}

func makeRow(i int, rec *record, s *summary) Row {
	return Row{
		No: i + 1, Sec: rec.TSNanos / 1e9, Nsec: rec.TSNanos % 1e9,
		CapLen: int(rec.CapLen), Length: int(rec.WireLen),
		Source: s.Source, Dest: s.Destination, Protocol: s.Protocol, Info: s.Info, Tags: s.Tags,
		NoTime: rec.noTime(), Iface: int(rec.IfIndex),
	}
}

// Page is a window of the packet list: the rows at display positions
// [start, start+len(Rows)).
type Page struct {
	Total     int // packets indexed so far
	Displayed int // packets displayed (matching the filter) so far
	Rows      []Row
}

// Rows returns the rows at display positions [start, start+n): of every
// packet when j is nil, else of the packets matching j's filter (as far as
// the job has got). The stored summaries are made with dissect's default
// options; with others (checksums verified, names resolved) the rows'
// columns and tags are those of decoding the packets again with o.
func (s *Store) Rows(start, n int, j *Job, o dissect.Options) (Page, error) {
	page := Page{Total: s.Count(), Rows: []Row{}}
	var idx []int // packet indices of the rows, plus the one before for the delta
	if j == nil {
		page.Displayed = page.Total
		for i := max(start-1, 0); i < min(start+n, page.Total); i++ {
			idx = append(idx, i)
		}
	} else {
		lo := max(start-1, 0)
		win, total := j.window(lo, start+n-lo)
		page.Displayed = total
		for _, i := range win {
			idx = append(idx, int(i))
		}
	}
	// idx holds the row before start when start > 0.
	var prev *record
	recs, err := s.recordsAt(idx)
	if err != nil {
		return page, err
	}
	if start > 0 && len(recs) > 0 {
		prev, recs, idx = &recs[0], recs[1:], idx[1:]
	}
	sums, err := s.summaries(recs)
	if err == nil && o != (dissect.Options{}) {
		err = s.retag(idx, recs, sums, o)
	}
	if err != nil {
		return page, err
	}
	notes := s.notes()
	for k := range recs {
		row := makeRow(idx[k], &recs[k], &sums[k])
		notes.decorate(&row, idx[k], sums[k].Comment)
		row.Comment = shortComment(row.Comment)
		if prev != nil && !prev.noTime() && !recs[k].noTime() {
			row.Delta = recs[k].TSNanos - prev.TSNanos
		}
		prev = &recs[k]
		page.Rows = append(page.Rows, row)
	}
	return page, nil
}

// Packet is one packet as the store holds it.
type Packet struct {
	Row
	Time     time.Time // zero when the packet has none (Row.NoTime)
	LinkType pcapio.LinkType
	Data     []byte // the captured bytes
	// Stream is what stream tracking found for the packet (for
	// dissect.Options.Stream); nil when the store has no stream records.
	Stream *dissect.StreamInfo
	// Reassembled is the IP datagram the packet's fragment completes (for
	// dissect.Options.Reassembled); nil when it completes none.
	Reassembled *dissect.Reassembled
}

// retag replaces the columns and tags of the packets' stored summaries,
// made with dissect's default options, with those of decoding the packets
// with o: it reads and decodes each packet again, with its stream record
// and reassembled datagram as the index pass had them. idx holds the
// packets' 0-based indexes.
func (s *Store) retag(idx []int, recs []record, sums []summary, o dissect.Options) error {
	for k := range recs {
		data, err := s.packetData(&recs[k])
		if err != nil {
			return err
		}
		po := o
		if po.Stream, err = s.streamInfo(idx[k]); err != nil {
			return err
		}
		if po.Reassembled, err = s.reassembled(idx[k]); err != nil {
			return err
		}
		sums[k].redo(po.Summarize(recs[k].LinkType, data, int(recs[k].WireLen)))
	}
	return nil
}

// redo replaces the summary's columns and tags with those of d, keeping
// its comment.
func (m *summary) redo(d dissect.Summary) {
	m.Source, m.Destination, m.Protocol, m.Info, m.Tags = d.Source, d.Destination, d.Protocol, d.Info, d.Tags
}

// Packet returns packet number no (1-based), its row as decoding it with
// o writes it.
func (s *Store) Packet(no int, o dissect.Options) (Packet, error) {
	rec, err := s.record(no - 1)
	if err != nil {
		return Packet{}, err
	}
	data, err := s.packetData(&rec)
	if err != nil {
		return Packet{}, err
	}
	sums, err := s.summaries([]record{rec})
	if err != nil {
		return Packet{}, err
	}
	si, err := s.streamInfo(no - 1)
	if err != nil {
		return Packet{}, err
	}
	r, err := s.reassembled(no - 1)
	if err != nil {
		return Packet{}, err
	}
	if o != (dissect.Options{}) {
		o.Stream, o.Reassembled = si, r
		sums[0].redo(o.Summarize(rec.LinkType, data, int(rec.WireLen)))
	}
	p := Packet{Row: makeRow(no-1, &rec, &sums[0]), LinkType: rec.LinkType, Data: data, Stream: si, Reassembled: r}
	s.notes().decorate(&p.Row, no-1, sums[0].Comment)
	if !rec.noTime() {
		p.Time = rec.Time()
	}
	return p, nil
}

// Position returns where packet no (1-based) is displayed under j's
// filter: its display position, or, with exact false, the position of the
// next packet displayed after it; and the number of packets displayed.
// When no does not match, it waits for the job to end first (the next
// match may not have been found yet), or until ctx ends.
func (s *Store) Position(ctx context.Context, no int, j *Job) (pos int, exact bool, displayed int, err error) {
	if no < 1 || no > s.Count() {
		return 0, false, 0, fmt.Errorf("packet %d: %w", no, ErrNoPacket)
	}
	if j == nil {
		return no - 1, true, s.Count(), nil
	}
	pos, exact = j.position(no - 1)
	if !exact {
		s.jobs.hold(j, 1)
		defer s.jobs.hold(j, -1)
		select {
		case <-j.done:
		case <-ctx.Done():
			return 0, false, 0, ctx.Err()
		}
		pos, exact = j.position(no - 1)
	}
	_, displayed = j.window(0, 0)
	return pos, exact, displayed, nil
}

// Download is a set of a store's packets ready to be written as a capture
// file (see Store.Download).
type Download struct {
	s      *Store
	n      int           // packets
	index  func(int) int // the k-th packet's index
	opts   pcapio.WriterOptions
	ifaces []pcapio.Interface // the writer's (pcapng), which record.IfIndex indexes
}

// ErrMixedLinkTypes refuses a .pcap download of a capture whose packets
// have several link types.
var ErrMixedLinkTypes = errors.New("mixes link types")

// Download waits until the packets a download holds are known and returns
// them, ready to be written in format (pcapio.FormatPcap or FormatPcapNg):
// every packet, or those matching j's filter when j is not nil. For a
// file that is all of them once the index pass has ended; for a running
// live capture, those that had arrived when Download was called. A .pcap
// download is written with nanosecond timestamps when some packet has
// sub-microsecond digits; it fails with ErrMixedLinkTypes for a capture of
// several link types.
func (s *Store) Download(ctx context.Context, j *Job, format pcapio.Format) (*Download, error) {
	n, index, err := s.scope(ctx, j)
	if err != nil {
		return nil, err
	}
	d := &Download{s: s, n: n, index: index}
	lts := s.linkTypeList()
	if len(lts) == 0 {
		lts = []pcapio.LinkType{pcapio.LinkTypeEthernet}
	}
	s.mu.Lock()
	nano := s.nanoTS
	s.mu.Unlock()
	if format == pcapio.FormatPcap {
		if len(lts) > 1 {
			names := make([]string, len(lts))
			for i, lt := range lts {
				names[i] = lt.String()
			}
			return nil, fmt.Errorf("this capture %w (%s), which .pcap cannot hold: download it as .pcapng", ErrMixedLinkTypes, strings.Join(names, ", "))
		}
		if nano {
			format = pcapio.FormatPcapNano
		}
	}
	// A download is a copy: it records the capture's snap length (its
	// first interface's in a pcap file, each interface's in pcapng), as
	// tcpdump -w does, so tools show its packets as they show the original's.
	d.opts = pcapio.WriterOptions{Format: format, LinkType: lts[0], Snaplen: pcapio.MaxSnaplen}
	if all := s.interfaces(); len(all) > 0 && all[0].Snaplen != 0 {
		d.opts.Snaplen = all[0].Snaplen
	}
	if format == pcapio.FormatPcapNg {
		d.ifaces = s.interfaces()
		d.opts.Interfaces = downloadInterfaces(d.ifaces)
	}
	return d, nil
}

// scope waits until the packets a download holds are known (see
// Download) and returns how many there are and a function giving the k-th
// one's index: every packet, or those matching j's filter when j is not
// nil.
func (s *Store) scope(ctx context.Context, j *Job) (n int, index func(int) int, err error) {
	if j != nil {
		s.jobs.hold(j, 1)
		defer s.jobs.hold(j, -1)
	}
	total, err := s.downloadSet(ctx, j)
	if err != nil {
		return 0, nil, err
	}
	if j == nil {
		return total, func(k int) int { return k }, nil
	}
	m, err := j.snapshot()
	if err != nil {
		return 0, nil, fmt.Errorf("filter failed: %w", err)
	}
	n, _ = m.Rank(uint32(total))
	return n, matchIndexer(m), nil
}

// downloadSet waits until the packets a download holds are known and
// returns how many of the store's packets it covers (see Download).
func (s *Store) downloadSet(ctx context.Context, j *Job) (int, error) {
	if !s.Running() {
		for _, done := range []<-chan struct{}{s.done, jobDone(j)} {
			select {
			case <-done:
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		return s.Count(), nil
	}
	total := s.Count()
	for j != nil {
		changed := s.pool.Changed()
		if st := j.status(); st.Done || st.Scanned >= total {
			break
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return total, nil
}

// jobDone returns j's done channel, or a closed channel for no job.
func jobDone(j *Job) <-chan struct{} {
	if j == nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return j.done
}

// WriteTo writes the download as a capture file to w, reading records in
// batches and packet bytes through one spool window, until ctx ends. Their
// bytes, lengths and timestamps are those of the original file; for pcapng,
// their interfaces and comments too.
func (d *Download) WriteTo(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	pw, err := pcapio.NewWriter(bw, d.opts)
	if err != nil {
		return fmt.Errorf("create writer: %w", err)
	}
	s := d.s
	sr := newSpoolReader(s.spool)
	idx := make([]int, 0, scanBatch)
	for k := 0; k < d.n; k += scanBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		idx = idx[:0]
		for i := k; i < min(k+scanBatch, d.n); i++ {
			idx = append(idx, d.index(i))
		}
		recs, err := s.recordsAt(idx)
		if err != nil {
			return err
		}
		var comments map[int]string
		if d.ifaces != nil {
			if comments, err = s.comments(idx, recs); err != nil {
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
			if d.ifaces != nil {
				if int(rec.IfIndex) >= len(d.ifaces) || d.ifaces[rec.IfIndex].LinkType != rec.LinkType {
					return fmt.Errorf("packet %d: interface %d is not one of the capture's %d", idx[i]+1, rec.IfIndex, len(d.ifaces))
				}
				p.InterfaceIndex = int(rec.IfIndex)
			}
			if err := pw.WritePacket(&p); err != nil {
				return fmt.Errorf("write packet %d: %w", idx[i]+1, err)
			}
		}
	}
	if err := pw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
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

// comments returns the comments of the packets of indices idx, whose
// records are recs, by position in recs: those the file gives (read from
// their summaries), as edited (see SetComment).
func (s *Store) comments(idx []int, recs []record) (map[int]string, error) {
	notes := s.notes()
	var with []record
	var at []int
	for i := range recs {
		if _, edited := notes.comments[idx[i]]; !edited && recs[i].Flags&flagComment != 0 {
			with = append(with, recs[i])
			at = append(at, i)
		}
	}
	m := make(map[int]string)
	for i, k := range idx {
		if c, ok := notes.comments[k]; ok && c != "" {
			m[i] = c
		}
	}
	if len(with) == 0 {
		return m, nil
	}
	sums, err := s.summaries(with)
	if err != nil {
		return nil, err
	}
	for k, i := range at {
		m[i] = sums[k].Comment
	}
	return m, nil
}
