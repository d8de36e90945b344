// The packet list: a virtual scroller that keeps only the rows in view in
// the DOM, fetches rows in chunks, and the selection of a packet.
import * as API from './api.js';
import { colorFilters, rowColorClass } from './coloring.js';
import { customFields, fieldKey, fillCells, makeCells, resetFit } from './columns.js';
import { CHUNK, remeasure, rowHeight, tunable } from './config.js';
import { TIME_FORMATS, TIME_PRECISIONS, fmtCount, fmtTime } from './format.js';
import { renderHex, clearHex } from './hex.js';
import { S, liveRunning, writeURL } from './state.js';
import { refTime } from './timeref.js';
import { setPref, setPrefJSON } from './prefs.js';
import { renderStatus } from './status.js';
import { renderTree, treePlaceholder, selectNode } from './tree.js';
import { $, showError } from './ui.js';

/** scroller is the scrolling element of the list; it has the keyboard focus of the list. */
export const scroller = $('list-scroll');
const spacer = $('list-spacer');
const rowsEl = $('list-rows');
const headerH = () => scroller.querySelector('.list-header').offsetHeight;

/** viewRows is the number of whole rows in view. */
export const viewRows = () => Math.max(1, Math.floor((scroller.clientHeight - headerH()) / rowHeight()));

function geometry() {
  const n = S.displayed;
  const full = n * rowHeight();
  const maxSpacer = tunable('maxSpacer');
  const spacerH = Math.min(full, maxSpacer);
  const vr = viewRows();
  const maxScroll = Math.max(1, spacerH - (scroller.clientHeight - headerH()));
  return { n, full, spacerH, vr, maxScroll, scaled: full > maxSpacer };
}
// In the scaled mode one pixel of scrolling may stand for several rows, so
// a scroll position set for a given first row is pinned to that row until
// the user scrolls elsewhere.
let pinned = null;
function firstRow(g) {
  const st = scroller.scrollTop;
  const h = rowHeight();
  if (!g.scaled) return { first: Math.floor(st / h), off: st % h };
  if (pinned && pinned.st === st && pinned.n === g.n) return { first: pinned.first, off: 0 };
  const exact = (Math.min(st, g.maxScroll) / g.maxScroll) * Math.max(0, g.n - g.vr);
  return { first: Math.min(Math.round(exact), Math.max(0, g.n - g.vr)), off: 0 };
}
function scrollToFirst(first, g) {
  spacer.style.height = g.spacerH + 'px'; // the render may not have run yet
  if (!g.scaled) { scroller.scrollTop = first * rowHeight(); return; }
  first = Math.max(0, Math.min(first, g.n - g.vr));
  scroller.scrollTop = (first / Math.max(1, g.n - g.vr)) * g.maxScroll;
  pinned = { st: scroller.scrollTop, first, n: g.n };
  lastView = { first, n: g.n };
}

let renderQueued = false;
/** renderList draws the list at the next animation frame. */
export function renderList() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => { renderQueued = false; renderListNow(); });
}

let lastView = null; // {first, n} of the last render
/** resetView forgets the scroll position kept for a view that changed. */
export function resetView() { lastView = null; pinned = null; }

