// The packet list's columns: their widths (CSS grid columns in --cols, on
// #list-scroll, for the header and the rows alike), resized by dragging a
// header's right edge (a double click gives the column back its own
// width) and remembered by the browser. Source and Destination fit the
// longest address shown (an IPv6 address whole), and Time its longest
// time, unless resized.
import { prefJSON, setPrefJSON } from './prefs.js';
import { $ } from './ui.js';

// COLS are the columns in order: a fixed width in px, fit to their text
// (at least min px), or the last, which takes the rest (at least min px).
const COLS = [
  { key: 'no', w: 70 },
  { key: 'time', fit: true, min: 130, max: 280 },
  { key: 'src', fit: true, min: 120, max: 420 },
  { key: 'dst', fit: true, min: 120, max: 420 },
  { key: 'proto', w: 80 },
  { key: 'len', w: 64 },
  { key: 'info', rest: true, min: 120 },
];
const MIN_W = 36;

const scroller = $('list-scroll');
let widths = prefJSON('columns', {}); // key -> px, as the user set them
const FITTED = COLS.filter((c) => c.fit).map((c) => c.key);
const noText = () => Object.fromEntries(FITTED.map((k) => [k, '']));
let longest = noText();               // the longest text of each fitted column
let measureCtx = null;
let queued = false;

// textWidth measures text in the font of the list's rows.
function textWidth(text) {
  if (!text) return 0;
  const cell = document.querySelector('#list-rows .row .c-src');
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
  for (const c of COLS) {
    let w = widths[c.key] > 0 ? widths[c.key] : c.w;
    if (!w && c.fit) w = Math.min(c.max, Math.max(c.min, Math.ceil(textWidth(longest[c.key]) + 2)));
    if (w && !(c.rest && !widths[c.key])) { parts.push(w + 'px'); minW += w; }
    else { parts.push('minmax(' + c.min + 'px, 1fr)'); minW += c.min; }
  }
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

/** initColumns adds a grip to each header but the last and wires them. */
export function initColumns() {
  const header = scroller.querySelector('.list-header');
  COLS.forEach((c) => {
    if (c.rest) return;
    const cell = header.querySelector('.c-' + c.key);
    const grip = document.createElement('span');
    grip.className = 'col-grip';
    grip.title = 'Drag to resize, double-click to fit';
    cell.append(grip);
    grip.addEventListener('pointerdown', (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
      grip.setPointerCapture(ev.pointerId);
      grip.classList.add('dragging');
      const startX = ev.clientX;
      const startW = cell.getBoundingClientRect().width;
      const move = (e) => { widths[c.key] = Math.max(MIN_W, Math.round(startW + e.clientX - startX)); layoutColumns(); };
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
      delete widths[c.key];
      setPrefJSON('columns', widths);
      layoutColumns();
    });
  });
  layoutColumns();
}
