// The packet list's columns, as Wireshark's: the built-in ones (No., Time,
// Source, Destination, Protocol, Length, Info) and custom ones showing a
// field of the packet ("Apply as Column" in the details' context menu, or
// "Add Column…" in the header's), in the order the user dragged them to,
// some hidden; their widths (CSS grid columns in --cols, on #list-scroll,
// for the header and the rows alike), resized by dragging a header's right
// edge (a double click gives the column back its own width). All of it is
// remembered by the browser. Source and Destination fit the longest
// address shown (an IPv6 address whole), and Time its longest time, unless
// resized. A click on a header sorts by its column (js/sorting.js does it).
import { prefJSON, setPrefJSON } from './prefs.js';
import { S } from './state.js';
import { $ } from './ui.js';

// BUILTIN are the built-in columns: their title, and a fixed width in px,
// fit to their text (at least min px), or the rest of the width (Info).
const BUILTIN = {
  no: { title: 'No.', w: 70 },
  time: { title: 'Time', fit: true, min: 130, max: 280 },
  iface: { title: 'Interface', w: 170 }, // shown for a capture of several interfaces (sources) only
  src: { title: 'Source', fit: true, min: 120, max: 420 },
  dst: { title: 'Destination', fit: true, min: 120, max: 420 },
  proto: { title: 'Protocol', w: 80 },
  len: { title: 'Length', w: 64 },
  info: { title: 'Info', rest: true, min: 120 },
};
const DEFAULT_ORDER = ['no', 'time', 'iface', 'src', 'dst', 'proto', 'len', 'info'];
const CUSTOM_W = 110;
const MIN_W = 36;

/** fieldKey is the key of the custom column showing field name. */
export const fieldKey = (name) => 'f:' + name;

const scroller = $('list-scroll');
const header = scroller.querySelector('.list-header');
let widths = prefJSON('columns', {}); // key -> px, as the user set them
// layout is the columns in order: {key, hidden}; a custom column's key is
// fieldKey(field).
let layout = readLayout();
const FITTED = Object.keys(BUILTIN).filter((k) => BUILTIN[k].fit);
const noText = () => Object.fromEntries(FITTED.map((k) => [k, '']));
let longest = noText();               // the longest text of each fitted column
let measureCtx = null;
let queued = false;

// readLayout reads the remembered layout, keeping its known columns and
// adding any built-in one it lacks.
function readLayout() {
  const saved = prefJSON('columnLayout', null);
  const out = [];
  if (Array.isArray(saved)) {
    for (const c of saved) {
      if (!c || typeof c.key !== 'string' || out.some((o) => o.key === c.key)) continue;
      if (c.key in BUILTIN || /^f:[A-Za-z0-9_.-]+$/.test(c.key)) out.push({ key: c.key, hidden: !!c.hidden });
    }
  }
  DEFAULT_ORDER.forEach((k, i) => { if (!out.some((c) => c.key === k)) out.splice(Math.min(i, out.length), 0, { key: k, hidden: false }); });
  return out;
}

function saveLayout() { setPrefJSON('columnLayout', layout); }

/** columnTitle is a column's header text. */
export function columnTitle(key) { return key in BUILTIN ? BUILTIN[key].title : key.slice(2); }

// multiIface: the open capture has several interfaces (a live capture of
// several sources, a pcapng file of several), so the Interface column can
// be shown.
let multiIface = false;

/** visibleColumns returns the keys of the columns shown, in order. */
export const visibleColumns = () => layout.filter((c) => !c.hidden && (c.key !== 'iface' || multiIface)).map((c) => c.key);

/** setMultiInterface says whether the open capture has several interfaces (the Interface column's turn). */
export function setMultiInterface(on) {
  if (on === multiIface) return;
  multiIface = on;
  buildHeader();
  document.dispatchEvent(new CustomEvent('pkttap:columns', { detail: { refetch: false } }));
}

/** allColumns returns every column, shown or not: [{key, hidden, title}]. */
export const allColumns = () => layout.filter((c) => c.key !== 'iface' || multiIface).map((c) => ({ key: c.key, hidden: c.hidden, title: columnTitle(c.key) }));

/** customFields returns the fields of the custom columns shown, in order. */
export const customFields = () => visibleColumns().filter((k) => k.startsWith('f:')).map((k) => k.slice(2));

/** sortColumn is the name the server sorts a column by (a field's name for a custom column). */
export const sortColumn = (key) => (key.startsWith('f:') ? key.slice(2) : key);

// changed re-lays the columns out, rebuilds the header and tells the list
// (refetch: the rows must be asked for again, with other custom columns).
function changed(refetch) {
  saveLayout();
  buildHeader();
  document.dispatchEvent(new CustomEvent('pkttap:columns', { detail: { refetch } }));
}

