package store

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
)

// mapSegment is the length of one mapping of a fileMap: large enough that
// few packets straddle two, small enough that a file of many gigabytes
// takes a few hundred mappings. A multiple of every page size.
const mapSegment = 64 << 20

// mapLimit is the size up to which a file is read through mappings: past
// it, scans read it with pread. A mapped page a scan has read stays
// resident in the process (it is the page cache's page, reclaimable, but
// counted in the process's resident size), so the limit bounds what
// mapping adds to pkttap-web's resident size per file; and a capture that
// large is not scanned again and again from the cache, where mapping pays.
// A live capture's spool mapped while small is read through its mapped
// segments and with pread past them once it has outgrown the limit.
const mapLimit = 256 << 20

// indexMapLimit is mapLimit for an index, which a scan reads whole: 48
// bytes a packet, so that the index of a capture whose spool is too large
// to map (a million packets) is not mapped either.
const indexMapLimit = mapLimit / 8

// fileMap reads an append-only file (a spool or an index, which only grow
// while their capture is indexed) through read-only shared memory mappings
// of fixed-size segments, so that a filter scan reads the bytes it looks at
// where the page cache holds them instead of copying every byte into its
// own memory. Segment k maps the file's bytes [k*segLen, (k+1)*segLen) as
// soon as the file reaches into it; the mapping may run past the end of
// the file, which is never read past the size the file had when last looked
// at (the bytes the file gains later show through the same mapping). A
// read that straddles two segments, or that cannot be mapped (mapping is
// not supported, as on Windows, or failed), is left to the caller's pread.
//
// Readers acquire the map, read, and release it: slices of the mappings
// stay valid until then. close unmaps once no reader holds the map, so a
// store closed or removed while a scan reads its files does not pull the
// pages from under it. A file cut shorter underneath a mapping makes
// reading the cut pages fault (SIGBUS): readers read in goroutines guarded
// by guardFaults, which turns that into an error.
type fileMap struct {
	f      *os.File
	segLen int64 // a multiple of the page size
	limit  int64 // no segment is mapped once the file is larger

	mu     sync.Mutex
	segs   [][]byte // segs[k] maps segment k; nil until mapped
	size   int64    // the file's size when last looked at
	refs   int      // readers that may hold slices of the mappings
	closed bool
	off    bool // mapping is unsupported or failed: callers pread
}

// newFileMap returns a map of f in segments of segLen bytes, mapped as
// reads reach them while f is at most limit bytes long.
func newFileMap(f *os.File, segLen, limit int64) *fileMap {
	return &fileMap{f: f, segLen: segLen, limit: limit, off: !canMap}
}

// acquire counts a reader in. It reports false when the map is closed:
// the reader must not use it.
func (m *fileMap) acquire() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.refs++
	return true
}

// release counts a reader out: it holds no slice of the mappings any more.
// The last reader of a closed map unmaps it.
func (m *fileMap) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refs--
	if m.closed && m.refs == 0 {
		m.unmapLocked()
	}
}

// close takes no more readers, and unmaps the file at once when none holds
// the map, else when the last one releases it.
func (m *fileMap) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	if m.refs == 0 {
		m.unmapLocked()
	}
}

func (m *fileMap) unmapLocked() {
	for k, b := range m.segs {
		if b != nil {
			// An error here means b was no mapping: nothing to give back.
			_ = unmapFile(b)
			m.segs[k] = nil
		}
	}
	m.segs = nil
}

// segment returns the mapped bytes of the segment that holds the file's
// bytes [off, off+n), from the segment's start as far as the file reached
// when last looked at, and the file offset of its first byte. It returns
// nil when those bytes are not all in one segment, not (yet) in the file,
// or cannot be mapped: the caller then reads them with pread; with more
// false, the map will give no segment any more (mapping failed, or the map
// is closed), and the caller had better stop asking. The caller must have
// acquired the map.
func (m *fileMap) segment(off int64, n int) (base int64, b []byte, more bool) {
	if off < 0 || n < 0 || off > off+int64(n) {
		return 0, nil, true
	}
	k := off / m.segLen
	base = k * m.segLen
	end := off + int64(n)
	if end > base+m.segLen {
		return 0, nil, true // straddles two segments
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.off || m.closed {
		return 0, nil, false
	}
	if end > m.size {
		st, err := m.f.Stat()
		if err != nil {
			return 0, nil, true
		}
		m.size = st.Size()
		if end > m.size {
			return 0, nil, true
		}
	}
	for int64(len(m.segs)) <= k {
		m.segs = append(m.segs, nil)
	}
	if m.segs[k] == nil {
		if m.size > m.limit {
			return 0, nil, false // too large to map more of it: pread
		}
		seg, err := mapFile(m.f, base, int(m.segLen))
		if err != nil {
			m.off = true // out of address space or mappings: pread from now on
			return 0, nil, false
		}
		m.segs[k] = seg
	}
	valid := min(m.size-base, m.segLen)
	return base, m.segs[k][:valid:valid], true
}

// errMapFault is the error of a read of a mapped file that faulted: the
// file was cut shorter underneath the mapping.
var errMapFault = errors.New("capture file changed while it was read")

// guardFaults makes a memory fault in the calling goroutine, such as
// reading a mapping whose file was cut shorter, a panic instead of a crash,
// and returns the function that, deferred, recovers that panic into *errp
// and restores the goroutine's setting:
//
//	defer guardFaults(&err)()
//
// Other panics go on.
func guardFaults(errp *error) func() {
	old := debug.SetPanicOnFault(true)
	return func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			f, ok := r.(interface{ Addr() uintptr })
			if !ok {
				panic(r)
			}
			*errp = fmt.Errorf("%w (memory fault at %#x)", errMapFault, f.Addr())
		}
	}
}

// scanMaps are a store's spool and index as its filter scans read them:
// mapped from the first scan until the store is closed.
type scanMaps struct {
	mu           sync.Mutex
	segLen       int64 // 0 means mapSegment (tests make it small)
	limit        int64 // of both files; 0 means mapLimit and indexMapLimit (tests make it small)
	spool, index *fileMap
	closed       bool
}

// acquire returns the maps of spool and index, made the first time,
// acquired for a scan. A nil map means pread: the file is not open yet,
// or the store is closed.
func (sm *scanMaps) acquire(spool, index *os.File) (*fileMap, *fileMap) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if sm.closed {
		return nil, nil
	}
	segLen := sm.segLen
	if segLen == 0 {
		segLen = mapSegment
	}
	limit, indexLimit := sm.limit, sm.limit
	if limit == 0 {
		limit, indexLimit = mapLimit, indexMapLimit
	}
	get := func(m **fileMap, f *os.File, limit int64) *fileMap {
		if *m == nil && f != nil {
			*m = newFileMap(f, segLen, limit)
		}
		if *m == nil || !(*m).acquire() {
			return nil
		}
		return *m
	}
	return get(&sm.spool, spool, limit), get(&sm.index, index, indexLimit)
}

// release releases maps returned by acquire.
func (sm *scanMaps) release(maps ...*fileMap) {
	for _, m := range maps {
		if m != nil {
			m.release()
		}
	}
}

// close closes the maps: scans started later read with pread, and the
// files are unmapped once the scans reading them now are done.
func (sm *scanMaps) close() {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	sm.closed = true
	for _, m := range []*fileMap{sm.spool, sm.index} {
		if m != nil {
			m.close()
		}
	}
}
