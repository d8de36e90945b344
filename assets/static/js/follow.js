// Follow TCP/UDP Stream, as Wireshark's dialog: the payload of the
// selected packet's conversation in order, the client's bytes and the
// server's in their own colours, as ASCII, a hex dump, C arrays, raw hex
// or UTF-8, both directions or one; "Filter Out This Stream" and "Show
// Only This Stream" set the display filter; Save as… downloads it. The
// server pages the stream (GET /api/captures/{id}/follow): scrolling to
// the end asks for the next page, so a long stream is never loaded whole.
// Opened from the packet list's context menu (Follow ▸ TCP Stream) or
// with Ctrl+Alt+Shift+T / U, as in Wireshark.
import * as API from './api.js';
import { useFilter } from './filterbar.js';
import { selectPos } from './list.js';
import { S, liveRunning } from './state.js';
import { $, el, saveURL } from './ui.js';

// pageBytes is how many bytes a page asks for; <html data-follow-page>
// lowers it for tests.
const pageBytes = () => +(document.documentElement.dataset.followPage || 64 * 1024);
const FORMATS = [['ascii', 'ASCII'], ['hex', 'Hex Dump'], ['carray', 'C Arrays'], ['raw', 'Raw'], ['utf8', 'UTF-8']];

let dlg, body, title, nodes, stats, fmtSel, dirSel, streamIn, errEl, menu;
// The stream shown and how far it is loaded.
const cur = { proto: 'tcp', stream: -1, next: 0, total: 0, loading: false, gen: 0, live: 0 };

function fmtBytes(n) {
  if (n < 1000) return n + ' bytes';
  if (n < 1e6) return (n / 1e3).toFixed(1) + ' kB';
  return (n / 1e6).toFixed(1) + ' MB';
}

function followURL(q) {
  return '/api/captures/' + S.cur.id + '/follow?proto=' + cur.proto + '&format=' + fmtSel.value + '&dir=' + dirSel.value + q;
}

function setError(msg) {
  errEl.textContent = msg;
  errEl.hidden = !msg;
}

// load asks for the page at cur.next and appends it; reset starts over.
async function load(reset) {
  if (!S.cur || cur.stream < 0) return;
  if (reset) {
    cur.gen++; cur.next = 0; cur.total = 0;
    body.textContent = '';
    body.scrollTop = 0;
  } else if (cur.loading || cur.next >= cur.total) return;
  const gen = cur.gen;
  cur.loading = true;
  let r;
  try {
    r = await API.api(followURL('&stream=' + cur.stream + '&offset=' + cur.next + '&limit=' + pageBytes()));
  } catch (e) {
    cur.loading = false;
    if (gen === cur.gen) setError(e.message);
    return;
  }
  cur.loading = false;
  if (gen !== cur.gen) return;
  setError('');
  render(r);
  // A short page leaves no scrollbar: ask for more at once.
  if (cur.next < cur.total && body.scrollHeight <= body.clientHeight + 40) load(false);
}

function render(r) {
  const P = r.proto.toUpperCase();
  title.textContent = 'Follow ' + P + ' Stream (' + r.filter + ')';
  streamIn.value = String(r.stream);
  nodes.textContent = '';
  if (r.packets) {
    nodes.append(el('span', { class: 'follow-c0' }, 'Client ' + r.client), ' → ', el('span', { class: 'follow-c1' }, 'Server ' + r.server));
  } else {
    nodes.append('This stream has no packets' + (r.capturing ? ' yet.' : '.'));
  }
  stats.textContent = r.packets + ' packets · client ' + fmtBytes(r.clientBytes) + ' · server ' + fmtBytes(r.serverBytes) + (r.capturing ? ' · capturing' : '');
  const frag = document.createDocumentFragment();
  for (const p of r.pieces) {
    const s = el('span', { class: 'follow-c' + p.dir + (p.gap ? ' follow-gap' : ''), title: 'Packet ' + p.no + (p.dir ? ' (server)' : ' (client)') });
    s.dataset.no = String(p.no);
    // Raw hex is a line per piece; text runs on, its colour telling the sides apart.
    s.textContent = fmtSel.value === 'raw' ? p.text + '\n' : p.text;
    frag.append(s);
  }
  body.append(frag);
  cur.next = r.next;
  cur.total = r.total;
  cur.capturing = r.capturing;
}