/** renderListNow draws the rows in view, fetching those not cached. */
export function renderListNow() {
  const g = geometry();
  spacer.style.height = g.spacerH + 'px';
  // A running live capture's list follows its end, as Wireshark's does,
  // until the user scrolls up; scrolling back to the end follows again.
  if (S.follow && liveRunning(S.cur) && g.n > g.vr) {
    if (g.scaled) scrollToFirst(g.n - g.vr, g);
    else scroller.scrollTop = scroller.scrollHeight;
  }
  // In the scaled mode the first row depends on the row count: when the
  // count grows (indexing, filtering), keep the same first row in view.
  if (g.scaled && lastView && lastView.n !== g.n) scrollToFirst(lastView.first, g);
  scroller.setAttribute('aria-rowcount', String(g.n));
  $('list-empty').hidden = !!S.cur;
  const { first, off } = firstRow(g);
  lastView = { first, n: g.n };
  const count = Math.min(g.vr + 2, Math.max(0, g.n - first));
  rowsEl.style.transform = 'translateY(' + (scroller.scrollTop - off) + 'px)';
  while (rowsEl.children.length < count) rowsEl.append(makeRowEl());
  while (rowsEl.children.length > count) rowsEl.lastChild.remove();
  let missing = -1;
  for (let k = 0; k < count; k++) {
    const pos = first + k;
    const el = rowsEl.children[k];
    const row = S.cache.get(pos);
    fillRow(el, pos, row);
    if (!row && missing < 0) missing = pos;
  }
  if (missing >= 0) {
    fetchChunk(Math.floor(missing / CHUNK) * CHUNK);
    const lastMissing = first + count - 1;
    if (!S.cache.get(lastMissing)) fetchChunk(Math.floor(lastMissing / CHUNK) * CHUNK);
  }
}

function makeRowEl() {
  const el = document.createElement('div');
  el.className = 'row';
  el.setAttribute('role', 'row');
  makeCells(el);
  return el;
}

function fillRow(el, pos, row) {
  el.dataset.pos = String(pos);
  let cls = 'row';
  fillCells(el, row, row ? timeOf(row) : '');
  if (!row) {
    cls += ' loading';
  } else {
    cls += rowColorClass(row);
    if (row.marked) cls += ' marked';
    if (row.ignored) cls += ' ignored';
    if (row.comment) cls += ' commented';
    el.title = row.comment || '';
    el.dataset.no = String(row.no);
  }
  if (pos === S.selPos) { cls += ' selected'; el.setAttribute('aria-selected', 'true'); } else el.removeAttribute('aria-selected');
  el.className = cls;
}

// timeOf writes the time of a row in the chosen format. Rows carry the
// delta to the previous displayed packet; under a filter the delta to the
// previous captured one is that of the packet's row in the unfiltered
// list, fetched apart (capturedDelta).
function timeOf(row) {
  const ref = refTime(row, S.timeMode, S.timePrec);
  if (ref !== undefined) return ref;
  let captured = row.delta;
  if (S.timeMode === 'delta-captured' && S.filter) captured = capturedDelta(row.no);
  return fmtTime(row, S.timeMode, S.cur, S.timePrec, captured);
}

const capDeltas = new Map(); // "capture id/packet no" -> ns since the previous captured packet
const capAsked = new Set();
function capturedDelta(no) {
  const key = S.cur.id + '/' + no;
  if (capDeltas.has(key)) return capDeltas.get(key);
  if (!capAsked.has(key)) {
    capAsked.add(key);
    API.rows(S.cur.id, no - 1, 1, '').then((r) => {
      if (capDeltas.size > 20000) capDeltas.clear();
      capDeltas.set(key, r.rows.length ? r.rows[0].delta : 0);
      renderList();
    }).catch(() => capAsked.delete(key));
  }
  return undefined;
}

/** setTimeFormat shows times in format mode with prec digits after the second. */
export function setTimeFormat(mode, prec) {
  if (!(mode in TIME_FORMATS)) mode = 'relative';
  if (!TIME_PRECISIONS.includes(prec)) prec = 6;
  S.timeMode = mode;
  S.timePrec = prec;
  setPref('timeMode', mode);
  setPrefJSON('timePrecision', prec);
  const sel = $('time-mode');
  sel.value = mode;
  sel.title = 'Time display: ' + TIME_FORMATS[mode][1] + ', ' + prec + ' digits after the second';
  resetFit();
  renderListNow();
  document.dispatchEvent(new CustomEvent('pkttap:prefs'));
}

/**
 * setChecksums turns checksum verification on or off: the rows and the
 * selected packet are fetched again, verified or not.
 */
export function setChecksums(on) {
  S.checksums = !!on;
  setPrefJSON('checksums', S.checksums);
  refetch();
}

