package pcapio

import (
	"fmt"
	"math/bits"
	"time"
)

// Interface describes one capture interface: the pcapng Interface
// Description Block, or the file header of a classic pcap file.
type Interface struct {
	// LinkType is the link-layer header type of the interface's packets.
	LinkType LinkType
	// Name is the interface name (if_name), e.g. "eth0".
	Name string
	// Description is a free-text description (if_description).
	Description string
	// Comment is the block's opt_comment, if any.
	Comment string
	// Filter is the capture filter string (if_filter), if recorded as text.
	Filter string
	// OS is the operating system of the capturing machine (if_os).
	OS string
	// Hardware describes the interface hardware (if_hardware).
	Hardware string
	// Speed is the interface speed in bits per second (if_speed), 0 if unknown.
	Speed uint64
	// Snaplen is the maximum number of bytes captured per packet; 0 means
	// no limit.
	Snaplen uint32
	// TSResolution is the timestamp resolution (if_tsresol). Interfaces read
	// from a file always carry the resolution the file used; for a writer,
	// the zero value means nanoseconds.
	TSResolution TSResolution
	// TSOffset is a signed number of seconds added to every timestamp
	// (if_tsoffset).
	TSOffset int64
	// FCSLen is the number of frame check sequence bytes at the end of each
	// packet (if_fcslen, or the FCS bits of a pcap header), 0 if none or
	// unknown.
	FCSLen int
}

// TSResolution is a timestamp resolution encoded as the pcapng if_tsresol
// byte: with the high bit clear, a timestamp unit is 10^-n seconds; with it
// set, 2^-n seconds, where n is the low 7 bits.
type TSResolution uint8

// Common timestamp resolutions.
const (
	TSResolutionMicro TSResolution = 6 // 10^-6 s, the pcapng default
	TSResolutionNano  TSResolution = 9 // 10^-9 s
)

// IsBinary reports whether the resolution is a negative power of 2.
func (r TSResolution) IsBinary() bool { return r&0x80 != 0 }

// Exponent returns n of 10^-n or 2^-n.
func (r TSResolution) Exponent() int { return int(r & 0x7f) }

// Valid reports whether the resolution can be represented: at most 10^-19
// or 2^-63, so that a second holds at most 2^64 units.
func (r TSResolution) Valid() bool {
	if r.IsBinary() {
		return r.Exponent() <= 63
	}
	return r.Exponent() <= 19
}

// UnitsPerSecond returns how many timestamp units make a second (10^n or
// 2^n), or 0 when the resolution is not Valid.
func (r TSResolution) UnitsPerSecond() uint64 {
	if !r.Valid() {
		return 0
	}
	if r.IsBinary() {
		return 1 << r.Exponent()
	}
	u := uint64(1)
	for range r.Exponent() {
		u *= 10
	}
	return u
}

// String returns "10^-6 s" or "2^-20 s".
func (r TSResolution) String() string {
	if r.IsBinary() {
		return fmt.Sprintf("2^-%d s", r.Exponent())
	}
	return fmt.Sprintf("10^-%d s", r.Exponent())
}

// tsConv converts timestamp units to time.Time for one interface.
type tsConv struct {
	perSec uint64 // units per second, never 0
	offset int64  // seconds added (if_tsoffset)
}

func newTSConv(res TSResolution, offset int64) tsConv {
	return tsConv{perSec: res.UnitsPerSecond(), offset: offset}
}

// time converts a count of units since the epoch. Fractions of a
// nanosecond are truncated; binary resolutions are converted exactly with
// 128-bit arithmetic.
func (c tsConv) time(units uint64) time.Time {
	var sec, nsec uint64
	switch c.perSec {
	case 1_000_000:
		sec, nsec = units/1_000_000, units%1_000_000*1000
	case 1_000_000_000:
		sec, nsec = units/1_000_000_000, units%1_000_000_000
	default:
		sec = units / c.perSec
		frac := units % c.perSec
		hi, lo := bits.Mul64(frac, 1_000_000_000)
		nsec, _ = bits.Div64(hi, lo, c.perSec) // frac < perSec, so hi < perSec: no overflow
	}
	return time.Unix(int64(sec)+c.offset, int64(nsec)).UTC()
}

// units converts a time to units since the epoch for writing, rounding
// down to the resolution.
func (c tsConv) units(t time.Time) (uint64, error) {
	sec := t.Unix() - c.offset
	nsec := uint64(t.Nanosecond())
	if sec < 0 {
		return 0, fmt.Errorf("timestamp %s is before the epoch (plus the interface's offset)", t.UTC().Format(time.RFC3339Nano))
	}
	hi, whole := bits.Mul64(uint64(sec), c.perSec)
	if hi != 0 {
		return 0, fmt.Errorf("timestamp %s does not fit in 64 bits at %d units per second", t.UTC().Format(time.RFC3339Nano), c.perSec)
	}
	fh, fl := bits.Mul64(nsec, c.perSec)
	frac, _ := bits.Div64(fh, fl, 1_000_000_000)
	u, carry := bits.Add64(whole, frac, 0)
	if carry != 0 {
		return 0, fmt.Errorf("timestamp %s does not fit in 64 bits at %d units per second", t.UTC().Format(time.RFC3339Nano), c.perSec)
	}
	return u, nil
}
