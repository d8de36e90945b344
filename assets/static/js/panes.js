// The splitters between the three panes, dragged with the mouse or moved
// with ↑/↓. The layout is kept as the panes' proportions of the height they
// share (the CSS flex factors --list-f, --detail-f, --bytes-f), so a reload
// or another window size keeps it; a splitter never makes a pane smaller
// than its CSS min-height, which keeps a few rows of each in view.
import { renderList } from './list.js';
import { prefJSON, setPrefJSON } from './prefs.js';
import { $ } from './ui.js';

const IDS = ['list-pane', 'detail-pane', 'bytes-pane'];
const VARS = ['--list-f', '--detail-f', '--bytes-f'];
const root = document.documentElement;

// setShares sets the panes' flex factors (any positive numbers, used as
// proportions).
function setShares(f) {
  f.forEach((x, i) => root.style.setProperty(VARS[i], String(x)));
}

// heights returns the panes' heights and minimum heights in px.
function heights() {
  const h = IDS.map((id) => $(id).getBoundingClientRect().height);
  const min = IDS.map((id) => parseFloat(getComputedStyle($(id)).minHeight) || 0);
  return { h, min, sum: h[0] + h[1] + h[2] };
}

// layout makes the pane above splitter k (0: list, 1: details) want px
// tall, within its and the other panes' minimums; details below the list
// splitter keep the height they had at the start (keep) when they can.
function layout(k, px, keep) {
  const { h, min, sum } = heights();
  const next = h.slice();
  if (k === 0) {
    next[0] = Math.max(min[0], Math.min(px, sum - min[1] - min[2]));
    next[1] = Math.max(min[1], Math.min(keep, sum - next[0] - min[2]));
  } else {
    next[1] = Math.max(min[1], Math.min(px, sum - next[0] - min[2]));
  }
  next[2] = sum - next[0] - next[1];
  setShares(next);
  setPrefJSON('panes', next.map((x) => x / sum));
  renderList();
}

// saved returns the remembered proportions, or null when there are none
// or they make no sense.
function saved() {
  const f = prefJSON('panes', null);
  if (!Array.isArray(f) || f.length !== 3 || !f.every((x) => Number.isFinite(x) && x > 0)) return null;
  return f;
}

/** initSplitters restores the remembered proportions and wires the splitters. */
export function initSplitters() {
  // Heights in px from before proportions were kept (they broke the
  // layout in a smaller window) are dropped.
  localStorage.removeItem('pkttap.list-h');
  localStorage.removeItem('pkttap.detail-h');
  const f = saved();
  if (f) setShares(f);
  document.querySelectorAll('.splitter').forEach((sp, k) => {
    const pane = $(IDS[k]);
    sp.addEventListener('pointerdown', (ev) => {
      ev.preventDefault();
      sp.setPointerCapture(ev.pointerId);
      sp.classList.add('dragging');
      const startY = ev.clientY;
      const startH = pane.getBoundingClientRect().height;
      const keep = $(IDS[1]).getBoundingClientRect().height;
      const move = (e) => layout(k, startH + e.clientY - startY, keep);
      const up = () => {
        sp.classList.remove('dragging');
        sp.removeEventListener('pointermove', move);
        sp.removeEventListener('pointerup', up);
      };
      sp.addEventListener('pointermove', move);
      sp.addEventListener('pointerup', up);
    });
    sp.addEventListener('keydown', (ev) => {
      const d = { ArrowUp: -20, ArrowDown: 20 }[ev.key];
      if (!d) return;
      ev.preventDefault();
      const h = pane.getBoundingClientRect().height;
      layout(k, h + d, $(IDS[1]).getBoundingClientRect().height);
    });
  });
}
