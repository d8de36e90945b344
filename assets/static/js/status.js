// The status bar (counts, selection) and the progress bars (upload,
// indexing, filtering).
import { fmtCount } from './format.js';
import { S, filterBusy, shownFilter } from './state.js';
import { $ } from './ui.js';

/** renderStatus writes the counts and the selected packet in the status bar. */
export function renderStatus() {
  const c = S.cur;
  if (!c) { $('status-count').textContent = 'No capture'; $('status-sel').textContent = ''; return; }
  let t = 'Displayed ' + fmtCount(S.displayed) + ' of ' + fmtCount(S.total);
  if (c.state === 'indexing') t += ' (indexing…)';
  if (c.state === 'capturing') t += ' (capturing…)';
  const f = shownFilter(c);
  if (filterBusy(c, f)) t += f.queued && !f.scanned ? ' (filter queued…)' : ' (filtering…)';
  $('status-count').textContent = t;
  $('status-sel').textContent = S.selNo ? 'Packet ' + fmtCount(S.selNo) + ' selected' : '';
}

/** renderProgress shows the bars of what is under way. */
export function renderProgress() {
  const c = S.cur;
  let any = !$('upload-row').hidden;
  const idx = c && c.state === 'indexing';
  $('index-row').hidden = !idx;
  if (idx) {
    const pct = c.size ? Math.min(100, (100 * c.indexedBytes) / c.size) : 0;
    $('index-bar').value = pct;
    $('index-text').textContent = pct.toFixed(0) + ' % · ' + fmtCount(c.packets) + ' packets';
    any = true;
  }
  const f = shownFilter(c);
  const filtering = filterBusy(c, f);
  $('filter-row').hidden = !filtering;
  if (filtering) {
    const pct = c.packets ? (100 * f.scanned) / c.packets : 0;
    let t = pct.toFixed(0) + ' % · ' + fmtCount(f.matched) + ' matches';
    // A queued job waits for a worker (others' filters run first):
    // say so rather than show a bar stuck at 0 %.
    const line = f.position === 1 ? 'next in line' : 'number ' + f.position + ' in line';
    if (f.queued && !f.scanned) {
      $('filter-bar').removeAttribute('value'); // indeterminate
      t = 'Queued, ' + line;
    } else {
      $('filter-bar').value = pct;
      if (f.queued) t += ' · waiting its turn, ' + line;
    }
    $('filter-text').textContent = t;
    any = true;
  }
  $('progress').hidden = !any;
}
