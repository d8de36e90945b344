// The top bar's Explorer link: it opens the Filter explorer (explorer.html)
// on the expression in the filter bar (or the applied filter) and the open
// capture.
import { S } from './state.js';
import { $ } from './ui.js';

/** initExploreLink points the link at the current expression and capture whenever it is used. */
export function initExploreLink() {
  const a = $('explore-link');
  const update = () => {
    const q = new URLSearchParams();
    const expr = $('filter-input').value.trim() || S.filter;
    if (S.cur) q.set('capture', S.cur.id);
    if (expr) q.set('expr', expr);
    const qs = q.toString();
    a.href = '/explore' + (qs ? '?' + qs : '');
  };
  for (const ev of ['pointerdown', 'focus', 'mouseenter']) a.addEventListener(ev, update);
  update();
}
