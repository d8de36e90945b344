package web

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/pkttap/pkttap/filter"
	"github.com/pkttap/pkttap/internal/samplegen"
	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// hoverOver moves the mouse onto the centre of the element sel (a CSS
// selector) as a user would, so the page gets real mouseover events.
func hoverOver(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	xy := evalJS[[]float64](t, ctx, fmt.Sprintf(`(() => {
		const e = document.querySelector(%q);
		e.scrollIntoView({block: 'nearest'});
		const r = e.getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2];
	})()`, sel))
	do1(t, ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, xy[0], xy[1]))
}

// hexMarks returns, for the bytes drawn in the hex pane, byte offset ->
// its hex text and whether it carries class cls.
const hexMarksJS = `Object.fromEntries(Array.from(document.querySelectorAll('#hex .hb[data-i]'), (e) => [e.dataset.i, e.textContent + ':' + e.classList.contains(%q)]))`

func hexMarked(t *testing.T, ctx context.Context, cls string) (marked []int, text map[int]string) {
	t.Helper()
	got := evalJS[map[string]string](t, ctx, fmt.Sprintf(hexMarksJS, cls))
	text = map[int]string{}
	for k, v := range got {
		i, _ := strconv.Atoi(k)
		hx, on, _ := strings.Cut(v, ":")
		text[i] = hx
		if on == "true" {
			marked = append(marked, i)
		}
	}
	slices.Sort(marked)
	return marked, text
}