/** setHidden shows or hides a column. */
export function setHidden(key, hidden) {
  const c = layout.find((x) => x.key === key);
  if (!c || c.hidden === hidden) return;
  if (hidden && visibleColumns().length === 1) return; // keep one
  c.hidden = hidden;
  changed(key.startsWith('f:') && !hidden);
}

/** moveColumn moves column key to index to of the layout. */
export function moveColumn(key, to) {
  const from = layout.findIndex((c) => c.key === key);
  if (from < 0) return;
  const [c] = layout.splice(from, 1);
  layout.splice(Math.max(0, Math.min(to, layout.length)), 0, c);
  changed(false);
}

/** addFieldColumn adds (or shows again) a custom column of field, before Info. */
export function addFieldColumn(field) {
  const key = fieldKey(field);
  const c = layout.find((x) => x.key === key);
  if (c) { c.hidden = false; changed(true); return; }
  const info = layout.findIndex((x) => x.key === 'info');
  layout.splice(info < 0 ? layout.length : info, 0, { key, hidden: false });
  changed(true);
}

/** removeColumn removes a custom column. */
export function removeColumn(key) {
  if (!key.startsWith('f:')) return;
  layout = layout.filter((c) => c.key !== key);
  delete widths[key];
  setPrefJSON('columns', widths);
  changed(false);
}

/** resetColumns gives back the default columns, order and widths. */
export function resetColumns() {
  layout = readLayoutDefault();
  widths = {};
  setPrefJSON('columns', widths);
  changed(false);
}
const readLayoutDefault = () => DEFAULT_ORDER.map((k) => ({ key: k, hidden: false }));

/** cellClass is the class of a column's cells. */
export const cellClass = (key) => (key in BUILTIN ? 'c-' + key : 'c-custom');

/**
 * makeCells fills a row element with a cell for each column shown, in
 * order, each with its column's key in data-col.
 */
export function makeCells(el) {
  for (const key of visibleColumns()) {
    const s = document.createElement('span');
    s.className = cellClass(key);
    s.dataset.col = key;
    s.setAttribute('role', 'gridcell');
    el.append(s);
  }
}

/**
 * fillCells writes a row's cells: row is null while it loads; time is the
 * row's time as shown.
 */
export function fillCells(el, row, time) {
  for (const cell of el.children) {
    const key = cell.dataset.col;
    let v = '';
    if (!row) v = key === 'info' ? '…' : '';
    else if (key === 'no') v = row.no;
    else if (key === 'time') v = time;
    else if (key === 'iface') v = cell.title = ((S.cur && S.cur.interfaces) || [])[row.iface || 0] || '';
    else if (key === 'src') v = cell.title = row.src;
    else if (key === 'dst') v = cell.title = row.dst;
    else if (key === 'proto') v = row.proto;
    else if (key === 'len') v = row.length;
    else if (key === 'info') v = cell.title = row.info;
    else v = cell.title = (row.fields && row.fields[key]) || '';
    cell.textContent = v;
  }
  if (row) noteCells(time, row.src, row.dst);
}

// textWidth measures text in the font of the list's rows.
function textWidth(text) {
  if (!text) return 0;
  const cell = document.querySelector('#list-rows .row span');
  if (!cell) return 0;
  if (!measureCtx) measureCtx = document.createElement('canvas').getContext('2d');
  const cs = getComputedStyle(cell);
  measureCtx.font = cs.font;
  return measureCtx.measureText(text).width + parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight);
}

/** layoutColumns sets the columns' widths on the list. */
export function layoutColumns() {
  queued = false;
  const parts = [];
  let minW = 0;
  const shown = visibleColumns();
  const hasRest = shown.includes('info');
  shown.forEach((key, i) => {
    const c = BUILTIN[key] || { w: CUSTOM_W };
    const rest = c.rest || (!hasRest && i === shown.length - 1);
    const min = c.min || MIN_W;
    let w = widths[key] > 0 ? widths[key] : c.w;
    if (!w && c.fit) w = Math.min(c.max, Math.max(c.min, Math.ceil(textWidth(longest[key]) + 2)));
    if (w && !(rest && !widths[key])) { parts.push(w + 'px'); minW += w; }
    else { parts.push('minmax(' + min + 'px, 1fr)'); minW += min; }
  });
  scroller.style.setProperty('--cols', parts.join(' '));
  scroller.style.setProperty('--cols-min', minW + 'px');
}

/** noteCells takes note of a drawn row's time and addresses, widening their columns to fit. */
export function noteCells(time, src, dst) {
  let grew = false;
  for (const [k, v] of [['time', time], ['src', src], ['dst', dst]]) {
    if (v.length > longest[k].length) { longest[k] = v; grew = true; }
  }
  if (grew && !queued) { queued = true; requestAnimationFrame(layoutColumns); }
}

/** resetFit forgets the texts the columns fit (another capture or time format is shown). */
export function resetFit() { longest = noText(); layoutColumns(); }