/** openFollow opens the dialog on the stream of proto ('tcp' or 'udp') packet no belongs to. */
export async function openFollow(proto, no) {
  if (!S.cur || !no) return;
  cur.proto = proto;
  closeMenu();
  let r;
  try {
    r = await API.api('/api/captures/' + S.cur.id + '/follow?proto=' + proto + '&packet=' + no + '&limit=1');
  } catch (e) {
    setError(e.message);
    title.textContent = 'Follow ' + proto.toUpperCase() + ' Stream';
    body.textContent = '';
    nodes.textContent = '';
    stats.textContent = '';
    if (!dlg.open) dlg.showModal();
    return;
  }
  cur.stream = r.stream;
  dirSel.value = 'both'; // a new stream is shown whole; the format stays
  if (!dlg.open) dlg.showModal();
  await load(true);
  body.focus();
}

function step(d) {
  const n = Math.max(0, (parseInt(streamIn.value, 10) || 0) + d);
  cur.stream = n;
  load(true);
}

function closeMenu() { if (menu) menu.hidden = true; }

function buildDialog() {
  fmtSel = el('select', { id: 'follow-format', 'aria-label': 'Show data as' });
  for (const [v, t] of FORMATS) fmtSel.append(el('option', { value: v }, t));
  dirSel = el('select', { id: 'follow-dir', 'aria-label': 'Direction' },
    el('option', { value: 'both' }, 'Entire conversation'),
    el('option', { value: 'client' }, 'Client → server only'),
    el('option', { value: 'server' }, 'Server → client only'));
  streamIn = el('input', { id: 'follow-stream', type: 'number', min: '0', 'aria-label': 'Stream' });
  title = el('h2', { id: 'follow-title' }, 'Follow Stream');
  nodes = el('div', { id: 'follow-nodes', class: 'follow-nodes' });
  stats = el('div', { id: 'follow-stats', class: 'dialog-note' });
  errEl = el('div', { id: 'follow-error', class: 'dialog-error', role: 'alert', hidden: true });
  body = el('pre', { id: 'follow-body', class: 'follow-body', tabIndex: 0, 'aria-label': 'Stream content' });
  const btn = (id, text, fn, cls = '') => { const b = el('button', { type: 'button', id, class: cls }, text); b.addEventListener('click', fn); return b; };
  const filter = (only) => () => {
    const f = cur.proto + '.stream eq ' + cur.stream;
    dlg.close();
    useFilter(only ? f : '!(' + f + ')', true);
  };
  dlg = el('dialog', { id: 'follow-dialog', class: 'dialog follow-dialog', 'aria-labelledby': 'follow-title' },
    title, nodes, errEl, body, stats,
    el('div', { class: 'follow-controls' },
      el('label', {}, 'Show as ', fmtSel),
      el('label', {}, dirSel),
      el('label', { class: 'follow-step' }, 'Stream ', btn('follow-prev', '−', () => step(-1)), streamIn, btn('follow-next', '+', () => step(1)))),
    el('div', { class: 'dialog-buttons' },
      btn('follow-filter-out', 'Filter Out This Stream', filter(false)),
      btn('follow-show-only', 'Show Only This Stream', filter(true)),
      btn('follow-save', 'Save as…', () => saveURL(followURL('&stream=' + cur.stream + '&download=1'))),
      btn('follow-close', 'Close', () => dlg.close(), 'primary')));
  document.body.append(dlg);
  fmtSel.addEventListener('change', () => load(true));
  dirSel.addEventListener('change', () => load(true));
  streamIn.addEventListener('change', () => step(0));
  body.addEventListener('scroll', () => {
    if (body.scrollTop + body.clientHeight >= body.scrollHeight - 200) load(false);
  }, { passive: true });
  dlg.addEventListener('close', () => { cur.gen++; });
  // A running capture's stream grows: ask for what came, now and then.
  setInterval(() => {
    if (dlg.open && !cur.loading && liveRunning(S.cur) && cur.next >= cur.total) {
      const gen = cur.gen;
      API.api(followURL('&stream=' + cur.stream + '&limit=1')).then((r) => {
        if (gen !== cur.gen) return;
        if (r.total > cur.total) { cur.total = r.total; load(false); }
        stats.textContent = r.packets + ' packets · client ' + fmtBytes(r.clientBytes) + ' · server ' + fmtBytes(r.serverBytes) + (r.capturing ? ' · capturing' : '');
      }, () => {});
    }
  }, 1000);
}

