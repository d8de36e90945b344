package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/pkttap/pkttap/capture"
	"github.com/pkttap/pkttap/pcapio"
)

// A capture kept in the data dir (an upload, the demo capture or a live
// capture; not a file opened in place with --open) has a metadata file,
// written atomically: once its data is complete (an upload) or as it
// starts (a live capture, whose spool is complete up to its last flush at
// any time), and again, with what its index holds, when its index pass or
// live run has ended. A pool opened later on the same data dir lists it again
// from it (see recoverCaptures).
const (
	metaName    = "meta.json"
	metaTemp    = "meta.json.tmp"
	metaVersion = 1
	// indexVersion is the encoding of the index records and summaries:
	// change it with either, and indexes written before are made again.
	indexVersion = 2 // 2: fragments reassembled (summaries, the reassembly file)
)

// cacheFiles are the files of a capture folder that can be made again from
// its source file: the index, the summaries, a gzip upload's decompressed
// spool, the stream records and the reassembly records.
var cacheFiles = []string{"index", "summaries", "spool", streamsName, reassemblyName}

// captureMeta is a capture folder's metadata file.
type captureMeta struct {
	Version int       `json:"version"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// Source is the capture file in the folder: "upload", or "spool" for
	// a live capture.
	Source string    `json:"source"`
	Live   *liveMeta `json:"live,omitempty"`
	// Index is set once the index pass (or live run) has ended, not
	// cancelled: what the index and summaries hold.
	Index *indexMeta `json:"index,omitempty"`
}

// liveMeta is the live part of a capture's metadata.
type liveMeta struct {
	Options     LiveOptions   `json:"options"`
	MaxSpool    int64         `json:"maxSpool"`
	HeaderBytes int64         `json:"headerBytes"` // spool bytes before the first packet block
	Stats       capture.Stats `json:"stats"`
	SpoolBytes  int64         `json:"spoolBytes"`
	Stopped     string        `json:"stopped,omitempty"`
	Sources     []SourceInfo  `json:"sources,omitempty"` // of a capture of several sources, as they ended
}

// indexMeta is what a finished index pass found, and the size of every
// file of the folder when it ended, so a restart can tell a whole index
// from one cut short.
type indexMeta struct {
	Version   int                `json:"version"` // indexVersion when written
	Files     map[string]int64   `json:"files"`
	Packets   int64              `json:"packets"`
	State     string             `json:"state"`
	Error     string             `json:"error,omitempty"`
	Format    string             `json:"format"`
	Gzip      bool               `json:"gzip,omitempty"`
	BigEndian bool               `json:"bigEndian,omitempty"`
	LinkTypes []pcapio.LinkType  `json:"linkTypes"`
	Ifaces    []pcapio.Interface `json:"interfaces"`
	First     int64              `json:"first"`
	MinTS     int64              `json:"minTS"`
	MaxTS     int64              `json:"maxTS"`
	Timed     int64              `json:"timed"` // packets that have a timestamp
	NanoTS    bool               `json:"nanoTS,omitempty"`
	ReadBytes int64              `json:"readBytes"`
}

// writeMeta writes m to dir's metadata file atomically.
func writeMeta(dir string, m *captureMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode capture metadata: %w", err)
	}
	if err := writeAtomic(dir, metaName, metaTemp, b); err != nil {
		return fmt.Errorf("write capture metadata: %w", err)
	}
	return nil
}

// writeAtomic writes b to dir's file name atomically: a temporary file
// tmp, synced, renamed over the old one.
func writeAtomic(dir, name, tmp string, b []byte) error {
	tmp = filepath.Join(dir, tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	err = errors.Join(err, f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// errMetaVersion marks a metadata file this version cannot read.
var errMetaVersion = errors.New("unknown metadata version")

// readMeta reads dir's metadata file; the error wraps fs.ErrNotExist when
// there is none.
func readMeta(dir string) (*captureMeta, error) {
	b, err := os.ReadFile(filepath.Join(dir, metaName))
	if err != nil {
		return nil, err
	}
	var m captureMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", metaName, err)
	}
	if m.Version != metaVersion {
		return nil, fmt.Errorf("%s: version %d: %w", metaName, m.Version, errMetaVersion)
	}
	return &m, nil
}

// fileSizes returns the size of each of names that exists in dir.
func fileSizes(dir string, names ...string) (map[string]int64, error) {
	sizes := map[string]int64{}
	for _, name := range names {
		st, err := os.Stat(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sizes[name] = st.Size()
	}
	return sizes, nil
}

// saveMetaLocked rewrites the metadata of a capture kept in the data dir
// with its state: with what its index holds once the pass or live run has
// ended. It does nothing for a capture opened in place. s.mu must be held:
// the file is written before anyone sees the state it records.
func (s *Store) saveMetaLocked() {
	if s.saved == nil {
		return
	}
	m := *s.saved
	sizes, err := fileSizes(s.dir, append([]string{m.Source}, cacheFiles...)...)
	if l := s.live; l != nil {
		lm := liveMeta{Options: l.opts, MaxSpool: l.maxSpool, Stats: l.stats, SpoolBytes: l.spoolBytes, Stopped: l.stopReason, Sources: l.sources}
		if m.Live != nil {
			lm.HeaderBytes = m.Live.HeaderBytes
		}
		m.Live = &lm
	}
	if s.state != StateIndexing && s.state != StateCapturing && err == nil {
		m.Index = &indexMeta{
			Version: indexVersion, Files: sizes, Packets: s.count.Load(), State: s.state, Error: s.errMsg, Format: s.format,
			Gzip: s.gzipped, BigEndian: s.order == binary.BigEndian, LinkTypes: s.linkTypes, Ifaces: s.ifaces,
			First: s.first, MinTS: s.minTS, MaxTS: s.maxTS, Timed: s.timed, NanoTS: s.nanoTS, ReadBytes: s.readBytes,
		}
	}
	if err == nil {
		err = writeMeta(s.dir, &m)
	}
	if err != nil {
		s.pool.log.Warn("save capture metadata: a restart will index it again", "id", s.id, "err", err)
	}
}
