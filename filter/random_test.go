package filter

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/pkttap/pkttap/filter/vm"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// exprGen generates random valid filter expressions from the common
// primitives, qualifier lists, arithmetic and boolean structure.
type exprGen struct{ r *rand.Rand }

func (g *exprGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *exprGen) host() string {
	if g.r.IntN(4) == 0 {
		return g.pick("2001:db8::1", "fe80::1", "::1")
	}
	return fmt.Sprintf("%d.%d.%d.%d", g.pick4(), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256))
}

func (g *exprGen) pick4() int { return []int{10, 192, 172, 127, 8, 1}[g.r.IntN(6)] }

func (g *exprGen) port() string {
	return g.pick("53", "80", "443", "22", "123", "500", "4500", "179", "http", "domain", "ssh", "1024")
}

func (g *exprGen) arith(depth int) string {
	if depth <= 0 || g.r.IntN(3) == 0 {
		switch g.r.IntN(4) {
		case 0:
			return fmt.Sprint(g.r.IntN(300))
		case 1:
			return "len"
		default:
			return fmt.Sprintf("%s[%d%s]", g.pick("ip", "tcp", "udp", "ether", "ip6", "icmp"), g.r.IntN(40),
				g.pick("", ":1", ":2", ":4"))
		}
	}
	if g.r.IntN(6) == 0 {
		return "(" + g.arith(depth-1) + ")"
	}
	op := g.pick("+", "-", "*", "&", "|", "<<", ">>", "^", "%", "/")
	r := g.arith(depth - 1)
	if op == "/" || op == "%" {
		r = fmt.Sprint(1 + g.r.IntN(9))
	}
	if op == "<<" || op == ">>" {
		r = fmt.Sprint(g.r.IntN(8))
	}
	return g.arith(depth-1) + " " + op + " " + r
}

