// Captures: the menu of open captures, the header of the open one, opening
// and closing a view, the WebSocket's snapshots, uploads, the sample and
// downloads.
import * as API from './api.js';
import { resetFit } from './columns.js';
import { applyFilter, renderApplied, validateNow } from './filterbar.js';
import { fmtBytes, fmtCount, fmtSpan } from './format.js';
import { renderLive } from './live.js';
import { clearSelection, gotoPacket, renderList, resetView, scroller } from './list.js';
import { refreshNotes } from './marks.js';
import { pushActive } from './push.js';
import { S, growing, liveRunning, writeURL } from './state.js';
import { renderProgress, renderStatus } from './status.js';
import { treePlaceholder } from './tree.js';
import { $, saveURL, showError } from './ui.js';

/**
 * capLabel is how capture c is named on the page: its name, followed by
 * (2), (3)... for later captures of the same name, so they can be told
 * apart.
 */
export function capLabel(c) {
  const same = S.caps.filter((x) => x.name === c.name);
  if (same.length < 2) return c.name;
  same.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : a.id < b.id ? -1 : 1));
  const i = same.findIndex((x) => x.id === c.id);
  return i > 0 ? c.name + ' (' + (i + 1) + ')' : c.name;
}

let asking = ''; // the id of the capture whose × asks for confirmation

// focusKey names the focused element of the capture menu, so that a
// redrawn menu (each snapshot redraws it) gives it the focus back.
function focusKey(menu) {
  const el = document.activeElement;
  if (!el || !menu.contains(el)) return null;
  const holder = el.closest('[data-id]');
  return holder ? { id: holder.dataset.id, cls: el.className.split(' ')[0], confirm: !!el.closest('.confirm') } : null;
}

function restoreFocus(menu, key) {
  if (!key) return;
  const holder = menu.querySelector((key.confirm ? '.confirm' : 'a') + '[data-id="' + key.id + '"]');
  if (!holder) return;
  const el = holder.classList.contains(key.cls) ? holder : holder.querySelector('.' + key.cls);
  (el || holder).focus({ preventScroll: true });
}

function capInfo(c) {
  let t = fmtCount(c.packets) + ' pkts · ' + (c.packets ? fmtSpan(c.spanSeconds) + ' · ' : '') +
    fmtBytes(c.size) + ' · ' + (c.linkTypes.join(', ') || '—') +
    (c.state === 'ready' ? '' : ' · ' + c.state);
  if (c.created) t += ' · opened ' + new Date(c.created).toLocaleTimeString();
  return t;
}

let menuShape = ''; // what the drawn menu's items are, to redraw it only when they change

/**
 * renderCapMenu lists the open captures in the capture menu, newest first.
 * Snapshots come several times a second while a capture runs: when the
 * same captures are listed, only their counts are updated, so a click in
 * the menu never lands on an item being replaced.
 */
export function renderCapMenu() {
  const menu = $('cap-menu');
  if (asking && !S.caps.some((c) => c.id === asking)) asking = '';
  const caps = S.caps.slice().reverse();
  const shape = JSON.stringify([asking, caps.map((c) => [c.id, capLabel(c), liveRunning(c)])]);
  if (shape === menuShape && caps.length) {
    for (const c of caps) {
      const a = menu.querySelector('a[data-id="' + c.id + '"]');
      a.classList.toggle('current', !!(S.cur && S.cur.id === c.id));
      a.querySelector('.cap-info').textContent = capInfo(c);
    }
    return;
  }
  menuShape = shape;
  const key = focusKey(menu);
  menu.textContent = '';
  if (!caps.length) {
    const d = document.createElement('div');
    d.className = 'empty';
    d.textContent = 'No captures open';
    menu.append(d);
    return;
  }
  for (const c of caps) {
    const a = document.createElement('a');
    a.setAttribute('role', 'menuitem');
    a.tabIndex = 0;
    a.className = 'menu-item' + (S.cur && S.cur.id === c.id ? ' current' : '');
    a.href = '/c/' + c.id;
    a.dataset.id = c.id;
    const name = document.createElement('span');
    name.className = 'cap-label';
    name.textContent = capLabel(c);
    const info = document.createElement('span');
    info.className = 'cap-info';
    info.textContent = capInfo(c);
    if (c.created) info.title = 'Opened ' + new Date(c.created).toLocaleString();
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'del';
    del.title = 'Delete ' + capLabel(c) + '…';
    del.setAttribute('aria-label', del.title);
    del.textContent = '×';
    del.addEventListener('click', (ev) => {
      ev.preventDefault(); ev.stopPropagation();
      asking = c.id;
      renderCapMenu();
      const yes = menu.querySelector('.confirm .yes');
      if (yes) yes.focus();
    });
    a.append(name, info, del);
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      toggleMenu('cap', false);
      // The focused item is hidden with the menu: give the keyboard to
      // the packet list, as after opening a capture any other way.
      scroller.focus({ preventScroll: true });
      openCapture(c.id, {});
    });
    menu.append(a);
    if (asking === c.id) menu.append(confirmDelete(c));
  }
  restoreFocus(menu, key);
}

