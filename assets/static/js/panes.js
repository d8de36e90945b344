// The splitters between the three panes: dragged with the mouse or moved
// with ↑/↓, the heights remembered by the browser.
import { renderList } from './list.js';
import { pref, setPref } from './prefs.js';
import { $ } from './ui.js';

/** initSplitters restores the remembered pane heights and wires the splitters. */
export function initSplitters() {
  const root = document.documentElement;
  for (const v of ['list-h', 'detail-h']) {
    const saved = pref(v);
    if (saved) root.style.setProperty('--' + v, saved);
  }
  for (const sp of document.querySelectorAll('.splitter')) {
    const pane = $(sp.dataset.above);
    const v = pane.id === 'list-pane' ? 'list-h' : 'detail-h';
    const setH = (h) => {
      const px = Math.max(60, Math.min(h, window.innerHeight - 200)) + 'px';
      root.style.setProperty('--' + v, px);
      setPref(v, px);
      renderList();
    };
    sp.addEventListener('pointerdown', (ev) => {
      ev.preventDefault();
      sp.setPointerCapture(ev.pointerId);
      sp.classList.add('dragging');
      const startY = ev.clientY;
      const startH = pane.offsetHeight;
      const move = (e) => setH(startH + e.clientY - startY);
      const up = () => {
        sp.classList.remove('dragging');
        sp.removeEventListener('pointermove', move);
        sp.removeEventListener('pointerup', up);
      };
      sp.addEventListener('pointermove', move);
      sp.addEventListener('pointerup', up);
    });
    sp.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowUp') { setH(pane.offsetHeight - 20); ev.preventDefault(); }
      if (ev.key === 'ArrowDown') { setH(pane.offsetHeight + 20); ev.preventDefault(); }
    });
  }
}