// TestBrowserWhy (issue 16): apply "tcp port 443" to the sample capture,
// go to an HTTP packet the filter hides and ask why: the Why panel says it
// does not match, the expression's term is red and decides, and the bytes
// pane marks in red exactly the bytes of the comparison that decided (the
// destination port, 36-37, which hold 80) and tints every other byte the
// term read (ethertype, fragment field, protocol, source port); hovering
// one comparison marks its bytes alone, and the tree marks the field. A filter typed and not applied is
// explained on a selected packet too, and on the truncated packet the
// panel says which load fell off its end.
func TestBrowserWhy(t *testing.T) {
	ctx, _ := openSampleInBrowser(t)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), "tcp port 443"), chromedp.Click(chromedp.ID("apply-button")))
	waitJS(t, ctx, "filtered", `document.getElementById('status-count').textContent === 'Displayed 5 of 25'`)
	// Packet 5 is the SYN from 40001 to port 80: not displayed.
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("goto-input"), "5\n"))
	waitJS(t, ctx, "offer to explain packet 5", `!document.getElementById('why').hidden && document.getElementById('why-hidden') !== null && document.getElementById('why-hidden').textContent.includes('Packet 5 is not displayed')`)
	do1(t, ctx, chromedp.Click(chromedp.ID("why-hidden-open")))
	waitJS(t, ctx, "packet 5 explained", `document.getElementById('why-verdict') !== null && document.getElementById('why-verdict').textContent === '✗ Packet 5 does not match' && document.getElementById('hex').dataset.len === '58'`)
	if got := evalJS[string](t, ctx, `Array.from(document.querySelectorAll('#why-expr .why-term'), (e) => e.textContent + '|' + e.className).join(';')`); got != "tcp port 443|why-term o-false decides" {
		t.Errorf("expression terms: %q", got)
	}
	if got := evalJS[string](t, ctx, `document.querySelector('#list-rows .row.selected') ? 'selected row' : ''`); got != "" {
		t.Errorf("a hidden packet opened from the Why panel left a row selected in the list")
	}
	// The comparison that decided is the destination port's (bytes
	// 36-37, which hold 80): red. Every byte the term read is tinted: the
	// ethertype (0x0800), the fragment field, the protocol (6), the
	// source port (40001).
	bad, text := hexMarked(t, ctx, "why-bad")
	if fmt.Sprint(bad) != "[36 37]" {
		t.Fatalf("bytes marked as deciding the failure: %v, want the destination port, 36-37", bad)
	}
	if port := text[36] + text[37]; port != "0050" {
		t.Errorf("bytes 36-37 read %s, want the destination port 80", port)
	}
	read, _ := hexMarked(t, ctx, "why-read")
	if fmt.Sprint(read) != "[12 13 20 21 23 34 35 36 37]" {
		t.Errorf("bytes the term read: %v", read)
	}
	if text[12]+text[13] != "0800" || text[23] != "06" || text[34]+text[35] != fmt.Sprintf("%04x", 40001) {
		t.Errorf("ethertype %s%s, protocol %s, source port %s%s", text[12], text[13], text[23], text[34], text[35])
	}
	if ok, _ := hexMarked(t, ctx, "why-ok"); len(ok) != 0 {
		t.Errorf("bytes marked green on a packet the term rejects: %v", ok)
	}
	screenshot(t, ctx, "why-nomatch")

	// Hover the destination-port comparison: only its bytes are marked,
	// and the tree marks the Destination Port field.
	sel := evalJS[string](t, ctx, `(() => {
		const c = Array.from(document.querySelectorAll('#why-terms .why-check')).find((e) => e.textContent.startsWith('destination port'));
		c.id = 'picked-check';
		return c.textContent;
	})()`)
	hoverOver(t, ctx, "#picked-check")
	waitJS(t, ctx, "only the destination port marked", `Array.from(document.querySelectorAll('#hex .hb.why-read'), (e) => e.dataset.i).join(',') === '36,37'`)
	if !strings.Contains(sel, "✗") {
		t.Errorf("destination port comparison %q is not marked failed", sel)
	}
	field := evalJS[string](t, ctx, `Array.from(document.querySelectorAll('#tree .node.why-field'), (e) => e.dataset.field || e.textContent).join(',')`)
	if field != "tcp.dstport" {
		t.Errorf("tree fields marked for the destination port: %q", field)
	}
	if layer := evalJS[string](t, ctx, `Array.from(document.querySelectorAll('#tree .node.why-field-inside'), (e) => e.dataset.field).join(',')`); layer != "tcp" {
		t.Errorf("closed layers marked as holding the field: %q", layer)
	}

	// A filter typed but not applied explains the packet selected in the
	// list: packet 1 (ARP) is not IPv4.
	do1(t, ctx, chromedp.Click(chromedp.ID("filter-input")))
	evalJS[bool](t, ctx, `(document.getElementById('filter-input').value = '', true)`)
	do1(t, ctx, chromedp.Click(chromedp.ID("apply-button")))
	waitJS(t, ctx, "all packets", `document.getElementById('status-count').textContent === 'Displayed 25 of 25'`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), "udp and host 192.0.2.53"))
	do1(t, ctx, chromedp.Click(chromedp.CSS(`#list-rows .row[data-pos="2"]`)))
	waitJS(t, ctx, "typed filter explained", `document.getElementById('why-verdict') !== null && document.getElementById('why-verdict').textContent.startsWith('✓ Packet 3') ||
		document.getElementById('why-verdict') !== null && document.getElementById('why-verdict').textContent.startsWith('✗ Packet 3')`)
	if lbl := evalJS[string](t, ctx, `document.querySelector('#why .why-label').textContent`); lbl != "Filter in the bar (not applied)" {
		t.Errorf("label %q", lbl)
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll('#why-expr .why-term').length`); n != 2 {
		t.Errorf("%d terms drawn for two primitives", n)
	}
	// The top bar's Explorer link opens the explorer on that expression
	// and the capture.
	evalJS[bool](t, ctx, `(document.getElementById('explore-link').dispatchEvent(new Event('pointerdown')), true)`)
	if href := evalJS[string](t, ctx, `document.getElementById('explore-link').getAttribute('href')`); !strings.HasPrefix(href, "/explore?capture=") || !strings.HasSuffix(href, "&expr=udp+and+host+192.0.2.53") {
		t.Errorf("Explorer link %q", href)
	}

	// The truncated packet (96 of 1254 bytes captured): a load at TCP
	// payload byte 100 falls off its end.
	last := samplegen.SamplePackets()
	evalJS[bool](t, ctx, `(document.getElementById('filter-input').value = '', true)`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), "tcp[100] = 0x41"))
	waitJS(t, ctx, "valid", `document.getElementById('filter-input').classList.contains('valid')`)
	evalJS[bool](t, ctx, `(document.getElementById('goto-input').value = '', true)`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("goto-input"), fmt.Sprintf("%d\n", last)))
	waitJS(t, ctx, "fault shown", fmt.Sprintf(`document.getElementById('why-fault') !== null && document.getElementById('why-verdict').textContent === '✗ Packet %d does not match'`, last))
	fault := evalJS[string](t, ctx, `document.getElementById('why-fault').textContent`)
	if !strings.Contains(fault, "96") {
		t.Errorf("fault text %q does not name the 96 bytes captured", fault)
	}
	if cls := evalJS[string](t, ctx, `document.querySelector('#why-expr .why-term').className`); !strings.Contains(cls, "o-failed") {
		t.Errorf("truncated packet's term: %q", cls)
	}
	faultMarked, _ := hexMarked(t, ctx, "why-fault")
	if fmt.Sprint(faultMarked) != "[95]" {
		t.Errorf("bytes marked at the end of the truncated packet: %v, want its last, 95", faultMarked)
	}
	screenshot(t, ctx, "why-truncated")
}

// TestBrowserExplorer (issue 16): the Filter explorer on the sample
// capture shows pkttap's program as filter.Compile makes it, libpcap's as
// tcpdump -d prints it (the counts equal tcpdump's own), both kernels'
// limits, the count of matching packets with a link to them; hovering an
// instruction marks the part of the expression it implements, and
// hovering a part marks its instructions in the listing and the graph.
func TestBrowserExplorer(t *testing.T) {
	tcpdump := testenv.LookPath(t, "tcpdump", "tcpdump")
	ctx := newBrowser(t)
	_, ts := newTestServer(t, Config{})
	id := waitIndexed(t, ts, upload(t, ts, "sample.pcapng", sampleCapture).ID).ID
	const expr = "tcp port 443 and not host 198.51.100.7"
	do1(t, ctx, chromedp.EmulateViewport(1600, 1000), chromedp.Navigate(ts.URL+"/explore?capture="+id+"&expr="+strings.ReplaceAll(expr, " ", "+")))
	out, err := exec.Command(tcpdump, "-d", "-y", "EN10MB", "--", expr).Output()
	if err != nil {
		t.Fatalf("tcpdump -d: %v", err)
	}
	libLines := strings.Split(strings.TrimSpace(string(out)), "\n")
	opts := filter.FileOptions(nil, 0)
	opts.LinkType = pcapio.LinkTypeEthernet
	prog, err := filter.Compile(expr, opts)
	if err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "both programs", fmt.Sprintf(`document.querySelectorAll('#x-listing .x-insn').length === %d && document.querySelectorAll('#x-libpcap .x-insn').length === %d`, len(prog.Raw), len(libLines)))
	if got := evalJS[string](t, ctx, `document.getElementById('x-libpcap-count').textContent`); got != strconv.Itoa(len(libLines)) {
		t.Errorf("libpcap's count %s, tcpdump -d prints %d instructions", got, len(libLines))
	}
	if got := evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll('#x-libpcap .x-insn'), (e) => e.textContent)`); strings.Join(got, "\n") != strings.Join(libLines, "\n") {
		t.Errorf("libpcap's listing:\n%s\ntcpdump -d:\n%s", strings.Join(got, "\n"), strings.Join(libLines, "\n"))
	}
	if got := evalJS[string](t, ctx, `document.getElementById('x-ours-count').textContent`); got != strconv.Itoa(len(prog.Raw)) {
		t.Errorf("pkttap's count %s, want %d", got, len(prog.Raw))
	}
	ourLines := strings.Split(strings.TrimSpace(prog.String()), "\n")
	if got := evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll('#x-listing .x-insn'), (e) => e.querySelector('.x-pc').textContent + ' ' + e.querySelector('.x-code').textContent)`); strings.Join(got, "\n") != strings.Join(ourLines, "\n") {
		t.Errorf("pkttap's listing:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(ourLines, "\n"))
	}
	plain, err := filter.Compile(expr, filter.Options{LinkType: pcapio.LinkTypeEthernet, NoOptimize: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, ctx, `document.getElementById('x-ours-unopt').textContent`); !strings.HasPrefix(got, strconv.Itoa(len(plain.Raw))+" before optimizing") {
		t.Errorf("unoptimized size %q, want %d", got, len(plain.Raw))
	}
	if got := evalJS[string](t, ctx, `Array.from(document.querySelectorAll('#x-limits tr[data-kernel]'), (r) => Array.from(r.children, (c) => c.textContent).join('/')).join(';')`); got != "Linux/4,096/✓ fits/✓ fits;macOS and the BSDs/512/✓ fits/✓ fits" {
		t.Errorf("limits: %q", got)
	}
	// The graph: one line per instruction, jumps drawn.
	if n := evalJS[int](t, ctx, `document.querySelectorAll('#x-graph svg .x-line').length`); n != len(prog.Raw) {
		t.Errorf("graph has %d instruction lines, want %d", n, len(prog.Raw))
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll('#x-graph svg .x-edge.e-true').length`); n == 0 {
		t.Error("graph draws no true branch")
	}
	// The matches: the filter job's count, and a link to them.
	st := waitFilter(t, ts, id, expr)
	waitJS(t, ctx, "matches", fmt.Sprintf(`document.getElementById('x-match-count') !== null && document.getElementById('x-match-count').textContent === '%d' && document.getElementById('x-matches').dataset.done === 'true'`, st.Matched))
	if href := evalJS[string](t, ctx, `document.getElementById('x-show').getAttribute('href')`); href != "/c/"+id+"?filter="+strings.ReplaceAll(expr, " ", "%20") {
		t.Errorf("link to the matches: %s", href)
	}

	// Hover the instruction that compares the host: the source marks
	// "host 198.51.100.7", not the port.
	hostPC := -1
	for pc := range prog.Raw {
		if os := prog.Origins(pc); len(os) == 1 && os[0].Text == "host 198.51.100.7" && strings.Contains(ourLines[pc], "jeq") {
			hostPC = pc
			break
		}
	}
	if hostPC < 0 {
		t.Fatalf("no instruction of the host alone in\n%s", prog.Annotated())
	}
	hoverOver(t, ctx, fmt.Sprintf(`#x-listing .x-insn[data-pc="%d"]`, hostPC))
	waitJS(t, ctx, "source marked", `Array.from(document.querySelectorAll('#x-source .x-src-hl'), (e) => e.textContent).join('') === 'host 198.51.100.7'`)
	if n := evalJS[int](t, ctx, fmt.Sprintf(`document.querySelectorAll('#x-graph .x-line.x-hl[data-pc="%d"]').length`, hostPC)); n != 1 {
		t.Errorf("instruction %d not marked in the graph", hostPC)
	}
	// Hover "tcp port 443" in the source: exactly the instructions whose
	// origins hold it are marked.
	evalJS[bool](t, ctx, `(Array.from(document.querySelectorAll('#x-source .x-seg')).find((e) => e.textContent === 'tcp port 443').id = 'picked-seg', true)`)
	hoverOver(t, ctx, "#picked-seg")
	var want []string
	for pc := range prog.Raw {
		for _, o := range prog.Origins(pc) {
			if !o.Whole && o.Start <= 0 && o.End >= len("tcp port 443") {
				want = append(want, strconv.Itoa(pc))
				break
			}
		}
	}
	waitJS(t, ctx, "instructions of tcp port 443", fmt.Sprintf(`Array.from(document.querySelectorAll('#x-listing .x-insn.x-hl'), (e) => e.dataset.pc).join(',') === %q`, strings.Join(want, ",")))
	screenshot(t, ctx, "explorer")

	// A bad expression: the message, no program; libpcap's rejection too.
	evalJS[bool](t, ctx, `(document.getElementById('x-expr').value = '', true)`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("x-expr"), "tcp port"))
	waitJS(t, ctx, "error", `document.getElementById('x-expr').classList.contains('invalid') && /column \d+/.test(document.getElementById('x-msg').textContent) && document.querySelectorAll('#x-listing .x-insn').length === 0`)
}