/**
 * setNames chooses the name resolutions (Wireshark's, off by default):
 * mac, MAC addresses to vendor and well-known names; ports, TCP, UDP and
 * SCTP ports to service names. The rows and the selected packet are
 * fetched again.
 */
export function setNames(mac, ports) {
  S.names = (mac ? 'm' : '') + (ports ? 't' : '');
  setPrefJSON('names', S.names);
  resetFit();
  refetch();
}

// refetch asks for the rows and the selected packet again, decoded anew.
function refetch() {
  S.gen++;
  S.cache.clear();
  S.pending.clear();
  renderList();
  if (S.selPos >= 0) selectPos(S.selPos, { scroll: false });
  document.dispatchEvent(new CustomEvent('pkttap:prefs'));
}

function fetchChunk(start) {
  if (!S.cur) return Promise.resolve();
  if (S.pending.has(start)) return S.pending.get(start);
  const p = fetchChunkNow(start);
  S.pending.set(start, p);
  return p;
}

async function fetchChunkNow(start) {
  const gen = S.gen;
  try {
    const fields = customFields();
    const r = await API.rows(S.cur.id, start, CHUNK, S.filter, S.checksums, { sort: S.sort, fields, names: S.names, colors: colorFilters() });
    if (gen !== S.gen) return;
    if (S.cache.size > 20000) S.cache.clear();
    r.rows.forEach((row, k) => {
      if (r.fields) row.fields = Object.fromEntries(fields.map((f, i) => [fieldKey(f), r.fields[k][i]]));
      S.cache.set(start + k, row);
    });
    if (r.displayed > S.displayed || r.total > S.total) {
      S.displayed = Math.max(S.displayed, r.displayed);
      S.total = Math.max(S.total, r.total);
      renderStatus();
    }
  } catch (e) {
    if (gen === S.gen) showError(e.message);
  } finally {
    if (gen === S.gen) S.pending.delete(start);
  }
  if (gen === S.gen) renderList();
}

async function rowAt(pos) {
  if (S.cache.has(pos)) return S.cache.get(pos);
  const start = Math.floor(pos / CHUNK) * CHUNK;
  await fetchChunk(start);
  return S.cache.get(pos);
}

/**
 * reloadRows fetches the rows in view again (their marks changed), keeping
 * the old ones on screen until the new arrive, and forgets the others.
 */
export async function reloadRows() {
  S.gen++;
  S.pending.clear();
  const shown = Array.from(rowsEl.children, (el) => +el.dataset.pos);
  for (const pos of Array.from(S.cache.keys())) if (!shown.includes(pos)) S.cache.delete(pos);
  const starts = new Set(shown.map((pos) => Math.floor(pos / CHUNK) * CHUNK));
  await Promise.all(Array.from(starts, fetchChunk));
}

// ---------- selection ----------

/** clearSelection deselects the packet and empties the tree and bytes panes. */
export function clearSelection() {
  S.selPos = -1; S.selNo = 0; S.pkt = null; S.selNode = null;
  treePlaceholder();
  clearHex();
  $('status-field').textContent = '';
  document.dispatchEvent(new CustomEvent('pkttap:packet'));
}

/** selectPos selects the packet at display position pos and shows its details and bytes. */
export async function selectPos(pos, { scroll = true } = {}) {
  if (!S.cur || S.displayed === 0) return;
  pos = Math.max(0, Math.min(S.displayed - 1, pos));
  S.selPos = pos;
  if (scroll) ensureVisible(pos);
  renderList();
  const gen = S.gen;
  const row = await rowAt(pos);
  if (!row || gen !== S.gen || S.selPos !== pos) return;
  S.selNo = row.no;
  writeURL();
  renderStatus();
  let pkt;
  try { pkt = await API.packet(S.cur.id, row.no, S.checksums, S.names); } catch (e) { showError(e.message); return; }
  if (gen !== S.gen || S.selPos !== pos) return;
  S.pkt = pkt;
  renderTree();
  renderHex();
  document.dispatchEvent(new CustomEvent('pkttap:packet'));
}

