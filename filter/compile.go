package filter

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/bpf"

	"github.com/pkttap/pkttap/filter/internal/bpfop"
	"github.com/pkttap/pkttap/filter/internal/bpfopt"
	"github.com/pkttap/pkttap/pcapio"
)

// Target says where a program will run, which changes how some primitives
// compile.
type Target int

const (
	// TargetFile is a userspace VM over captured packets (files, or live
	// packets filtered after capture): every field is read from the packet
	// bytes.
	TargetFile Target = iota
	// TargetLinuxSocket is a filter attached to a Linux packet socket. The
	// kernel strips the outer VLAN tag and keeps cooked-header fields out of
	// the data, so, as libpcap does, "vlan" tests SKF_AD_VLAN_TAG_PRESENT /
	// SKF_AD_VLAN_TAG and inbound/outbound/ifindex use SKF_AD_PKTTYPE /
	// SKF_AD_IFINDEX.
	TargetLinuxSocket
)

// DefaultSnaplen is the snap length used when Options.Snaplen is 0:
// pcapio.MaxSnaplen, the value accepted packets are truncated to, as
// libpcap's default.
const DefaultSnaplen = pcapio.MaxSnaplen

// Resolver turns host names into addresses at compile time. It makes
// compiling pure when the caller wants it to be (tests, servers).
type Resolver interface {
	// LookupHost returns the IPv4 and IPv6 addresses of name.
	LookupHost(name string) ([]netip.Addr, error)
}

// Options control compilation.
type Options struct {
	// LinkType is the link-layer header type of the packets; the package
	// doc lists those supported.
	LinkType pcapio.LinkType
	// Snaplen is what an accepting program returns; 0 means DefaultSnaplen
	// (pcapio.MaxSnaplen, 262144).
	Snaplen int
	// Target is where the program runs; see Target.
	Target Target
	// Resolver resolves host names; nil means the built-in names
	// ("localhost") and then the system's resolver.
	Resolver Resolver
	// NoOptimize returns the program as generated, shaped like libpcap's
	// unoptimized output (tcpdump -O).
	NoOptimize bool
	// SavefileByteOrder, when set, compiles the way libpcap does for a
	// capture file written in that byte order (pcap_open_offline): NULL's
	// address family word is compared in the file's byte order, "ip6" on
	// NULL and LOOP tests the BSD families 24, 28 and 30, and
	// inbound/outbound/ifindex are accepted only where the link type
	// records them. When nil, compilation is as tcpdump -y on a
	// little-endian host, for a live capture there.
	SavefileByteOrder binary.ByteOrder
	// LiveAFInet6 is the address family "ip6" compares the NULL or LOOP
	// header with when compiling for a live capture (SavefileByteOrder
	// nil): the capturing system's AF_INET6, as libpcap's live path uses
	// it. It is 10 on Linux (the default when zero), 30 on macOS
	// (AFInet6Darwin) and 24 for Npcap's loopback adapter on Windows
	// (AFInet6BSD: not Windows' own 23).
	LiveAFInet6 uint32
}

// Values of AF_INET6 in the NULL and LOOP headers of each system, for
// Options.LiveAFInet6. A capture file may hold any of the BSD values; one
// compiled for a file (Options.SavefileByteOrder) tests all three.
const (
	AFInet6Linux   = 10 // Linux
	AFInet6BSD     = 24 // NetBSD, OpenBSD, and Npcap's loopback adapter on Windows
	AFInet6FreeBSD = 28 // FreeBSD
	AFInet6Darwin  = 30 // macOS and the other Darwin systems
)

// Program is a compiled filter: classic BPF, validated (every jump in
// range, ending in a return, at most 4096 instructions).
type Program struct {
	// Instructions is the program as x/net/bpf instructions.
	Instructions []bpf.Instruction
	// Raw is the program in its encoded form, ready for a kernel or a VM.
	Raw []bpf.RawInstruction
	// Expr is the expression the program was compiled from.
	Expr string
	// LinkType is the link type it was compiled for.
	LinkType pcapio.LinkType
	// Snaplen is the value it returns for an accepted packet.
	Snaplen uint32

	srcmap *sourceMap // see Origins
}

