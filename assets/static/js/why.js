// The Why panel, beside the details tree: why the shown packet matches the
// filter (the one typed in the bar when it is valid, else the one
// applied) or why not, from GET /api/captures/{id}/packets/{no}/explain.
// The expression is drawn with each term coloured by its outcome and the
// deciding term marked; each term lists its comparisons. The deciding
// term's bytes are marked in the bytes pane and its fields in the tree;
// hovering another term, or one comparison, marks its own. A term's
// bytes are tinted, and those of the comparison that decided it are green
// or red. A packet the
// filter hides can be opened here (by number, or from Go to packet) to
// ask why it is not shown.
import * as API from './api.js';
import { markBytes, renderHex } from './hex.js';
import { renderList } from './list.js';
import { S } from './state.js';
import { renderStatus } from './status.js';
import { renderTree } from './tree.js';
import { $, el } from './ui.js';

const panel = $('why');
const input = $('filter-input');

const W = {
  seq: 0,       // the latest explanation asked for
  x: null,      // the explanation shown
  key: '',      // capture/packet/expression of x
  hidden: 0,    // a packet Go to packet found hidden by the filter
  outside: 0,   // the packet shown was opened here, not from the list
  marks: [],    // the byte marks shown
};

/** explain: GET /api/captures/{id}/packets/{no}/explain?filter=expr. */
const explain = (id, no, expr) => API.api('/api/captures/' + id + '/packets/' + no + '/explain?filter=' + API.enc(expr));

// whyExpr is the expression to explain: the bar's when it is valid (typed
// and not applied yet, or applied), else the applied filter.
function whyExpr() {
  const typed = input.value.trim();
  if (typed && (typed === S.filter || input.classList.contains('valid'))) return typed;
  return S.filter;
}

// OUTCOME maps an outcome to its class and sign.
const OUTCOME = {
  true: ['o-true', '✓'], false: ['o-false', '✗'], 'not evaluated': ['o-skip', '–'], failed: ['o-failed', '✂'],
};
const outcome = (o) => OUTCOME[o] || ['o-skip', '?'];

// kids returns a term's nested terms, whatever the server calls them (a
// display filter's explanation may nest sub-expressions).
function kids(t) {
  for (const k of ['terms', 'children', 'sub', 'subterms']) if (Array.isArray(t[k])) return t[k];
  return [];
}

// allChecks returns the checks of a term and of the terms in it.
function allChecks(t) {
  return (t.checks || []).concat(...kids(t).map(allChecks));
}

// rangesOf returns the byte ranges a check read ([{first, last}]), also
// those of its several values when it has them.
function rangesOf(c) {
  const r = (c.bytes || []).slice();
  for (const v of Array.isArray(c.values) ? c.values : []) if (v && Array.isArray(v.bytes)) r.push(...v.bytes);
  return r.filter((b) => b && Number.isFinite(b.first) && Number.isFinite(b.last));
}

// marksOf marks the bytes checks read, each green when its comparison
// held and red when not (one comparison hovered).
function marksOf(checks) {
  const m = [];
  for (const c of checks) for (const b of rangesOf(c)) m.push({ first: b.first, last: b.last, cls: 'why-read ' + (c.result ? 'why-ok' : 'why-bad') });
  return m;
}

// termMarks marks the bytes a term read, and in its outcome's colour
// those of the comparison that decided it: its last (each primitive's
// code leaves it, true or false, from the last comparison it makes; the
// ones before may fail on the way, as an IPv6 ethertype test does for an
// IPv4 packet).
function termMarks(t) {
  const checks = allChecks(t);
  const m = [];
  checks.forEach((c, i) => {
    const last = i === checks.length - 1 && (t.outcome === 'true' || t.outcome === 'false');
    for (const b of rangesOf(c)) m.push({ first: b.first, last: b.last, cls: 'why-read' + (last ? (t.outcome === 'true' ? ' why-ok' : ' why-bad') : '') });
  });
  return m;
}