// confirmDelete is the question × asks under a capture's menu item.
function confirmDelete(c) {
  const box = document.createElement('div');
  box.className = 'confirm';
  box.dataset.id = c.id;
  box.setAttribute('role', 'alertdialog');
  const q = document.createElement('span');
  q.textContent = 'Delete ' + capLabel(c) + '?' + (liveRunning(c) ? ' It is still capturing: deleting stops it.' : '');
  box.setAttribute('aria-label', q.textContent);
  const yes = document.createElement('button');
  yes.type = 'button';
  yes.className = 'yes small';
  yes.textContent = liveRunning(c) ? 'Stop and delete' : 'Delete';
  const keep = document.createElement('button');
  keep.type = 'button';
  keep.className = 'keep small';
  keep.textContent = 'Keep';
  yes.addEventListener('click', async (ev) => {
    ev.stopPropagation();
    asking = '';
    try { await API.deleteCapture(c.id); } catch (e) { showError(e.message); }
    if (S.cur && S.cur.id === c.id) closeView();
    S.caps = S.caps.filter((x) => x.id !== c.id);
    renderCapMenu();
    const first = $('cap-menu').querySelector('a');
    if (first) first.focus();
  });
  keep.addEventListener('click', (ev) => {
    ev.stopPropagation();
    asking = '';
    renderCapMenu();
    const item = $('cap-menu').querySelector('a[data-id="' + c.id + '"]');
    if (item) item.focus();
  });
  box.append(q, yes, keep);
  return box;
}

let capError = ''; // the capture's error renderCapHeader shows, if any

function renderCapHeader() {
  const c = S.cur;
  $('cap-name').textContent = c ? capLabel(c) : 'No capture';
  $('download-button').disabled = !c;
  $('download-button').title = c ? '' : 'Open a capture to download it';
  $('edit-button').disabled = !c;
  $('edit-button').title = c ? 'Mark, ignore or comment packets' : 'Open a capture to mark, ignore or comment its packets';
  if (!c) { $('cap-meta').textContent = ''; renderLive(); return; }
  let meta = fmtCount(c.packets) + ' packets';
  if (c.packets) meta += ' · ' + fmtSpan(c.spanSeconds);
  meta += ' · ' + (c.linkTypes.join(', ') || '—');
  $('cap-meta').textContent = meta;
  $('cap-meta').title = c.first ? c.first + ' — ' + c.last : '';
  renderLive();
  let msg = '';
  if (c.state === 'error' && c.live) {
    msg = 'The live capture failed: ' + c.error + '. The ' + fmtCount(c.packets) + ' packets captured before are shown.';
  } else if (c.state === 'error') {
    msg = 'This capture is damaged: ' + c.error + '. The ' + fmtCount(c.packets) + ' packets before the fault are shown.';
  }
  // Each snapshot of the open capture comes here: it clears the
  // capture's own error, never the message of something the user did (a
  // refused upload or download), which would vanish at once while a live
  // capture runs.
  if (msg) showError(msg);
  else if (capError && $('error-banner').textContent === capError) showError('');
  capError = msg;
}

function closeView() {
  S.cur = null; S.filter = ''; S.gen++; resetView(); S.cache.clear(); S.total = S.displayed = 0;
  S.pending.clear();
  clearSelection();
  renderApplied();
  renderCapHeader(); renderStatus(); renderList(); writeURL();
}