// MaxDarwinInstructions is the longest program macOS's BPF accepts.
const MaxDarwinInstructions = 512

// FitsDarwin reports whether the program is short enough for macOS.
func (p *Program) FitsDarwin() bool { return len(p.Raw) <= MaxDarwinInstructions }

// Compile compiles a tcpdump/libpcap filter expression (pcap-filter(7)) to
// classic BPF. An empty or all-blank expression accepts every packet.
// Errors are *Error, with the column of the fault.
func Compile(expr string, opts Options) (prog *Program, err error) {
	snaplen := uint32(DefaultSnaplen)
	if opts.Snaplen < 0 {
		return nil, &Error{Expr: expr, Column: 1, Msg: fmt.Sprintf("snaplen %d is negative", opts.Snaplen)}
	}
	if opts.Snaplen > 0 {
		snaplen = uint32(opts.Snaplen)
	}
	tree, err := parse(expr)
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			fe.Expr = expr
		}
		return nil, err
	}
	c := &compiler{opts: opts, snaplen: snaplen, expr: expr, srcmap: newSourceMap(expr)}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(semError)
			if !ok {
				panic(r)
			}
			prog, err = nil, &Error{Expr: expr, Column: se.pos + 1, Msg: se.msg}
		}
	}()
	c.initLinkType()
	var root *block
	if tree == nil {
		root = c.newBlock(opRetK, snaplen)
	} else {
		b := c.gen(tree)
		c.insertComputeVLOffsets(b.head)
		if c.linktype == pcapio.LinkTypePPI {
			// the packet must carry 802.11 (DLT 105, little-endian); like
			// libpcap, not checked once pppoes or geneve changed the
			// current link layer
			ppi := c.newBlock(bpfop.ClassJMP|bpfop.OpJEQ|bpfop.SrcK, bits.ReverseBytes32(105))
			ppi.stmts = []*stmt{c.newStmt(bpfop.ClassLD|bpfop.SizeW|bpfop.ModeABS, 4)}
			genAnd(ppi, b)
		}
		root = finish(b, snaplen)
	}
	raw, srcs, err := c.assemble(root, tree == nil)
	if err != nil {
		return nil, &Error{Expr: expr, Column: 1, Msg: err.Error()}
	}
	if opts.Target == TargetLinuxSocket && (opts.LinkType == pcapio.LinkTypeLinuxSLL || opts.LinkType == pcapio.LinkTypeLinuxSLL2) {
		if err := fixCookedOffsets(raw, opts.LinkType); err != nil {
			return nil, &Error{Expr: expr, Column: 1, Msg: err.Error()}
		}
	}
	// Extension loads without an x/net/bpf type come back as
	// RawInstruction values, which is still a faithful program.
	ins, _ := bpf.Disassemble(raw)
	c.srcmap.srcs = srcs
	return &Program{Instructions: ins, Raw: raw, Expr: expr, LinkType: opts.LinkType, Snaplen: snaplen, srcmap: c.srcmap}, nil
}

