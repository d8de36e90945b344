// The Filter explorer (explorer.html): a tcpdump expression, recompiled as
// it is typed, shown as pkttap's BPF program (each instruction linked to
// the part of the expression it implements: hover either), its
// control-flow graph (laid out by the server, GET /api/explore, drawn here
// as SVG), its size with and without the optimizer, libpcap's own program
// beside it (GET /api/explore/libpcap: the server's tcpdump -d), whether
// each fits the kernels' limits, and how many packets of the capture it
// was opened from match it (a filter job, POST .../filter).
import * as API from './api.js';
import { fmtCount } from './format.js';
import { initTheme } from './theme.js';
import { $, el } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';
const input = $('x-expr');
const params = new URLSearchParams(location.search);

const X = {
  capture: null,  // CaptureInfo of ?capture=
  prog: null,     // the ExploreResponse shown
  lib: null,      // the LibpcapResponse shown
  seq: 0,         // bumps with each new expression or link type
  timer: 0,
  countTimer: 0,
  cursor: -1,     // the instruction chosen from the keyboard in the listing
};

// LINK_TYPES are offered in the chooser, beside the capture's own.
const LINK_TYPES = ['EN10MB', 'RAW', 'LINUX_SLL', 'LINUX_SLL2', 'NULL', 'LOOP', 'IEEE802_11', 'IEEE802_11_RADIO', 'PPP', 'C_HDLC'];

const query = (path, expr) => {
  const q = new URLSearchParams({ expr, linktype: $('x-linktype').value });
  if (X.capture) q.set('capture', X.capture.id);
  return API.api(path + '?' + q.toString());
};

// svg makes an SVG element with attributes attrs.
function svg(tag, attrs = {}, ...kids) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  e.append(...kids);
  return e;
}

// writeURL keeps the expression, link type and capture in the address.
function writeURL() {
  const q = new URLSearchParams();
  if (X.capture) q.set('capture', X.capture.id);
  if (input.value) q.set('expr', input.value);
  q.set('linktype', $('x-linktype').value);
  history.replaceState(null, '', '/explore?' + q.toString());
}

// ---------- pkttap's program ----------

// renderProgram draws the listing, the source line and the graph of r.
function renderProgram(r) {
  X.prog = r;
  const msg = $('x-msg');
  const listing = $('x-listing');
  listing.textContent = '';
  $('x-graph').textContent = '';
  $('x-source').textContent = '';
  if (!r.valid) {
    msg.className = 'filter-msg ' + (r.expr.trim() ? 'invalid' : '');
    msg.textContent = r.expr.trim() ? '✗ ' + (r.column ? 'column ' + r.column + ': ' : '') + r.error : '';
    input.classList.toggle('invalid', !!r.expr.trim() && !r.display);
    input.classList.toggle('valid', !!r.display);
    $('x-ours-count').textContent = '–';
    $('x-ours-unopt').textContent = r.display ? 'a display filter: no BPF program' : '';
    $('x-source').textContent = r.expr;
    renderLimits();
    return;
  }
  input.classList.add('valid');
  input.classList.remove('invalid');
  msg.className = 'filter-msg valid';
  msg.textContent = '✓ valid for ' + r.linkType + ' · ' + r.instructions.length + ' instructions';
  $('x-ours-count').textContent = fmtCount(r.instructions.length);
  $('x-ours-unopt').textContent = r.unoptimized
    ? fmtCount(r.unoptimized) + ' before optimizing (' + savedShare(r.unoptimized, r.instructions.length) + ')'
    : (r.unoptimizedError ? 'unoptimized: ' + r.unoptimizedError : '');
  for (const insn of r.instructions) {
    const src = (insn.sources || []).filter((s) => !s.whole);
    const row = el('div', { class: 'x-insn' + (insn.return ? ' x-ret' : '') },
      el('span', { class: 'x-pc' }, '(' + String(insn.pc).padStart(3, '0') + ')'),
      el('span', { class: 'x-code' }, insn.text),
      el('span', { class: 'x-src', title: (insn.sources || []).map((s) => (s.whole ? 'the whole expression' : s.text)).join('\n') },
        src.length ? src.map((s) => s.text).join(' · ') : 'all'));
    row.dataset.pc = String(insn.pc);
    listing.append(row);
  }
  renderSource(r);
  renderGraph(r);
  renderLimits();
}

// savedShare says how much smaller the optimizer made the program.
function savedShare(before, after) {
  if (!before) return '';
  const pct = Math.round((100 * (before - after)) / before);
  return pct > 0 ? pct + ' % smaller' : pct < 0 ? -pct + ' % larger' : 'the same';
}