func (g *exprGen) atom() string {
	switch g.r.IntN(20) {
	case 0:
		return g.pick("ip", "ip6", "tcp", "udp", "icmp", "arp", "icmp6", "sctp", "igmp", "pim", "esp", "ah")
	case 1:
		return g.pick("", "src ", "dst ", "src or dst ", "src and dst ") + "host " + g.host()
	case 2:
		return g.pick("", "ip ", "arp ") + "host " + g.host() + " or " + g.host()
	case 3:
		return g.pick("", "tcp ", "udp ") + g.pick("", "src ", "dst ") + "port " + g.port()
	case 4:
		a := g.r.IntN(2000)
		return g.pick("", "tcp ", "udp ") + fmt.Sprintf("portrange %d-%d", a, a+g.r.IntN(100))
	case 5:
		return g.pick("", "src ", "dst ") + "net " + g.pick("10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12", "10", "192.168", "2001:db8::/32", "fe80::/10")
	case 6:
		return "ether " + g.pick("src ", "dst ", "host ") + g.pick("00:11:22:33:44:55", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01")
	case 7:
		return g.pick("ether broadcast", "ether multicast", "ip multicast", "ip6 multicast", "broadcast", "multicast")
	case 8:
		return g.pick("vlan", "vlan 1", "vlan 100", "mpls", "mpls 16", "pppoes", "pppoed")
	case 9:
		return g.pick("less ", "greater ", "len > ", "len <= ") + fmt.Sprint(g.r.IntN(1600))
	case 10, 11, 12:
		return g.arith(2) + " " + g.pick("=", "!=", "<", "<=", ">", ">=") + " " + g.arith(1)
	case 13:
		return g.pick("ip", "ip6", "") + " proto " + g.pick("\\tcp", "\\udp", "47", "50", "58", "1", "89")
	case 14:
		return g.pick("tcp[tcpflags] & tcp-syn != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
			"icmp[icmptype] = icmp-echo", "icmp6[icmp6type] = icmp6-echo", "tcp[13] = 18")
	case 15:
		return g.pick("ip", "ip6", "") + " protochain " + g.pick("6", "17", "58", "50")
	case 16:
		return "port " + g.port() + " or " + g.port() + g.pick("", " or "+g.port())
	case 17:
		return g.pick("stp", "ipx", "netbeui", "iso", "llc", "decnet", "atalk", "aarp", "isis", "clnp")
	case 18:
		return g.pick("geneve", "geneve 5", "ether proto \\arp", "ether proto 0x88cc", "link proto 0x0806")
	}
	return "ip[" + fmt.Sprint(g.r.IntN(20)) + "] = " + fmt.Sprint(g.r.IntN(256))
}

func (g *exprGen) expr(depth int) string {
	if depth <= 0 || g.r.IntN(3) == 0 {
		a := g.atom()
		if g.r.IntN(6) == 0 {
			a = "not " + a
		}
		return a
	}
	l, r := g.expr(depth-1), g.expr(depth-1)
	if g.r.IntN(3) == 0 {
		r = "(" + r + ")"
	}
	if g.r.IntN(5) == 0 {
		l = "not (" + l + ")"
	}
	return l + " " + g.pick("and", "or", "&&", "||") + " " + r
}

// TestRandomExpressionsVersusLibpcap generates random expressions, asks
// tcpdump for libpcap's program (-O -ddd -y: unoptimized, because libpcap's
// optimizer sometimes drops a load that would reject a short packet and so
// changes a verdict; those cases are logged), and runs it and pkttap's on
// the same VM over the corpus packets of the link type: every packet must
// get the same return value, and an expression libpcap rejects must be
// rejected. PKTTAP_RANDOM_SEED varies the run (default: fixed seed).
func TestRandomExpressionsVersusLibpcap(t *testing.T) {
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	files := loadCorpus(t)
	byLT := map[pcapio.LinkType][]corpusPacket{}
	for _, cf := range files {
		byLT[cf.linkType] = append(byLT[cf.linkType], cf.packets...)
	}
	n := 200
	if testing.Short() {
		n = 40
	}
	g := &exprGen{r: rand.New(rand.NewPCG(uint64(randomSeed(t)), 7))}
	lts := []string{"EN10MB", "LINUX_SLL", "RAW", "NULL", "IEEE802_11", "LINUX_SLL2", "IEEE802_11_RADIO"}
	var agree, bothErr, weakerOpt, strongerOpt, sameUnopt int
	libpcapOptDiffers := map[string]bool{}
	for i := 0; i < n; i++ {
		expr := g.expr(2)
		ltName := lts[i%len(lts)]
		lt, _ := pcapio.LinkTypeFromName(ltName)
		cmd := exec.Command(tcpdump, "-ddd", "-y", ltName, "--", expr)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		p, perr := Compile(expr, Options{LinkType: lt})
		if err != nil {
			switch {
			case perr != nil:
				bothErr++
			case strings.Contains(stderr.String(), "expression rejects all packets"):
				// libpcap's optimizer proved it; ours did not: the program
				// must still reject every packet.
				m := p.Matcher()
				for j, pk := range byLT[lt] {
					if r := m.Run(pk.data, pk.wireLen); r != 0 {
						t.Errorf("%s %q: libpcap: expression rejects all packets; pkttap accepts packet %d", ltName, expr, j)
						break
					}
				}
				weakerOpt++
			default:
				t.Errorf("%s %q: libpcap rejects it (%s), pkttap compiles it", ltName, expr, strings.TrimSpace(stderr.String()))
			}
			continue
		}
		if perr != nil {
			if strings.Contains(perr.Error(), "expression rejects all packets") {
				// pkttap's optimizer proves what libpcap's does not: libpcap's
				// program must reject every packet.
				theirs := loadDDD(t, out)
				for j, pk := range byLT[lt] {
					if r := theirs.Run(pk.data, pk.wireLen); r != 0 {
						t.Errorf("%s %q: pkttap: expression rejects all packets; libpcap's program accepts packet %d", ltName, expr, j)
						break
					}
				}
				strongerOpt++
				continue
			}
			t.Errorf("%s %q: libpcap compiles it, pkttap: %v", ltName, expr, perr)
			continue
		}
		theirsOpt := loadDDD(t, out)
		unopt, err := exec.Command(tcpdump, "-O", "-ddd", "-y", ltName, "--", expr).Output()
		if err != nil {
			t.Fatalf("%s %q: tcpdump -O fails where tcpdump does not: %v", ltName, expr, err)
		}
		theirs := loadDDD(t, unopt)
		if np, err := Compile(expr, Options{LinkType: lt, NoOptimize: true}); err != nil {
			t.Errorf("%s %q: compiles optimized, not unoptimized: %v", ltName, expr, err)
		} else if np.Dump(3) != string(unopt) {
			t.Errorf("%s %q: unoptimized program differs from tcpdump -O -ddd:\npkttap:\n%s\nlibpcap:\n%s", ltName, expr, np.Dump(3), unopt)
		} else {
			sameUnopt++
		}
		ours := p.Matcher()
		ok := true
		for j, pk := range byLT[lt] {
			a, b := ours.Run(pk.data, pk.wireLen), theirs.Run(pk.data, pk.wireLen)
			if a != b {
				t.Errorf("%s %q: packet %d: pkttap %d, libpcap %d\npkttap:\n%s", ltName, expr, j, a, b, p)
				ok = false
				break
			}
			if c := theirsOpt.Run(pk.data, pk.wireLen); c != b && !libpcapOptDiffers[expr] {
				libpcapOptDiffers[expr] = true
				t.Logf("%s %q: packet %d: libpcap's optimizer changes its verdict from %d to %d (it drops loads that would reject a short packet)", ltName, expr, j, b, c)
			}
		}
		if ok {
			agree++
		}
	}
	t.Logf("random expressions: %d agree with libpcap on every packet, %d rejected by both, %d that libpcap's optimizer rejects as matching nothing match nothing in pkttap either, %d that pkttap rejects as matching nothing match nothing in libpcap's program either, of %d; libpcap's own optimizer changed the verdict of %d; %d unoptimized programs identical to libpcap's", agree, bothErr, weakerOpt, strongerOpt, n, len(libpcapOptDiffers), sameUnopt)
}

func loadDDD(t *testing.T, out []byte) *vm.VM {
	t.Helper()
	v, err := vm.New(parseDDD(t, string(out)))
	if err != nil {
		t.Fatalf("libpcap's program does not load: %v", err)
	}
	return v
}