const timeSelect = $('time-mode');

// buildHeader makes the header's cells for the columns shown: a title
// (the time format menu for Time), the sort arrow, and a grip to resize
// all but a column taking the rest.
function buildHeader() {
  header.textContent = '';
  const shown = visibleColumns();
  shown.forEach((key, i) => {
    const cell = document.createElement('span');
    cell.className = cellClass(key);
    cell.dataset.col = key;
    cell.setAttribute('role', 'columnheader');
    cell.title = key.startsWith('f:') ? 'Field ' + key.slice(2) : '';
    if (key === 'time') cell.append(timeSelect);
    else {
      const t = document.createElement('span');
      t.className = 'col-title';
      t.textContent = columnTitle(key);
      cell.append(t);
    }
    const arrow = document.createElement('span');
    arrow.className = 'col-sort';
    arrow.setAttribute('aria-hidden', 'true');
    cell.append(arrow);
    const rest = key === 'info' || (!shown.includes('info') && i === shown.length - 1);
    if (!rest || widths[key]) cell.append(makeGrip(cell, key));
    header.append(cell);
  });
  layoutColumns();
}

// makeGrip returns the resize grip of a header cell.
function makeGrip(cell, key) {
  const grip = document.createElement('span');
  grip.className = 'col-grip';
  grip.title = 'Drag to resize, double-click to fit';
  grip.addEventListener('pointerdown', (ev) => {
    ev.preventDefault();
    ev.stopPropagation();
    grip.setPointerCapture(ev.pointerId);
    grip.classList.add('dragging');
    const startX = ev.clientX;
    const startW = cell.getBoundingClientRect().width;
    const move = (e) => { widths[key] = Math.max(MIN_W, Math.round(startW + e.clientX - startX)); layoutColumns(); };
    const up = () => {
      grip.classList.remove('dragging');
      grip.removeEventListener('pointermove', move);
      grip.removeEventListener('pointerup', up);
      setPrefJSON('columns', widths);
    };
    grip.addEventListener('pointermove', move);
    grip.addEventListener('pointerup', up);
  });
  grip.addEventListener('click', (ev) => ev.stopPropagation());
  grip.addEventListener('dblclick', (ev) => {
    ev.stopPropagation();
    delete widths[key];
    setPrefJSON('columns', widths);
    layoutColumns();
  });
  return grip;
}

/** showSort marks the header of the column the list is sorted by (null: none). */
export function showSort(sort) {
  for (const cell of header.children) {
    const on = sort && sort.key === cell.dataset.col;
    cell.setAttribute('aria-sort', on ? (sort.desc ? 'descending' : 'ascending') : 'none');
    cell.querySelector('.col-sort').textContent = on ? (sort.desc ? '▼' : '▲') : '';
  }
}

// initReorder lets a header be dragged sideways to another place: it
// moves once the pointer has gone a few pixels (a click sorts instead).
function initReorder(onClick) {
  header.addEventListener('pointerdown', (ev) => {
    const cell = ev.target.closest('[role=columnheader]');
    if (!cell || ev.button !== 0 || ev.target.closest('select, .col-grip')) return;
    const key = cell.dataset.col;
    const x0 = ev.clientX;
    let dragging = false;
    header.setPointerCapture(ev.pointerId);
    const move = (e) => {
      if (!dragging && Math.abs(e.clientX - x0) < 6) return;
      dragging = true;
      cell.classList.add('col-moving');
      cell.style.transform = 'translateX(' + (e.clientX - x0) + 'px)';
    };
    const up = (e) => {
      header.removeEventListener('pointermove', move);
      header.removeEventListener('pointerup', up);
      header.removeEventListener('pointercancel', up);
      cell.classList.remove('col-moving');
      cell.style.transform = '';
      if (!dragging) { if (e.type === 'pointerup') onClick(key); return; }
      // The place: before the first shown column whose middle is right of the pointer.
      const shown = visibleColumns().filter((k) => k !== key);
      let before = null;
      for (const c of header.children) {
        if (c.dataset.col === key) continue;
        const r = c.getBoundingClientRect();
        if (e.clientX < r.left + r.width / 2) { before = c.dataset.col; break; }
      }
      const rest = layout.filter((c) => c.key !== key);
      const to = before === null ? (shown.length ? rest.findIndex((c) => c.key === shown[shown.length - 1]) + 1 : 0) : rest.findIndex((c) => c.key === before);
      moveColumn(key, to);
    };
    header.addEventListener('pointermove', move);
    header.addEventListener('pointerup', up);
    header.addEventListener('pointercancel', up);
  });
}

/**
 * initColumns builds the header and wires resizing and reordering;
 * onClick(key) is called when a header is clicked (to sort).
 */
export function initColumns(onClick = () => {}) {
  buildHeader();
  initReorder(onClick);
}