function ensureVisible(pos) {
  const g = geometry();
  const { first } = firstRow(g);
  if (pos < first) scrollToFirst(pos, g);
  else if (pos >= first + g.vr) scrollToFirst(pos - g.vr + 1, g);
}

/** gotoPacket selects packet number no (or says why it cannot). */
export async function gotoPacket(no) {
  if (!S.cur) return;
  if (no > S.total) {
    // Past the last packet: show the last displayed one, and say so.
    const note = 'Packet ' + fmtCount(no) + ' is beyond the last (' + fmtCount(S.total) + '); ' +
      (S.displayed ? 'showing the last' + (S.filter ? ' displayed' : '') + ' one' : 'no packets are displayed');
    await selectPos(S.displayed - 1);
    $('status-field').textContent = note;
    return;
  }
  let pos = no - 1;
  let hidden = 0;
  if (S.filter || S.sort) {
    try {
      const r = await API.position(S.cur.id, no, S.filter, S.sort);
      pos = r.position;
      if (r.displayed > S.displayed) { S.displayed = r.displayed; renderStatus(); }
      if (!r.exact) { $('status-field').textContent = 'Packet ' + no + ' is not displayed; showing the next one'; hidden = no; }
    } catch (e) { showError(e.message); return; }
  }
  await selectPos(pos);
  // The Why panel offers to say why a packet asked for is not displayed.
  if (hidden) document.dispatchEvent(new CustomEvent('pkttap:hidden', { detail: { no: hidden } }));
}

/** initList wires the list's scrolling, clicks and keys. */
export function initList() {
  // A scroll the user makes away from the end stops a live list from
  // following; one back to the end resumes it.
  let userScrollAt = 0;
  const userScroll = () => { userScrollAt = performance.now(); };
  for (const ev of ['wheel', 'pointerdown', 'keydown', 'touchmove']) scroller.addEventListener(ev, userScroll, { passive: true });
  scroller.addEventListener('scroll', () => {
    if (liveRunning(S.cur)) {
      const atEnd = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - rowHeight();
      if (atEnd) S.follow = true;
      else if (performance.now() - userScrollAt < 1000) S.follow = false;
    }
    renderList();
  }, { passive: true });
  window.addEventListener('resize', () => { remeasure(); renderList(); });
  // Columns shown, moved or hidden: the rows are made again; a custom
  // column added: they are asked for again, with its values.
  document.addEventListener('pkttap:columns', (ev) => {
    rowsEl.textContent = '';
    if (ev.detail && ev.detail.refetch) { S.gen++; S.cache.clear(); S.pending.clear(); }
    renderList();
  });
  rowsEl.addEventListener('click', (ev) => {
    const row = ev.target.closest('.row');
    if (row) { selectPos(+row.dataset.pos, { scroll: false }); scroller.focus({ preventScroll: true }); }
  });
  scroller.addEventListener('keydown', (ev) => {
    if (ev.target !== scroller) return;
    const vr = viewRows();
    const cur = S.selPos < 0 ? -1 : S.selPos;
    const keys = {
      ArrowDown: cur + 1, ArrowUp: Math.max(0, cur - 1), PageDown: cur + vr, PageUp: Math.max(0, cur - vr),
      Home: 0, End: S.displayed - 1,
    };
    if (ev.key in keys) { ev.preventDefault(); selectPos(keys[ev.key]); }
    else if (ev.key === 'Enter' || ev.key === 'ArrowRight') {
      const first = $('tree').querySelector('.node');
      if (first) { ev.preventDefault(); selectNode($('tree').querySelector('.node.selected') || first); }
    }
  });
  const sel = $('time-mode');
  sel.textContent = '';
  for (const [value, [short, long]] of Object.entries(TIME_FORMATS)) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = short;
    o.title = long;
    sel.append(o);
  }
  sel.addEventListener('change', () => setTimeFormat(sel.value, S.timePrec));
  setTimeFormat(S.timeMode, S.timePrec);
}