// renderSource draws the expression cut at every end of every piece an
// instruction implements, so a hovered piece can find its instructions.
function renderSource(r) {
  const expr = r.expr;
  const cuts = new Set([0, expr.length]);
  for (const insn of r.instructions) for (const s of insn.sources || []) if (!s.whole) { cuts.add(s.start); cuts.add(s.end); }
  const at = Array.from(cuts).filter((c) => c >= 0 && c <= expr.length).sort((a, b) => a - b);
  const box = $('x-source');
  for (let i = 0; i + 1 < at.length; i++) {
    const seg = el('span', { class: 'x-seg' }, expr.slice(at[i], at[i + 1]));
    seg.dataset.s = String(at[i]);
    seg.dataset.e = String(at[i + 1]);
    box.append(seg);
  }
}

// renderGraph draws the server's layout of the control-flow graph.
function renderGraph(r) {
  const g = r.graph;
  if (!g || !g.blocks) return;
  const s = svg('svg', { width: g.width, height: g.height, viewBox: '0 0 ' + g.width + ' ' + g.height, class: 'x-svg', role: 'img',
    'aria-label': 'Control-flow graph: ' + g.blocks.length + ' blocks' });
  const defs = svg('defs');
  for (const k of ['true', 'false', 'next']) {
    defs.append(svg('marker', { id: 'arrow-' + k, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'x-arrow e-' + k })));
  }
  s.append(defs);
  const edges = svg('g', { class: 'x-edges' });
  for (const e of g.edges) {
    const dy = Math.max(24, (e.y2 - e.y1) / 2);
    // A jump backwards (libpcap's protochain loop) goes round the right.
    const d = e.back
      ? 'M' + e.x1 + ',' + e.y1 + ' C' + (g.width - 2) + ',' + (e.y1 + 60) + ' ' + (g.width - 2) + ',' + (e.y2 - 60) + ' ' + e.x2 + ',' + (e.y2 - 1)
      : 'M' + e.x1 + ',' + e.y1 + ' C' + e.x1 + ',' + (e.y1 + dy) + ' ' + e.x2 + ',' + (e.y2 - dy) + ' ' + e.x2 + ',' + (e.y2 - 1);
    const path = svg('path', { d, class: 'x-edge e-' + e.kind, 'marker-end': 'url(#arrow-' + e.kind + ')' });
    path.dataset.from = String(e.from);
    path.dataset.to = String(e.to);
    edges.append(path);
    if (e.kind !== 'next') edges.append(svg('text', { x: e.x1 + (e.kind === 'true' ? -10 : 4), y: e.y1 + 12, class: 'x-elabel e-' + e.kind }, e.kind === 'true' ? 'T' : 'F'));
  }
  s.append(edges);
  g.blocks.forEach((b, i) => {
    const grp = svg('g', { class: 'x-block' });
    grp.dataset.block = String(i);
    const ret = r.instructions[b.first].return && b.first === b.last;
    const accept = ret && !/#0$/.test(r.instructions[b.first].label);
    grp.append(svg('rect', { x: b.x, y: b.y, width: b.w, height: b.h, rx: 5, class: 'x-box' + (ret ? (accept ? ' x-accept' : ' x-reject') : '') }));
    for (let pc = b.first; pc <= b.last; pc++) {
      const t = svg('text', { x: b.x + 8, y: b.y + 4 + 12 + (pc - b.first) * 16, class: 'x-line' },
        svg('tspan', { class: 'x-lpc' }, '(' + String(pc).padStart(3, '0') + ') '), r.instructions[pc].label);
      t.dataset.pc = String(pc);
      grp.append(t);
    }
    s.append(grp);
  });
  $('x-graph').append(s);
}

// ---------- hovering: instructions <-> source ----------

function clearHover() {
  for (const e of document.querySelectorAll('.x-hl, .x-src-hl, .x-whole-hl')) e.classList.remove('x-hl', 'x-src-hl', 'x-whole-hl');
}

// hoverPC marks instruction pc in the listing and the graph, and the
// pieces of the expression it implements.
function hoverPC(pc) {
  clearHover();
  const insn = X.prog && X.prog.instructions[pc];
  if (!insn) return;
  for (const e of document.querySelectorAll('[data-pc="' + pc + '"]')) e.classList.add('x-hl');
  for (const s of insn.sources || []) {
    if (s.whole) { $('x-source').classList.add('x-whole-hl'); continue; }
    for (const seg of $('x-source').querySelectorAll('.x-seg')) {
      if (+seg.dataset.s >= s.start && +seg.dataset.e <= s.end) seg.classList.add('x-src-hl');
    }
  }
}

