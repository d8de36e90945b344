package filter

// The parser builds a small syntax tree; the code generator walks it in
// source order (which matters: vlan, mpls, pppoes and geneve change the
// offsets used by everything after them, as in libpcap).

// Qualifier values, as in libpcap (Q_DEFAULT is 0 for every field).
const (
	qDefault = iota
	// address types
	qHost
	qNet
	qPort
	qGateway
	qProto
	qProtochain
	qPortrange
)

// Direction qualifiers.
const (
	dDefault = iota
	dSrc
	dDst
	dOr
	dAnd
	dAddr1
	dAddr2
	dAddr3
	dAddr4
	dRA
	dTA
)

// qual is the three qualifiers in front of an id: protocol, direction and
// address type. proto holds a protocol keyword's canonical name ("" for
// none); qerr (libpcap's undefined qualifier) has undef set.
type qual struct {
	proto string
	dir   int
	addr  int
	undef bool
}

// node is a boolean expression.
type node interface{ nodePos() int }

type andNode struct {
	l, r node
}

type orNode struct {
	l, r node
}

type notNode struct {
	x   node
	pos int
}

// idNode is an operand with its (possibly inherited) qualifiers.
type idNode struct {
	q    qual
	kind tokKind // tokID, tokHID, tokHID6, tokEID, tokAID, tokNum
	text string
	num  uint32
	// for net/len and net mask: maskLen >= 0 means "/len", mask != "" means "mask M".
	hasLen  bool
	maskLen uint32
	mask    string
	pos     int
	// start and end delimit the source of the primitive: its own
	// qualifiers (if any) through the operand.
	start, end int
}

// protoNode is a bare protocol name: "tcp", "ip6", "l1".
type protoNode struct {
	proto string
	pos   int
	end   int
}

// relNode is "arth relop arth".
type relNode struct {
	op    string // ">", ">=", "=", "<=", "<", "!="
	l, r  arth
	pos   int
	opPos int
	end   int
}

// otherNode is a primitive with its own keyword: broadcast, multicast,
// less, greater, byte, inbound, outbound, ifindex, vlan, mpls, pppoed,
// pppoes, geneve, llc, and the 802.11 type/subtype/dir tests.
type otherNode struct {
	kind   string // the keyword
	proto  string // the protocol qualifier in front, if any
	num    uint32
	hasNum bool
	num2   uint32  // byte: the second number; 802.11: the mask
	op     string  // byte: the operator
	name   string  // llc: the subtype name
	args   []token // 802.11 type/subtype/dir: the operand tokens
	pos    int
	end    int
}

func (n *andNode) nodePos() int   { return n.l.nodePos() }
func (n *orNode) nodePos() int    { return n.l.nodePos() }
func (n *notNode) nodePos() int   { return n.pos }
func (n *idNode) nodePos() int    { return n.pos }
func (n *protoNode) nodePos() int { return n.pos }
func (n *relNode) nodePos() int   { return n.pos }
func (n *otherNode) nodePos() int { return n.pos }

// arth is an arithmetic expression.
type arth interface{ arthPos() int }

type numArth struct {
	v   uint32
	pos int
}

type loadArth struct {
	proto string
	idx   arth
	size  uint32
	pos   int
}

type binArth struct {
	op   string
	l, r arth
	pos  int
}

type negArth struct {
	x   arth
	pos int
}

type lenArth struct{ pos int }

func (a *numArth) arthPos() int  { return a.pos }
func (a *loadArth) arthPos() int { return a.pos }
func (a *binArth) arthPos() int  { return a.l.arthPos() }
func (a *negArth) arthPos() int  { return a.pos }
func (a *lenArth) arthPos() int  { return a.pos }