/** openCapture shows capture id, under filter, with packet p selected. */
export async function openCapture(id, { filter = '', p = 0 }) {
  let info;
  try { info = await API.getCapture(id); } catch (e) { showError(e.message); return; }
  S.cur = info;
  S.filter = '';
  S.gen++; resetView();
  S.cache.clear();
  S.pending.clear();
  S.total = S.displayed = info.packets;
  resetFit();
  // A link to one packet shows that packet, not the end.
  S.follow = liveRunning(info) && !(p > 0);
  clearSelection();
  refreshNotes();
  $('filter-input').value = filter;
  validateNow();
  renderApplied();
  showError('');
  renderCapHeader();
  renderCapMenu();
  scroller.scrollTop = 0;
  if (filter) {
    await applyFilter(filter);
  } else {
    renderList();
    renderStatus();
    renderProgress();
  }
  // A WebSocket snapshot may have arrived while the capture was being
  // fetched: take it when it is further along.
  const snap = S.caps.find((x) => x.id === id);
  if (snap && S.cur && S.cur.id === id && (snap.packets > S.cur.packets || (snap.state !== 'indexing' && S.cur.state === 'indexing'))) {
    onState(S.caps);
  }
  if (p > 0) await gotoPacket(p);
  writeURL();
}

/** onState takes a snapshot of all captures (from the WebSocket or an answer). */
export function onState(caps) {
  S.caps = caps;
  renderCapMenu();
  if (!S.cur) return;
  const c = caps.find((x) => x.id === S.cur.id);
  if (!c) { closeView(); return; }
  S.cur = c;
  renderCapHeader();
  if (S.selPos < 0) treePlaceholder();
  // While the list's new rows are pushed, the counts come with them; the
  // snapshot that says the capture no longer grows has the final ones.
  if (pushActive() && growing(c)) { renderStatus(); renderProgress(); renderList(); return; }
  // Counts only grow; an answer that raced this snapshot may be newer.
  const total = Math.max(c.packets, S.total);
  let displayed = total;
  if (S.filter) {
    const f = (c.filters || []).find((x) => x.filter === S.filter);
    displayed = f ? Math.max(f.matched, S.displayed) : S.displayed;
  }
  if (total !== S.total || displayed !== S.displayed) {
    S.total = total;
    S.displayed = displayed;
    renderList();
  }
  renderStatus();
  renderProgress();
}

/** takeInfo puts a capture's info from an API answer into the state, as a WebSocket snapshot would. */
export function takeInfo(info) {
  const caps = S.caps.slice();
  const i = caps.findIndex((x) => x.id === info.id);
  if (i >= 0) caps[i] = info; else caps.push(info);
  onState(caps);
}

/** uploadFile uploads a capture file and opens it. */
export async function uploadFile(file) {
  const max = +document.body.dataset.maxUpload;
  if (max && file.size > max) {
    showError(file.name + ' is ' + fmtBytes(file.size) + ', over the upload limit of ' + fmtBytes(max) + '.');
    return;
  }
  showError('');
  $('progress').hidden = false;
  $('upload-row').hidden = false;
  $('upload-bar').value = 0;
  $('upload-text').textContent = file.name;
  let info;
  try {
    info = await API.upload(file, (loaded, total) => {
      $('upload-bar').value = (100 * loaded) / total;
      $('upload-text').textContent = file.name + ' · ' + fmtBytes(loaded) + ' of ' + fmtBytes(total);
    });
  } catch (e) {
    showError('Upload of ' + file.name + ' failed: ' + e.message);
    return;
  } finally {
    $('upload-row').hidden = true;
    renderProgress();
  }
  openCapture(info.id, {});
}

/** openSample opens the built-in sample capture. */
export async function openSample() {
  try {
    const info = await API.openSample();
    await openCapture(info.id, {});
  } catch (e) { showError(e.message); }
}

/** toggleMenu opens or closes ('cap', 'download' or 'edit') menu; on undefined toggles. */
export function toggleMenu(which, on) {
  const menu = $(which + '-menu');
  const btn = $(which + '-button');
  const show = on === undefined ? menu.hidden : on;
  menu.hidden = !show;
  if (which === 'cap' && !show && asking) { asking = ''; renderCapMenu(); }
  btn.setAttribute('aria-expanded', show ? 'true' : 'false');
  if (show) { const f = menu.querySelector('a'); if (f) f.focus(); }
}

/** download saves the open capture's packets (scope 'all' or 'displayed') as format. */
export async function download(scope, format) {
  if (!S.cur) return;
  const url = API.downloadURL(S.cur.id, format, scope === 'displayed' ? S.filter : '');
  // A browser drops the message of a download the server refuses (a
  // .pcap of a capture mixing link types: 409): ask first (check=1
  // answers 204 or the refusal), then let a link stream the file to disk.
  try {
    await API.api(url + '&check=1');
  } catch (e) {
    showError('Cannot download ' + S.cur.name + ': ' + e.message);
    return;
  }
  saveURL(url);
}