// hoverSource marks the instructions that implement a piece of the
// expression holding the segment [s, e), and the pieces themselves.
function hoverSource(s, e) {
  clearHover();
  if (!X.prog || !X.prog.valid) return;
  const pieces = [];
  for (const insn of X.prog.instructions) {
    for (const o of insn.sources || []) {
      if (o.whole || o.start > s || o.end < e) continue;
      pieces.push(o);
      for (const n of document.querySelectorAll('[data-pc="' + insn.pc + '"]')) n.classList.add('x-hl');
    }
  }
  for (const seg of $('x-source').querySelectorAll('.x-seg')) {
    if (pieces.some((o) => +seg.dataset.s >= o.start && +seg.dataset.e <= o.end)) seg.classList.add('x-src-hl');
  }
  const first = document.querySelector('#x-listing .x-hl');
  if (first) first.scrollIntoView({ block: 'nearest' });
}

// ---------- libpcap's program ----------

function renderLibpcap(r) {
  X.lib = r;
  const box = $('x-libpcap');
  box.textContent = '';
  $('x-libpcap-cmd').textContent = 'tcpdump -d -y ' + r.linkType;
  if (!r.available) {
    $('x-libpcap-count').textContent = '–';
    $('x-libpcap-note').textContent = 'tcpdump is not installed on the server';
    box.append(el('p', { class: 'x-note', id: 'x-libpcap-missing' }, r.note));
  } else if (!r.valid) {
    $('x-libpcap-count').textContent = '–';
    $('x-libpcap-note').textContent = 'libpcap rejects it';
    box.append(el('p', { class: 'x-note x-bad' }, 'tcpdump: ' + r.error));
  } else {
    $('x-libpcap-count').textContent = fmtCount(r.instructions);
    const mine = X.prog && X.prog.valid ? X.prog.instructions.map((i) => norm('(' + String(i.pc).padStart(3, '0') + ') ' + i.text)) : [];
    const lines = r.program.split('\n').filter(Boolean);
    let differ = 0;
    for (const [k, line] of lines.entries()) {
      const same = norm(line) === mine[k];
      if (!same) differ++;
      box.append(el('div', { class: 'x-insn' + (mine.length && !same ? ' x-diff' : ''), title: mine.length && !same ? 'pkttap\'s instruction ' + k + ' differs' : '' }, line));
    }
    const diff = mine.length - r.instructions;
    $('x-libpcap-note').textContent = (!mine.length ? '' : !differ && !diff ? 'identical to pkttap\'s · '
      : (diff === 0 ? 'the same size as pkttap\'s' : 'pkttap\'s is ' + Math.abs(diff) + (diff > 0 ? ' longer' : ' shorter')) + ', ' + differ + ' lines differ · ') + (r.version || '');
  }
  renderLimits();
}

// norm collapses a listing line's spaces, to compare two listings.
const norm = (line) => line.trim().split(/\s+/).join(' ');

// renderLimits fills the kernels' limits for both programs.
function renderLimits() {
  const t = $('x-limits');
  t.textContent = '';
  t.append(el('tr', {}, el('th', {}, ''), el('th', {}, 'limit'), el('th', {}, 'pkttap'), el('th', {}, 'libpcap')));
  const limits = (X.prog && X.prog.limits) || [];
  const ours = X.prog && X.prog.valid ? X.prog.instructions.length : 0;
  const lib = X.lib && X.lib.valid ? X.lib.instructions : 0;
  const fits = (n, max) => (!n ? el('td', { class: 'x-dim' }, '–') : el('td', { class: n <= max ? 'x-fits' : 'x-over' }, n <= max ? '✓ fits' : '✗ ' + fmtCount(n - max) + ' over'));
  for (const l of limits) {
    const row = el('tr', {}, el('th', {}, l.kernel), el('td', { class: 'mono' }, fmtCount(l.max)), fits(ours, l.max), fits(lib, l.max));
    row.dataset.kernel = l.kernel;
    t.append(row);
  }
}

// ---------- matches ----------

let matchSeq = 0;
// countMatches runs the expression as a filter job on the capture and
// shows its count as it grows.
async function countMatches(expr) {
  const seq = ++matchSeq;
  const out = $('x-matches');
  const note = $('x-matches-note');
  out.textContent = '';
  note.textContent = '';
  if (!X.capture) { out.textContent = '–'; note.textContent = 'Open the explorer from a capture (its Explorer button) to count the packets it matches.'; return; }
  if (!expr.trim()) { out.textContent = fmtCount(X.capture.packets) + ' of ' + fmtCount(X.capture.packets); note.textContent = 'An empty expression matches every packet.'; return; }
  for (;;) {
    let st;
    try { st = await API.startFilter(X.capture.id, expr); } catch (e) { if (seq === matchSeq) { out.textContent = '–'; note.textContent = e.message; } return; }
    if (seq !== matchSeq) return;
    out.textContent = '';
    const link = el('a', { href: '/c/' + X.capture.id + '?filter=' + encodeURIComponent(expr), id: 'x-show', title: 'Show these packets in the packet list' }, 'Show them →');
    out.append(el('b', { id: 'x-match-count' }, fmtCount(st.matched)), ' of ' + fmtCount(X.capture.packets) + ' packets ', link);
    const lts = X.capture.linkTypes || [];
    const other = lts.length && !lts.includes($('x-linktype').value) ? ' Counted for the capture\'s own link type (' + lts.join(', ') + ').' : '';
    note.textContent = (st.done ? 'All packets scanned.' : 'Scanning… ' + fmtCount(st.scanned) + ' packets so far.') + other;
    out.dataset.done = String(!!st.done);
    if (st.done) return;
    await new Promise((res) => setTimeout(res, 400));
    if (seq !== matchSeq) return;
  }
}

