// The packet bytes pane. It is virtual like the list: #hex holds one block
// as tall as all the packet's rows (--hex-row-h each), padded down to the
// rows in view, which are the only ones in the DOM. The selected field's
// range and the hovered byte are applied to each row as it is drawn, so
// selecting any field costs O(rows in view).
import { HEX_MARGIN, MAX_HEX_BYTES, hexRowHeight } from './config.js';
import { fmtCount } from './format.js';
import { S } from './state.js';
import { deepestNode, selectNode, selectedField } from './tree.js';
import { $, placeholder } from './ui.js';

const hex = $('hex');
const pane = $('bytes-pane');

const H = {
  bin: '',             // the shown bytes, one char per byte (atob)
  n: 0,                // number of shown bytes
  rowsEl: null,        // the block of all rows
  first: -1,           // first row drawn
  last: -1,            // row after the last drawn
  hlOff: 0, hlLen: 0,  // the selected field's bytes
  hov: -1,             // the byte under the mouse
  src: 0,              // the bytes shown: the packet's (0) or S.pkt.sources[src-1]
  marks: [],           // extra byte marks, [{first, last, cls}] (markBytes)
  markSet: new Set(),  // every class a mark has given
};

// The tabs under the bytes pane's note, one per byte source, as
// Wireshark's "Frame" and "Reassembled IPv4" tabs; only shown when a
// packet has more than its own bytes.
const tabs = document.createElement('div');
tabs.id = 'bytes-tabs';
tabs.className = 'bytes-tabs';
tabs.setAttribute('role', 'tablist');
tabs.hidden = true;
$('bytes-note').after(tabs);

// markClasses returns the classes the marks give byte i (' a b' or '').
function markClasses(i) {
  let c = '';
  if (H.src) return c; // marks are the packet's own bytes
  for (const m of H.marks) if (i >= m.first && i <= m.last) c += ' ' + m.cls;
  return c;
}

/** clearHex empties the pane (no packet selected). */
export function clearHex() {
  H.rowsEl = null; H.bin = ''; H.n = 0; H.src = 0;
  tabs.hidden = true; tabs.textContent = '';
  placeholder(hex, 'bytes-empty', S.cur ? 'Its bytes appear here: click a byte to find its field.' : '');
  $('bytes-note').hidden = true;
}

/** renderHex shows the selected packet's bytes (those of the selected field's source). */
export function renderHex() {
  H.src = selectedField().src || 0;
  H.marks = [];
  showSource();
}

// renderTabs draws a tab per byte source of the packet, H.src selected.
function renderTabs() {
  const p = S.pkt;
  tabs.textContent = '';
  tabs.hidden = !p || !p.sources || !p.sources.length;
  if (tabs.hidden) return;
  const names = ['Frame (' + fmtCount(atob(p.data || '').length) + ' bytes)', ...p.sources.map((x) => x.name)];
  names.forEach((name, k) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'bytes-tab';
    b.setAttribute('role', 'tab');
    b.setAttribute('aria-selected', String(k === H.src));
    b.dataset.src = String(k);
    b.textContent = name;
    tabs.append(b);
  });
}

// showSource draws the bytes of source H.src of the selected packet.
function showSource() {
  hex.textContent = '';
  H.rowsEl = null; H.first = H.last = -1; H.hlLen = 0; H.hov = -1;
  const p = S.pkt;
  renderTabs();
  if (!p) { H.bin = ''; H.n = 0; return; }
  const src = H.src > 0 && p.sources && p.sources[H.src - 1];
  if (!src) H.src = 0;
  const bin = atob((src ? src.data : p.data) || '');
  const n = Math.min(bin.length, MAX_HEX_BYTES);
  const note = $('bytes-note');
  const notes = [];
  if (p.truncated && !src) notes.push('Truncated packet: ' + fmtCount(p.caplen) + ' of ' + fmtCount(p.length) + ' bytes were captured.');
  if (bin.length > n) notes.push('Showing the first ' + fmtCount(n) + ' bytes.');
  note.textContent = notes.join(' ');
  note.hidden = !notes.length;
  H.bin = bin; H.n = n;
  const rows = document.createElement('div');
  rows.className = 'hex-rows';
  rows.style.height = Math.ceil(n / 16) * hexRowHeight() + 'px';
  hex.append(rows);
  hex.dataset.len = String(n);
  H.rowsEl = rows;
  // A new packet shows from its start, or at the field still selected in
  // the tree (renderTree selects it again before the bytes are drawn).
  pane.scrollTop = 0;
  const sel = selectedField();
  if ((sel.src || 0) === H.src) highlight(sel.off, sel.len, H.src);
}

// renderHexRows draws the rows in view of the bytes pane (plus a margin)
// when they are not the ones drawn already.
function renderHexRows() {
  const rows = H.rowsEl;
  if (!rows || !rows.isConnected) return;
  const rh = hexRowHeight();
  const total = Math.ceil(H.n / 16);
  const top = pane.scrollTop - rows.offsetTop;
  const first = Math.max(0, Math.min(total, Math.floor(top / rh) - HEX_MARGIN));
  const last = Math.max(first, Math.min(total, Math.ceil((top + pane.clientHeight) / rh) + HEX_MARGIN));
  if (first === H.first && last === H.last) return;
  H.first = first; H.last = last;
  const frag = document.createDocumentFragment();
  for (let r = first; r < last; r++) frag.append(hexRow(r * 16));
  rows.textContent = '';
  rows.style.paddingTop = first * rh + 'px';
  rows.append(frag);
}

