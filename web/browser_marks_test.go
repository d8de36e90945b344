package web

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/pkttap/pkttap/internal/testenv"
	"github.com/pkttap/pkttap/pcapio"
)

// rowState is a JavaScript expression giving packet no's row in the list:
// its classes, background colour, and Info.
func rowState(no int) string {
	return fmt.Sprintf(`(() => { const r = document.querySelector('#list-rows .row[data-no="%d"]');
		return r ? [r.className, getComputedStyle(r).backgroundColor, r.querySelector('.c-info').textContent] : ['', '', '']; })()`, no)
}

// TestBrowserMarks (issue 19, Mark / ignore packets, packet comments,
// Export Specified Packets): Ctrl+M marks the selected row, which shows
// white on navy once the selection moves on; Ctrl+D ignores one, shown
// grey as "<Ignored>" with only its frame in the tree; Ctrl+Alt+C edits a
// comment, which the tree shows first; the export dialog writes the marked
// packets as pcapng, which tshark reads back with the comment.
func TestBrowserMarks(t *testing.T) {
	tshark := testenv.LookPath(t, "tshark", "tshark")
	ctx, _, _ := openInBrowser(t, 40)
	setViewport(t, ctx, 1600, 1000)
	dlDir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dlDir,
	}); err != nil {
		t.Fatal(err)
	}
	key := func(k string, mods chromedp.Modifier) {
		t.Helper()
		do1(t, ctx, chromedp.KeyEvent(k, chromedp.KeyModifiers(mods)))
	}
	selectRow := func(no int) {
		t.Helper()
		do1(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#list-rows .row[data-no="%d"] .c-no`, no))))
		waitJS(t, ctx, fmt.Sprintf("packet %d shown", no), fmt.Sprintf(`(document.querySelector('#list-rows .row.selected') || {dataset: {}}).dataset.no === '%d' && document.getElementById('tree').textContent.includes('Frame')`, no))
	}
	plain := evalJS[[]string](t, ctx, rowState(9))

	// Ctrl+M marks packet 3; the selection moves on and the row shows marked.
	selectRow(3)
	key("m", chromedp.ModifierCtrl)
	waitJS(t, ctx, "packet 3 marked", `document.querySelector('#list-rows .row[data-no="3"]').classList.contains('marked')`)
	key(kb.ArrowDown, 0)
	waitJS(t, ctx, "packet 4 selected", `(document.querySelector('#list-rows .row.selected') || {dataset: {}}).dataset.no === '4'`)
	marked := evalJS[[]string](t, ctx, rowState(3))
	if marked[1] != "rgb(0, 0, 143)" || marked[1] == plain[1] {
		t.Errorf("marked row 3: background %s (an unmarked row's: %s), want Wireshark's navy rgb(0, 0, 143)", marked[1], plain[1])
	}
	if got := evalJS[string](t, ctx, `document.getElementById('status-marks').textContent`); got != "Marked 1" {
		t.Errorf("status bar says %q, want Marked 1", got)
	}

	// Ctrl+D ignores packet 4: grey "<Ignored>", and only its frame in the tree.
	key("d", chromedp.ModifierCtrl)
	waitJS(t, ctx, "packet 4 ignored", `document.querySelector('#list-rows .row[data-no="4"]').classList.contains('ignored') &&
		document.querySelector('#tree .node[data-field="frame.ignored"]') !== null`)
	if got := evalJS[[]string](t, ctx, rowState(4)); got[2] != "<Ignored>" {
		t.Errorf("ignored row 4: Info %q, want <Ignored>", got[2])
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll('#tree > ul > li').length`); n != 1 {
		t.Errorf("ignored packet 4's tree has %d layers, want the frame alone", n)
	}
	// Ctrl+D again: dissected again.
	key("d", chromedp.ModifierCtrl)
	waitJS(t, ctx, "packet 4 not ignored", `!document.querySelector('#list-rows .row[data-no="4"]').classList.contains('ignored') &&
		document.querySelector('#tree .node[data-field="ip"]') !== null`)
	key("d", chromedp.ModifierCtrl)
	waitJS(t, ctx, "packet 4 ignored again", `document.querySelector('#list-rows .row[data-no="4"]').classList.contains('ignored')`)

	// Ctrl+Alt+C on packet 3: a comment, shown first in the tree.
	selectRow(3)
	key("c", chromedp.ModifierCtrl|chromedp.ModifierAlt)
	waitJS(t, ctx, "comment dialog", `document.getElementById('comment-dialog').open && document.activeElement.id === 'comment-text'`)
	const comment = "retransmitted? ask the team"
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("comment-text"), comment))
	screenshot(t, ctx, "marks-comment-1600x1000")
	do1(t, ctx, chromedp.Click(chromedp.ID("comment-save")))
	waitJS(t, ctx, "comment in the tree", fmt.Sprintf(`!document.getElementById('comment-dialog').open &&
		(document.querySelector('#tree > ul > li .label') || {}).textContent === 'Packet comments' &&
		document.querySelector('#tree .node[data-field="frame.comment"] .label').textContent === %q`, comment))

	// A comment too long for pcapng is refused in the dialog, with the reason.
	key("c", chromedp.ModifierCtrl|chromedp.ModifierAlt)
	waitJS(t, ctx, "comment dialog again", fmt.Sprintf(`document.getElementById('comment-dialog').open && document.getElementById('comment-text').value === %q`, comment))
	evalJS[bool](t, ctx, `(document.getElementById('comment-text').value = 'x'.repeat(70000), document.getElementById('comment-text').dispatchEvent(new Event('input')), true)`)
	do1(t, ctx, chromedp.Click(chromedp.ID("comment-save")))
	waitJS(t, ctx, "refusal shown", `!document.getElementById('comment-error').hidden && document.getElementById('comment-error').textContent.includes('65535')`)
	do1(t, ctx, chromedp.Click(chromedp.ID("comment-cancel")))

	// Mark packet 7 from the Edit menu, and leave the selection elsewhere.
	selectRow(7)
	do1(t, ctx, chromedp.Click(chromedp.ID("edit-button")))
	waitJS(t, ctx, "edit menu", `!document.getElementById('edit-menu').hidden`)
	evalJS[bool](t, ctx, `(document.querySelector('#edit-menu a[data-action="toggle-mark"]').click(), true)`)
	waitJS(t, ctx, "packet 7 marked", `document.querySelector('#list-rows .row[data-no="7"]').classList.contains('marked')`)
	// Next and previous mark (Ctrl+Shift+N, Ctrl+Shift+B).
	selectRow(1)
	selected := func(no int) string {
		return fmt.Sprintf(`(document.querySelector('#list-rows .row.selected') || {dataset: {}}).dataset.no === '%d'`, no)
	}
	for _, step := range []struct {
		key string
		to  int
	}{{"n", 3}, {"n", 7}, {"b", 3}, {"n", 7}} {
		key(step.key, chromedp.ModifierCtrl|chromedp.ModifierShift)
		waitJS(t, ctx, fmt.Sprintf("Ctrl+Shift+%s to packet %d", strings.ToUpper(step.key), step.to), selected(step.to))
	}
	// Past the last mark: the selection stays, and the status bar says so.
	key("n", chromedp.ModifierCtrl|chromedp.ModifierShift)
	waitJS(t, ctx, "no next mark", `document.getElementById('status-field').textContent === 'No next marked packet'`)
	if !evalJS[bool](t, ctx, selected(7)) {
		t.Error("Ctrl+Shift+N past the last mark moved the selection")
	}
	selectRow(9)
	shotSizes(t, ctx, "marks")

	// Export Specified Packets: the marked ones, as pcapng.
	setViewport(t, ctx, 1600, 1000)
	do1(t, ctx, chromedp.Click(chromedp.ID("download-button")))
	waitJS(t, ctx, "download menu", `!document.getElementById('download-menu').hidden`)
	evalJS[bool](t, ctx, `(document.querySelector('#download-menu a[data-action="export"]').click(), true)`)
	waitJS(t, ctx, "export dialog", `document.getElementById('export-dialog').open && document.getElementById('export-count').textContent === '40 packets will be exported (1 of them ignored)'`)
	do1(t, ctx, chromedp.Click(chromedp.ID("export-marked")))
	waitJS(t, ctx, "marked count", `document.getElementById('export-count').textContent === '2 packets will be exported'`)
	// A bad range is refused with the reason, before anything is written.
	do1(t, ctx, chromedp.SendKeys(chromedp.ID("export-range"), "1-3,,9"))
	waitJS(t, ctx, "range refused", `!document.getElementById('export-error').hidden && document.getElementById('export-error').textContent.includes('part 2 is empty') && document.getElementById('export-save').disabled`)
	do1(t, ctx, chromedp.Click(chromedp.ID("export-marked")))
	waitJS(t, ctx, "marked again", `document.getElementById('export-error').hidden && document.getElementById('export-count').textContent === '2 packets will be exported'`)
	do1(t, ctx, chromedp.SetValue(chromedp.ID("export-format"), "pcapng"))
	screenshot(t, ctx, "marks-export-1600x1000")
	do1(t, ctx, chromedp.Click(chromedp.ID("export-save")))
	file := waitDownload(t, dlDir, "ui-marked.pcapng")
	out, err := exec.Command(tshark, "-r", file, "-T", "fields", "-E", "separator=|", "-e", "frame.len", "-e", "frame.comment").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(file)
	got := readCapture(t, data)
	orig := readCapture(t, synthetic(t, pcapio.FormatPcapNg, 40))
	want := fmt.Sprintf("%d|%s\n%d|\n", orig[2].Length, comment, orig[6].Length)
	if string(out) != want || len(got) != 2 || !bytes.Equal(got[0].Data, orig[2].Data) || !bytes.Equal(got[1].Data, orig[6].Data) {
		t.Errorf("exported marked packets: tshark reads\n%s\nwant\n%s(%d packets)", out, want, len(got))
	}
}
