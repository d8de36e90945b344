// Sorting the packet list by a column, on the server (a click on a
// header: ascending, then descending, then capture order again, as
// Wireshark's). The server sorts the whole capture or the filter's
// packets and serves the rows in that order; the page asks for rows,
// positions (Go to packet) and the selection in it. The sort is kept by
// the browser.
import * as API from './api.js';
import { columnTitle, initColumns, showSort, sortColumn, visibleColumns } from './columns.js';
import { fmtCount } from './format.js';
import { clearSelection, renderList, resetView, selectPos } from './list.js';
import { prefJSON, setPrefJSON } from './prefs.js';
import { S } from './state.js';
import { $, showError } from './ui.js';

// readSort reads the remembered sort: {key, column, desc} or null.
function readSort() {
  const s = prefJSON('sort', null);
  if (!s || typeof s.key !== 'string') return null;
  return { key: s.key, column: sortColumn(s.key), desc: !!s.desc };
}

let progressGen = 0;

// watchProgress shows the sort's progress in the status bar until it is
// done (the rows' request waits for it on the server).
async function watchProgress(sort) {
  const gen = ++progressGen;
  const status = $('status-field');
  for (let k = 0; S.cur && gen === progressGen; k++) {
    let st;
    try { st = await API.sort(S.cur.id, sort, S.filter); } catch (e) { showError(e.message); return; }
    if (gen !== progressGen) return;
    if (st.done) {
      if (st.error) showError(st.error);
      else if (k > 0) status.textContent = 'Sorted ' + fmtCount(st.total) + ' packets by ' + columnTitle(sort.key);
      return;
    }
    status.textContent = 'Sorting by ' + columnTitle(sort.key) + ': ' + fmtCount(st.keyed) + ' of ' + fmtCount(st.total) + ' packets…';
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * setSort sorts the list by column key ({key, desc}), or gives back the
 * capture order (null); the selected packet stays selected, in its new
 * place.
 */
export async function setSort(sort) {
  if (sort) sort = { key: sort.key, column: sortColumn(sort.key), desc: !!sort.desc };
  S.sort = sort;
  setPrefJSON('sort', sort && { key: sort.key, desc: sort.desc });
  showSort(sort);
  if (!S.cur) return;
  S.gen++;
  S.cache.clear();
  S.pending.clear();
  resetView();
  const no = S.selNo, pos = S.selPos;
  progressGen++;
  if (sort) watchProgress(sort);
  if (!no) { renderList(); return; }
  try {
    const r = await API.position(S.cur.id, no, S.filter, sort);
    // Another sort, or a packet the user selected meanwhile, wins.
    if (S.sort !== sort || S.selNo !== no || S.selPos !== pos) { renderList(); return; }
    await selectPos(r.position);
  } catch (e) {
    if (e.status !== 404) showError(e.message);
    clearSelection();
    renderList();
  }
}

/** cycleSort is a click on column key's header: ascending, descending, none. */
export function cycleSort(key) {
  const cur = S.sort && S.sort.key === key ? S.sort : null;
  if (!cur) setSort({ key, desc: false });
  else if (!cur.desc) setSort({ key, desc: true });
  else setSort(null);
}

/** initSorting builds the list's header, a click on which sorts. */
export function initSorting() {
  S.sort = readSort();
  if (S.sort && !visibleColumns().includes(S.sort.key)) S.sort = null;
  initColumns(cycleSort);
  showSort(S.sort);
  // Columns that change keep the sort's header marked.
  document.addEventListener('pkttap:columns', () => showSort(S.sort));
}