// hexRow builds the row of the 16 bytes from off: offset, hex, ASCII,
// each byte marked when selected or hovered.
function hexRow(off) {
  const bin = H.bin, n = H.n;
  const hlEnd = H.hlOff + H.hlLen;
  const line = document.createElement('div');
  line.className = 'hr';
  const o = document.createElement('span');
  o.className = 'off';
  o.textContent = off.toString(16).padStart(8, '0');
  line.append(o);
  const hx = document.createElement('span');
  const as = document.createElement('span');
  as.className = 'ascii';
  const bar1 = document.createElement('span');
  bar1.className = 'bar';
  bar1.textContent = '|';
  as.append(bar1);
  for (let k = 0; k < 16; k++) {
    const i = off + k;
    if (k === 8) { const gp = document.createElement('span'); gp.className = 'gap'; hx.append(gp); }
    const b = document.createElement('span');
    if (i < n) {
      const a = document.createElement('span');
      const c = bin.charCodeAt(i);
      const cls = (i >= H.hlOff && i < hlEnd ? ' hl' : '') + (i === H.hov ? ' hov' : '') + markClasses(i);
      b.className = 'hb' + cls;
      a.className = 'ab' + cls;
      b.textContent = c.toString(16).padStart(2, '0');
      b.dataset.i = a.dataset.i = String(i);
      a.textContent = c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
      as.append(a);
    } else {
      b.className = 'hb';
      b.textContent = '  ';
    }
    hx.append(b);
  }
  const bar2 = document.createElement('span');
  bar2.className = 'bar';
  bar2.textContent = '|';
  as.append(bar2);
  line.append(hx, as);
  return line;
}

// markHex sets the classes of the drawn bytes from the selected range and
// the hovered byte.
function markHex() {
  if (!H.rowsEl) return;
  const hlEnd = H.hlOff + H.hlLen;
  for (const el of H.rowsEl.querySelectorAll('[data-i]')) {
    const i = +el.dataset.i;
    el.classList.toggle('hl', i >= H.hlOff && i < hlEnd);
    el.classList.toggle('hov', i === H.hov);
    for (const c of H.markSet) el.classList.remove(c);
    for (const c of markClasses(i).split(' ')) if (c) el.classList.add(c);
  }
}

/**
 * markBytes marks runs of bytes with classes of their own, beside the
 * selected field's highlight: marks are [{first, last, cls}] (offsets
 * inclusive; [] clears them). With scroll, the bytes pane scrolls, as
 * little as it can, to show the first marked byte. A new packet clears
 * them.
 */
export function markBytes(marks, scroll = false) {
  for (const m of marks) for (const c of m.cls.split(' ')) if (c) H.markSet.add(c);
  H.marks = marks;
  if (!H.rowsEl) return;
  const first = Math.min(...marks.map((m) => m.first));
  if (scroll && marks.length && first < H.n) {
    const rh = hexRowHeight();
    const y = H.rowsEl.offsetTop + Math.floor(first / 16) * rh;
    if (y < pane.scrollTop || y + rh > pane.scrollTop + pane.clientHeight) pane.scrollTop = Math.max(0, y - rh);
  }
  renderHexRows();
  markHex();
}

/**
 * highlight marks the bytes off..off+len-1 and scrolls the bytes pane, as
 * little as it can, to show the first of them.
 */
export function highlight(off, len, src = 0) {
  if (src !== H.src && S.pkt) { // the field's bytes are in another tab
    H.src = src;
    showSource();
  }
  H.hlOff = off; H.hlLen = len;
  if (!H.rowsEl) return;
  if (len && off < H.n) {
    const rh = hexRowHeight();
    const y = H.rowsEl.offsetTop + Math.floor(off / 16) * rh;
    if (y < pane.scrollTop) pane.scrollTop = y;
    else if (y + rh > pane.scrollTop + pane.clientHeight) pane.scrollTop = y + rh - pane.clientHeight;
  }
  renderHexRows();
  markHex();
}

/** initHex wires the pane's scrolling, clicks and hovering. */
export function initHex() {
  tabs.addEventListener('click', (ev) => {
    const b = ev.target.closest('.bytes-tab');
    if (!b || +b.dataset.src === H.src) return;
    H.src = +b.dataset.src;
    showSource();
  });
  pane.addEventListener('scroll', () => renderHexRows());
  new ResizeObserver(() => renderHexRows()).observe(pane);
  hex.addEventListener('click', (ev) => {
    const i = ev.target.dataset && ev.target.dataset.i;
    if (i === undefined) return;
    const node = deepestNode(+i, H.src);
    if (node) selectNode(node, false);
  });
  hex.addEventListener('mouseover', (ev) => {
    const i = ev.target.dataset && ev.target.dataset.i;
    H.hov = i === undefined ? -1 : +i;
    markHex();
    if (i === undefined) return;
    const node = deepestNode(+i, H.src);
    const name = node ? (node.dataset.field || node.querySelector('.label').textContent) : '';
    ev.target.title = 'byte ' + i + (name ? ' · ' + name : '');
    $('status-field').textContent = 'byte ' + i + (name ? ' · ' + name : '');
  });
}