// faultMarks marks the bytes a failed load wanted that the packet has, or
// its last byte when it has none of them.
function faultMarks(f) {
  if (!f || !f.size) return [];
  const end = Math.min(f.offset + f.size, f.caplen) - 1;
  if (end >= f.offset) return [{ first: f.offset, last: end, cls: 'why-fault' }];
  return f.caplen > 0 ? [{ first: f.caplen - 1, last: f.caplen - 1, cls: 'why-fault' }] : [];
}

// flat returns every term, nested ones after their parent, with its path
// ("0", "0.1") as its key.
function flat(terms, pre = '') {
  const out = [];
  terms.forEach((t, i) => {
    const key = pre + i;
    out.push({ t, key });
    out.push(...flat(kids(t), key + '.'));
  });
  return out;
}

// termAt returns the term of key.
function termAt(key) {
  const f = flat((W.x && W.x.terms) || []).find((e) => e.key === key);
  return f ? f.t : null;
}

// defaultMarks are the marks shown while nothing is hovered: the deciding
// term's comparisons and the failed load.
function defaultMarks() {
  const x = W.x;
  if (!x) return [];
  const d = Number.isInteger(x.decided) && x.decided >= 0 ? (x.terms || [])[x.decided] : null;
  return (d ? termMarks(d) : []).concat(faultMarks(x.fault));
}

// show marks the bytes and the tree fields of marks.
function show(marks, scroll) {
  W.marks = marks;
  markBytes(marks, scroll);
  markFields(marks);
}

// markFields marks the tree's fields that lie within the marked bytes (or,
// for bytes inside a larger field, the smallest field that holds them);
// a field in a closed item marks the item shown as holding one.
function markFields(marks) {
  const tree = $('tree');
  for (const n of tree.querySelectorAll('.node.why-field, .node.why-field-inside')) n.classList.remove('why-field', 'why-field-inside');
  const nodes = Array.from(tree.querySelectorAll('.node')).filter((n) => +n.dataset.len > 0);
  const hit = new Set();
  for (const m of marks) {
    const inside = nodes.filter((n) => +n.dataset.off >= m.first && +n.dataset.off + +n.dataset.len - 1 <= m.last);
    if (inside.length) { inside.forEach((n) => hit.add(n)); continue; }
    let best = null;
    for (const n of nodes) {
      const off = +n.dataset.off, end = off + +n.dataset.len - 1;
      if (off <= m.first && end >= m.last && (!best || +n.dataset.len < +best.dataset.len)) best = n;
    }
    if (best) hit.add(best);
  }
  for (const n of hit) {
    n.classList.add('why-field');
    // A closed item hides its fields: mark the item shown too.
    let shown = n;
    for (let li = n.parentElement.parentElement.closest('li[aria-expanded="false"]'); li; li = li.parentElement.closest('li[aria-expanded="false"]')) shown = li.firstChild;
    if (shown !== n) shown.classList.add('why-field-inside');
  }
}

// hide empties and hides the panel.
function hide() {
  panel.hidden = true;
  panel.textContent = '';
  W.x = null; W.key = '';
  markFields([]);
}

/** refreshWhy explains the shown packet again when it, or the expression, changed. */
export async function refreshWhy() {
  const p = S.pkt, c = S.cur;
  const expr = whyExpr();
  if (!c || !p || !expr) { W.seq++; hide(); return; }
  const key = c.id + '/' + p.no + '/' + expr;
  if (key === W.key) { show(defaultMarks(), false); return; }
  const seq = ++W.seq;
  let x = null, err = null;
  try { x = await explain(c.id, p.no, expr); } catch (e) { err = e; }
  if (seq !== W.seq || S.pkt !== p) return;
  W.key = key;
  W.x = x;
  render(expr, p, x, err);
  show(defaultMarks(), true);
}