// ---------- putting it together ----------

async function update() {
  const expr = input.value;
  const seq = ++X.seq;
  writeURL();
  let r;
  try { r = await query('/api/explore', expr); } catch (e) { if (seq === X.seq) { $('x-msg').className = 'filter-msg invalid'; $('x-msg').textContent = e.message; } return; }
  if (seq !== X.seq) return;
  renderProgram(r);
  if (X.lib && X.lib.expr === expr && X.lib.linkType === r.linkType) renderLibpcap(X.lib);
  // A filter job scans the whole capture: start one only once the typing
  // has paused.
  clearTimeout(X.countTimer);
  matchSeq++;
  if ((r.valid || r.display) && !X.capture) countMatches(expr); // says what it needs
  else if (r.valid || r.display) {
    $('x-matches-note').textContent = 'Counting once you stop typing…';
    X.countTimer = setTimeout(() => { if (seq === X.seq) countMatches(expr); }, 700);
  } else { $('x-matches').textContent = '–'; $('x-matches-note').textContent = ''; }
  if (!r.display) {
    try {
      const lib = await query('/api/explore/libpcap', expr);
      if (seq === X.seq) renderLibpcap(lib);
    } catch (e) {
      if (seq === X.seq) renderLibpcap({ available: true, valid: false, error: e.message, linkType: r.linkType });
    }
  } else {
    $('x-libpcap').textContent = '';
    $('x-libpcap-count').textContent = '–';
    $('x-libpcap-note').textContent = '';
  }
}

function updateSoon() {
  clearTimeout(X.timer);
  X.timer = setTimeout(update, 120);
}

async function init() {
  initTheme();
  const sel = $('x-linktype');
  const id = params.get('capture');
  if (id) {
    try { X.capture = await API.getCapture(id); } catch (e) { $('x-capture').textContent = 'Capture ' + id + ': ' + e.message; }
  }
  const lts = (X.capture && X.capture.linkTypes) || [];
  for (const lt of Array.from(new Set(lts.concat(LINK_TYPES)))) sel.append(el('option', { value: lt }, lt + (lts.includes(lt) ? ' (the capture\'s)' : '')));
  sel.value = params.get('linktype') || lts[0] || 'EN10MB';
  if (!sel.value) sel.value = 'EN10MB';
  if (X.capture) {
    $('x-capture').textContent = X.capture.name + ' · ' + fmtCount(X.capture.packets) + ' packets';
    $('x-back').href = '/c/' + X.capture.id;
  }
  input.value = params.get('expr') || '';
  input.addEventListener('input', updateSoon);
  sel.addEventListener('change', update);
  const hoverPCOf = (ev) => {
    const n = ev.target.closest('[data-pc]');
    if (n) hoverPC(+n.dataset.pc);
  };
  $('x-listing').addEventListener('mouseover', hoverPCOf);
  $('x-graph').addEventListener('mouseover', hoverPCOf);
  $('x-source').addEventListener('mouseover', (ev) => {
    const seg = ev.target.closest('.x-seg');
    if (seg) hoverSource(+seg.dataset.s, +seg.dataset.e);
  });
  for (const id2 of ['x-listing', 'x-graph', 'x-source']) $(id2).addEventListener('mouseleave', clearHover);
  // ↑/↓ in the listing walk the instructions as hovering does.
  $('x-listing').addEventListener('keydown', (ev) => {
    const n = X.prog && X.prog.valid ? X.prog.instructions.length : 0;
    const step = { ArrowDown: 1, ArrowUp: -1, PageDown: 20, PageUp: -20, Home: -n, End: n }[ev.key];
    if (!n || step === undefined) return;
    ev.preventDefault();
    X.cursor = Math.max(0, Math.min(n - 1, (X.cursor < 0 ? -1 : X.cursor) + step));
    hoverPC(X.cursor);
    const row = document.querySelector('#x-listing [data-pc="' + X.cursor + '"]');
    if (row) row.scrollIntoView({ block: 'nearest' });
    const box = document.querySelector('#x-graph [data-pc="' + X.cursor + '"]');
    if (box) box.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  });
  input.focus();
  update();
}

init();
