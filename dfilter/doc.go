// Package dfilter implements Wireshark 4.0's display-filter language over
// the typed fields of package dissect: "tcp.port == 443", "http.host
// contains \"example\"", "ip.addr == 10.0.0.0/8 && !dns".
//
// # The language
//
// A field or protocol name alone tests its presence. Comparisons are
// == != === !== ~= > < >= <= (and their word forms eq ne all_eq any_ne gt
// lt ge le), contains, and matches or ~ (a regular expression in Go's RE2
// syntax, matched without regard to case, as Wireshark 4.0 does); "x in
// {a, b, c..d}" and "x not in {…}" test sets and ranges. Terms combine with
// and && or || not !, and with parentheses; "and" binds tighter than "or".
// Values are integers (decimal, 0x hex, 0 octal, 'c'), strings with C
// escapes, byte strings (00:11:22, 00-11-22, 0011.22), booleans, IPv4 and
// IPv6 addresses with a CIDR prefix, and MAC addresses; a value takes the
// type of the field it is compared with, and one the field cannot hold is
// an error. Fields compare with fields of their kind (ip.src == ip.dst).
// Byte-like fields slice: [i:j] (start, length), [i-j] (start, end), [i],
// [-n], [i:], several ranges joined by commas. Integers take + - * / % and
// bitwise &, which alone tests for a non-zero result ("tcp.flags & 0x02").
// The functions are len count upper lower string max min abs.
//
// Fields that occur several times in a packet follow Wireshark: == and the
// other comparisons hold when any pair of values does; != holds when no
// pair is equal (ip.addr != X is !(ip.addr == X), but false without
// ip.addr); === when all pairs are equal; ~= and !== when any pair differs.
//
// # Errors
//
// [Compile] reports a fault as an *[Error] with its column, in tshark's
// words: an unknown field or protocol (with the closest known name), a
// value the field's type cannot hold, a missing parenthesis or value, a
// bad regular expression, a slice of a field that is not bytes.
//
// # Speed
//
// [Filter.Match] decodes only what the filter needs. A filter on the
// frame's own fields alone (frame.len, frame.cap_len, frame.number,
// frame.encap_type) decodes nothing. A filter on the common header fields
// (Ethernet, IPv4, IPv6, TCP and UDP addresses, ports, lengths, flags)
// reads them with dissect.Quick, without a tree, for every plain packet
// (Ethernet, Linux cooked, BSD loopback or raw IP links). Any other packet
// or filter is decoded with dissect.Options.DissectLayers, which builds
// the nodes of the layers that carry the filter's fields and nothing
// else: no labels, no columns, no other layer's fields. A filter that
// reads frame.protocols, data or the malformed marks gets the whole tree.
// TestMatchEqualsTree runs the shared set of expressions and this
// package's own both ways, and the whole tree, on every packet of the
// shared capture, and requires the same verdicts.
//
// # Why a packet matched
//
// The compiler keeps a source map: [Filter.Tree] is the evaluation tree,
// every node (and, or, not, each comparison, set membership and test,
// and the fields, values, slices, calls and operations in them) with the
// range of the expression it came from. [Filter.Trace] evaluates that
// tree on one packet with the closures Match runs, short-circuiting as
// Match does, and records each logical node's outcome, each entity's
// values (every occurrence, with the field and packet bytes it came
// from), and each leaf's comparisons pair by pair with the [Quantifier]
// (any, all, none) that gives the leaf's outcome from them. Match is not
// touched: a filter that is never traced costs nothing more. Package
// filter/explain puts a trace in words.
package dfilter