// render draws the panel.
function render(expr, p, x, err) {
  panel.hidden = false;
  panel.textContent = '';
  const head = el('div', { class: 'why-head' }, el('h2', { class: 'why-title' }, 'Why'));
  if (x) {
    head.append(el('span', { class: 'why-verdict ' + (x.match ? 'match' : 'nomatch'), id: 'why-verdict' },
      (x.match ? '✓ Packet ' + p.no + ' matches' : '✗ Packet ' + p.no + ' does not match')));
  }
  const num = el('input', { type: 'number', min: '1', class: 'mono', id: 'why-no', value: String(p.no), title: 'Explain another packet (also one the filter hides)', 'aria-label': 'Packet to explain' });
  const form = el('form', { class: 'why-open' }, el('label', { htmlFor: 'why-no' }, 'Packet'), num);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); const n = parseInt(num.value, 10); if (n > 0) openPacket(n); });
  head.append(form);
  panel.append(head);
  if (W.hidden && W.hidden !== p.no) {
    const b = el('button', { type: 'button', class: 'small', id: 'why-hidden-open' }, 'Why not?');
    b.addEventListener('click', () => openPacket(W.hidden));
    panel.append(el('div', { class: 'why-hidden', id: 'why-hidden' }, 'Packet ' + W.hidden + ' is not displayed under this filter. ', b));
  }
  if (W.outside === p.no && x && !x.match && expr === S.filter) {
    panel.append(el('div', { class: 'why-outside' }, 'Packet ' + p.no + ' is not in the list: the filter hides it.'));
  }
  panel.append(el('div', { class: 'why-filter' }, el('span', { class: 'why-label' }, expr === S.filter ? 'Applied filter' : 'Filter in the bar (not applied)')));
  if (err) {
    const display = $('filter-lang').dataset.lang === 'display' && err.status === 400;
    panel.append(el('p', { class: 'why-error' }, display
      ? 'This server explains tcpdump (BPF) expressions; it cannot explain display filters yet (' + err.message + ').'
      : err.message));
    return;
  }
  panel.append(exprLine(expr, x));
  const list = termList(x.terms || [], x.decided, '');
  list.id = 'why-terms';
  panel.append(list);
  if (x.fault) {
    panel.append(el('div', { class: 'why-fault-text', id: 'why-fault' }, el('b', {}, '✂ Truncated packet: '), x.fault.text ||
      ('a load of ' + x.fault.size + ' bytes at offset ' + x.fault.offset + ' fell off the end of the ' + x.fault.caplen + ' bytes captured')));
  }
  if (x.note) panel.append(el('p', { class: 'why-note' }, x.note));
  panel.append(el('div', { class: 'why-result ' + (x.match ? 'match' : 'nomatch') },
    x.match ? '→ match (the filter returns ' + x.result + ')' : '→ no match (the filter returns 0)'));
}

// exprLine draws the expression with each innermost term coloured.
function exprLine(expr, x) {
  const line = el('div', { class: 'why-expr mono', id: 'why-expr' });
  const leaves = flat(x.terms || []).filter((e) => !kids(e.t).length && Number.isFinite(e.t.start) && Number.isFinite(e.t.end))
    .sort((a, b) => a.t.start - b.t.start);
  const decided = Number.isInteger(x.decided) && x.decided >= 0 ? String(x.decided) : '';
  let at = 0;
  for (const { t, key } of leaves) {
    if (t.start < at || t.end > expr.length) continue; // overlapping or out of range: left plain
    line.append(expr.slice(at, t.start));
    const [cls, sign] = outcome(t.outcome);
    const span = el('span', { class: 'why-term ' + cls + (decided !== '' && (key === decided || key.startsWith(decided + '.')) ? ' decides' : '') }, expr.slice(t.start, t.end));
    span.dataset.term = key;
    span.title = sign + ' ' + t.outcome + (key === decided ? ' · decided the verdict' : '');
    line.append(span);
    at = t.end;
  }
  line.append(expr.slice(at));
  return line;
}