// TestBrowserExplorerNoTcpdump: on a server without tcpdump the explorer
// says so where libpcap's program would be, and shows pkttap's.
func TestBrowserExplorerNoTcpdump(t *testing.T) {
	ctx := newBrowser(t)
	s, ts := newTestServer(t, Config{})
	s.libpcap.find = func() (string, error) { return "", exec.ErrNotFound }
	do1(t, ctx, chromedp.Navigate(ts.URL+"/explore?linktype=LINUX_SLL2&expr=udp+port+53"))
	waitJS(t, ctx, "note", `document.getElementById('x-libpcap-missing') !== null && document.querySelectorAll('#x-listing .x-insn').length > 0`)
	if note := evalJS[string](t, ctx, `document.getElementById('x-libpcap-missing').textContent`); !strings.Contains(note, "tcpdump is not installed on the server") {
		t.Errorf("note %q", note)
	}
	if got := evalJS[string](t, ctx, `document.getElementById('x-libpcap-count').textContent + '|' + document.getElementById('x-linktype').value + '|' + document.getElementById('x-matches-note').textContent`); !strings.HasPrefix(got, "–|LINUX_SLL2|Open the explorer from a capture") {
		t.Errorf("count, link type, matches: %q", got)
	}
}

// TestBrowserWhyDisplay: the Why panel explains a display filter as it
// explains a tcpdump expression, now that the server does (issue 16):
// under tcp.dstport == 443, packet 5 (a SYN to port 80) is not shown; the
// panel marks the term false and the destination port's bytes (36-37,
// which hold 80) as deciding, and names the field in the tree.
func TestBrowserWhyDisplay(t *testing.T) {
	ctx, _ := openSampleInBrowser(t)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("filter-input"), "tcp.dstport == 443"), chromedp.Click(chromedp.ID("apply-button")))
	waitJS(t, ctx, "filtered", `document.getElementById('status-count').textContent.startsWith('Displayed ') && !document.getElementById('status-count').textContent.startsWith('Displayed 25 ')`)
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("goto-input"), "5\n"))
	waitJS(t, ctx, "offer to explain packet 5", `document.getElementById('why-hidden') !== null && document.getElementById('why-hidden').textContent.includes('Packet 5 is not displayed')`)
	do1(t, ctx, chromedp.Click(chromedp.ID("why-hidden-open")))
	waitJS(t, ctx, "packet 5 explained", `document.getElementById('why-verdict') !== null && document.getElementById('why-verdict').textContent === '✗ Packet 5 does not match'`)
	if got := evalJS[string](t, ctx, `Array.from(document.querySelectorAll('#why-expr .why-term'), (e) => e.textContent + '|' + e.className).join(';')`); got != "tcp.dstport == 443|why-term o-false decides" {
		t.Errorf("expression terms: %q", got)
	}
	if msg := evalJS[string](t, ctx, `document.querySelector('#why .why-error') ? document.querySelector('#why .why-error').textContent : ''`); msg != "" {
		t.Errorf("the panel says %q", msg)
	}
	bad, text := hexMarked(t, ctx, "why-bad")
	if fmt.Sprint(bad) != "[36 37]" {
		t.Fatalf("bytes marked as deciding the failure: %v, want the destination port, 36-37", bad)
	}
	if port := text[36] + text[37]; port != "0050" {
		t.Errorf("bytes 36-37 read %s, want the destination port 80", port)
	}
	screenshot(t, ctx, "why-display-nomatch")
}