function buildMenu() {
  const item = (proto, key) => {
    const a = el('a', { href: '#', role: 'menuitem', id: 'follow-menu-' + proto }, proto.toUpperCase() + ' Stream', el('span', { class: 'key' }, key));
    a.addEventListener('click', (ev) => { ev.preventDefault(); openFollow(proto, S.selNo); });
    return a;
  };
  const head = el('a', { href: '#', role: 'menuitem', 'aria-disabled': 'true', class: 'follow-menu-head' }, 'Follow');
  menu = el('div', { id: 'list-ctx-menu', class: 'menu ctx-menu', role: 'menu', 'aria-label': 'Packet', hidden: true },
    head, item('tcp', 'Ctrl+Alt+Shift+T'), item('udp', 'Ctrl+Alt+Shift+U'));
  document.body.append(menu);
  menu.addEventListener('keydown', (ev) => {
    const items = Array.from(menu.querySelectorAll('a:not([aria-disabled])'));
    const i = items.indexOf(document.activeElement);
    if (ev.key === 'ArrowDown') (items[i + 1] || items[0]).focus();
    else if (ev.key === 'ArrowUp') (items[i - 1] || items[items.length - 1]).focus();
    else if (ev.key === 'Escape' || ev.key === 'Tab') { closeMenu(); $('list-scroll').focus(); }
    else return;
    ev.preventDefault();
  });
  document.addEventListener('pointerdown', (ev) => { if (!menu.contains(ev.target)) closeMenu(); });
}

function openMenu(x, y) {
  menu.hidden = false;
  const w = menu.offsetWidth, h = menu.offsetHeight;
  menu.style.left = Math.min(x, window.innerWidth - w - 4) + 'px';
  menu.style.top = Math.min(y, window.innerHeight - h - 4) + 'px';
  const first = menu.querySelector('a:not([aria-disabled])');
  if (first) first.focus();
}

/** initFollow wires the packet list's context menu, the keys and the dialog. */
export function initFollow() {
  const link = el('link', { rel: 'stylesheet', href: new URL('../follow.css', import.meta.url).href });
  document.head.append(link);
  buildDialog();
  buildMenu();
  $('list-rows').addEventListener('contextmenu', (ev) => {
    const row = ev.target.closest('.row');
    if (!row || !S.cur) return;
    ev.preventDefault();
    selectPos(+row.dataset.pos, { scroll: false });
    openMenu(ev.clientX, ev.clientY);
  });
  $('list-scroll').addEventListener('keydown', (ev) => {
    if (ev.target !== $('list-scroll') || !S.selNo) return;
    if ((ev.shiftKey && ev.key === 'F10') || ev.key === 'ContextMenu') {
      const r = $('list-rows').querySelector('.row.selected') || $('list-scroll');
      const b = r.getBoundingClientRect();
      ev.preventDefault();
      openMenu(b.left + 40, b.bottom);
    }
  });
  document.addEventListener('keydown', (ev) => {
    if (!(ev.ctrlKey && ev.altKey && ev.shiftKey) || !S.selNo) return;
    const key = ev.code || 'Key' + ev.key.toUpperCase();
    const k = key === 'KeyT' ? 'tcp' : key === 'KeyU' ? 'udp' : '';
    if (!k) return;
    ev.preventDefault();
    openFollow(k, S.selNo);
  });
}