// termList draws terms and their comparisons (and nested terms).
function termList(terms, decided, pre) {
  const ol = el('ol', { class: 'why-terms' });
  terms.forEach((t, i) => {
    const key = pre + i;
    const [cls, sign] = outcome(t.outcome);
    const li = el('li', { class: 'why-tl ' + cls });
    li.dataset.term = key;
    const headEl = el('div', { class: 'why-tl-head' }, el('span', { class: 'why-sign' }, sign), el('code', {}, t.text || ''),
      el('span', { class: 'why-oc' }, t.outcome || ''));
    if (pre === '' && i === decided) { li.classList.add('decides'); headEl.append(el('span', { class: 'why-decides' }, 'decides')); }
    li.append(headEl);
    const checks = t.checks || [];
    if (checks.length) {
      const ul = el('ul', { class: 'why-checks' });
      checks.forEach((c, j) => {
        // The last comparison of a term that came out true or false decided it.
        const decider = j === checks.length - 1 && (t.outcome === 'true' || t.outcome === 'false');
        const item = el('li', { class: 'why-check ' + (c.result ? 'ok' : 'bad') + (decider ? ' decider' : '') }, checkText(c));
        if (decider) item.append(el('span', { class: 'why-decider' }, t.outcome === 'true' ? ' made it true' : ' made it false'));
        item.dataset.term = key;
        item.dataset.check = String(j);
        if (Number.isInteger(c.pc)) item.title = 'instruction ' + c.pc + ' of the unoptimized program (pkttap-inspect -d -O)';
        ul.append(item);
      });
      li.append(ul);
    }
    if (kids(t).length) li.append(termList(kids(t), -1, key + '.'));
    ol.append(li);
  });
  return ol;
}

// checkText is a comparison in words: the server's, or made from its parts.
function checkText(c) {
  if (c.text) return c.text;
  const vals = Array.isArray(c.values) ? c.values.map((v) => (v && typeof v === 'object' ? v.value : v)).join(', ') : c.value;
  return (c.field || '') + ' ' + vals + ' ' + (c.op || '') + ' ' + (c.operand ?? '') + ' ' + (c.result ? '✓' : '✗');
}

/**
 * openPacket shows packet no in the details and bytes panes, displayed or
 * not (the list keeps no selection then), and explains it.
 */
export async function openPacket(no) {
  const c = S.cur;
  if (!c) return;
  let pkt;
  try { pkt = await API.packet(c.id, no, S.checksums, S.names); } catch (e) { panel.append(el('p', { class: 'why-error' }, e.message)); return; }
  if (S.cur !== c) return;
  W.outside = no;
  S.selPos = -1; S.selNo = no; S.pkt = pkt;
  renderList();
  renderStatus();
  renderTree();
  renderHex();
  refreshWhy();
}

/** initWhy wires the panel to the shown packet, the filter bar and its own hovering. */
export function initWhy() {
  // A packet selected in the list (Go to packet's hidden one is
  // announced after it) ends the offer to explain a hidden one.
  document.addEventListener('pkttap:packet', () => { if (W.hidden) { W.hidden = 0; W.key = ''; } if (!S.pkt || S.pkt.no !== W.outside) W.outside = 0; refreshWhy(); });
  document.addEventListener('pkttap:hidden', (ev) => { W.hidden = ev.detail.no; W.key = ''; refreshWhy(); });
  // The bar's verdict (its valid/invalid class) and the applied filter
  // decide the expression.
  new MutationObserver(() => refreshWhy()).observe(input, { attributes: true, attributeFilter: ['class'] });
  $('filter-form').addEventListener('submit', () => { W.hidden = 0; setTimeout(refreshWhy, 0); });
  // The tree is drawn again when a packet is: mark its fields again.
  new MutationObserver(() => { if (W.x) markFields(W.marks); }).observe($('tree'), { childList: true });
  panel.addEventListener('mouseover', (ev) => {
    const t = ev.target.closest('[data-term]');
    if (!t || !W.x) return;
    const term = termAt(t.dataset.term);
    if (!term) return;
    for (const e of panel.querySelectorAll('.hovered')) e.classList.remove('hovered');
    for (const e of panel.querySelectorAll('[data-term="' + t.dataset.term + '"]')) if (!e.dataset.check) e.classList.add('hovered');
    const check = t.dataset.check !== undefined ? (term.checks || [])[+t.dataset.check] : null;
    show(check ? marksOf([check]) : termMarks(term).concat(W.x.fault && String(W.x.fault.term) === t.dataset.term ? faultMarks(W.x.fault) : []), true);
  });
  panel.addEventListener('mouseleave', () => {
    for (const e of panel.querySelectorAll('.hovered')) e.classList.remove('hovered');
    show(defaultMarks(), false);
  });
}