// assemble turns the block graph into the final program: optimized and
// laid out by bpfopt, or, when the program is not optimized (on request,
// or because, as in libpcap, it holds code the optimizer must not touch),
// laid out exactly as libpcap lays out such programs.
//
// It also returns each instruction's origin set in c.srcmap.
func (c *compiler) assemble(root *block, empty bool) ([]bpf.RawInstruction, []uint16, error) {
	tooComplex := func(size string) error {
		return fmt.Errorf("expression too complex: it compiles to %s, more than the %d classic BPF allows", size, bpfop.MaxInsns)
	}
	if c.opts.NoOptimize || c.noOptimize {
		raw, srcs, err := layoutLibpcap(root, bpfop.MaxInsns, c.srcmap.whole(), &c.srcmap.exits)
		var tl *tooLongError
		if errors.As(err, &tl) {
			return nil, nil, tooComplex(fmt.Sprintf("at least %d instructions", tl.n))
		}
		if err != nil {
			return nil, nil, fmt.Errorf("cannot lay out the program: %w", err)
		}
		if len(raw) > bpfop.MaxInsns {
			return nil, nil, tooComplex(fmt.Sprintf("%d instructions", len(raw)))
		}
		insns := make([]bpfopt.Insn, len(raw))
		for i, r := range raw {
			insns[i] = bpfopt.Insn{Op: r.Op, K: r.K, Jt: int(r.Jt), Jf: int(r.Jf)}
		}
		if err := bpfopt.Validate(insns); err != nil {
			return nil, nil, fmt.Errorf("invalid program: %w", err)
		}
		return raw, srcs, nil
	}
	// The optimizer's budget bounds the time and memory any expression
	// costs: one too long to fit is refused as soon as that is clear.
	insns, err := bpfopt.OptimizeMapped(linearize(root, c.srcmap.whole()), bpfop.MaxInsns, c.srcmap.table)
	var tl *bpfopt.TooLongError
	if errors.As(err, &tl) {
		if tl.Final {
			return nil, nil, tooComplex(fmt.Sprintf("%d instructions", tl.Len))
		}
		return nil, nil, tooComplex(fmt.Sprintf("%d instructions %s", tl.Len, tl.Reason))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cannot optimize the program: %w", err)
	}
	c.pos = 0
	c.checkFolding(insns)
	if !empty && rejectsAll(insns) && !c.hasUnsignedTautology(root) {
		return nil, nil, errors.New("expression rejects all packets")
	}
	raw, srcs, err := bpfopt.AssembleMapped(insns)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot assemble the program: %w", err)
	}
	return raw, srcs, nil
}

// insertComputeVLOffsets puts at the start of the program the code that
// computes variable link-layer offsets (802.11 header length; the VLAN
// offsets of a live-socket program), as libpcap's insert_compute_vloffsets.
func (c *compiler) insertComputeVLOffsets(b *block) {
	if c.offLinkPL.reg != -1 && c.offLinkHdr.variable && c.offLinkHdr.reg == -1 {
		c.offLinkHdr.reg = c.allocReg()
	}
	var s []*stmt
	outer := c.opts.LinkType
	if outer == pcapio.LinkTypeIEEE802_11Radio || outer == pcapio.LinkTypePPI {
		s = c.loadRadiotapLen() // the PPI header length sits where radiotap's does
	}
	if outer == pcapio.LinkTypeIEEE802_11 || outer == pcapio.LinkTypeIEEE802_11Radio || outer == pcapio.LinkTypePPI {
		if c.offLinkPL.reg != -1 {
			b.stmts = c.load80211HeaderLen(s, b.stmts)
			return
		}
	}
	if s == nil && c.isVLANVLOffset {
		if c.offLinkPL.reg == -1 {
			c.offLinkPL.reg = c.allocReg()
		}
		if c.offLinkType.reg == -1 {
			c.offLinkType.reg = c.allocReg()
		}
		s = []*stmt{
			c.newStmt(bpfop.ClassLD|bpfop.ModeIMM, 0),
			c.newStmt(bpfop.ClassST, uint32(c.offLinkPL.reg)),
			c.newStmt(bpfop.ClassST, uint32(c.offLinkType.reg)),
		}
	}
	if s != nil {
		b.stmts = append(s, b.stmts...)
	}
}

// lookupHost resolves a host name with the configured resolver.
func (c *compiler) lookupHost(name string) []netip.Addr {
	if c.opts.Resolver != nil {
		addrs, err := c.opts.Resolver.LookupHost(name)
		if err != nil || len(addrs) == 0 {
			c.errorf("unknown host '%s' (%s)", name, resolveReason(err))
		}
		return addrs
	}
	switch strings.ToLower(name) {
	case "localhost":
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}
	case "ip6-localhost", "ip6-loopback":
		return []netip.Addr{netip.IPv6Loopback()}
	}
	addrs, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", name)
	if err != nil || len(addrs) == 0 {
		c.errorf("unknown host '%s' (%s)", name, resolveReason(err))
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs
}

func resolveReason(err error) string {
	if err == nil {
		return "the name has no addresses"
	}
	return "cannot resolve it: " + err.Error()
}

// rejectsAll reports whether every return of prog returns 0, which libpcap
// reports as "expression rejects all packets".
func rejectsAll(prog []bpfopt.Insn) bool {
	for _, in := range prog {
		if bpfop.Class(in.Op) == bpfop.ClassRET && (in.Op != opRetK || in.K != 0) {
			return false
		}
	}
	return true
}
