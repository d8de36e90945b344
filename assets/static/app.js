// pkttap-web's UI. Plain JavaScript, no build step: it talks to the REST API
// (documented in the README) and listens to /api/ws for progress snapshots.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const ROW_H = 22;           // px, must match --row-h
  // Lists taller than this many px are scaled into it (browsers cap element
  // heights near 16-33 million px). Tests lower it through
  // window.pkttapMaxSpacer to exercise the scaled mode with few rows.
  const MAX_SPACER = 8e6;
  const CHUNK = 200;          // rows fetched at once
  const MAX_HEX_BYTES = 1 << 20; // the bytes pane's rows stay under browsers' height cap

  const S = {
    caps: [],            // CaptureInfo[] from the WebSocket
    snapshots: 0,        // WebSocket state snapshots received
    cur: null,           // CaptureInfo of the open capture
    filter: '',          // the applied filter ('' = all)
    total: 0,            // packets indexed
    displayed: 0,        // packets displayed
    gen: 0,              // bumps when the view changes; stale answers are dropped
    cache: new Map(),    // display position -> Row
    pending: new Map(),  // chunk start -> promise of its fetch
    selPos: -1,
    selNo: 0,
    pkt: null,           // PacketResponse of the selected packet
    flat: [],            // visible tree nodes, in order, for keyboard navigation
    selNode: null,
    expanded: new Set(JSON.parse(localStorage.getItem('pkttap.expanded') || '[]')),
    timeMode: localStorage.getItem('pkttap.timeMode') || 'relative',
    history: JSON.parse(localStorage.getItem('pkttap.history') || '[]'),
    histPos: -1,
    filterState: '',     // '', 'valid', 'invalid'
    follow: true,        // a running live capture's list follows its end
  };
  const liveEnabled = document.body.dataset.live === 'on';
  const liveRunning = (c) => !!(c && c.live && c.live.running);

  // ---------- API ----------
  async function api(path, opts = {}) {
    const res = await fetch(path, Object.assign({ credentials: 'same-origin' }, opts));
    if (res.status === 204) return null;
    let body = null;
    try { body = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) {
      const err = new Error((body && body.error) || res.statusText || ('HTTP ' + res.status));
      err.status = res.status;
      err.column = body && body.column;
      throw err;
    }
    return body;
  }
  const enc = encodeURIComponent;

  function showError(msg) {
    const b = $('error-banner');
    b.textContent = msg;
    b.hidden = !msg;
  }

  // ---------- formatting ----------
  function fmtCount(n) { return Number(n).toLocaleString('en-US'); }
  // fmtBytes writes a size in binary units, as the server and the command
  // line do (--max-live 1GiB is "1 GiB", not "1.1 GB"): one decimal, none
  // when it is 0.
  function fmtBytes(n) {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while ((n >= 1024 || (i && +n.toFixed(1) >= 1024)) && i < u.length - 1) { n /= 1024; i++; }
    return (i ? String(+n.toFixed(1)) : n) + ' ' + u[i];
  }
  function fmtSpan(s) {
    if (s < 60) return s.toFixed(3) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.floor(s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }
  function fmtTime(row) {
    if (row.noTime) return 'no timestamp'; // a pcapng Simple Packet Block
    if (S.timeMode === 'absolute') {
      const d = new Date(row.sec * 1000);
      const iso = d.toISOString();
      return iso.slice(11, 19) + '.' + String(row.nsec).padStart(9, '0').slice(0, 6);
    }
    if (S.timeMode === 'delta') return (row.delta / 1e9).toFixed(6);
    const c = S.cur;
    const rel = (row.sec - c.firstSec) + (row.nsec - c.firstNsec) / 1e9;
    return rel.toFixed(6);
  }

  // ---------- URL state ----------
  function writeURL() {
    if (!S.cur) { history.replaceState(null, '', '/'); return; }
    const q = new URLSearchParams();
    if (S.filter) q.set('filter', S.filter);
    if (S.selNo) q.set('p', String(S.selNo));
    const qs = q.toString();
    history.replaceState(null, '', '/c/' + S.cur.id + (qs ? '?' + qs : ''));
  }
  function readURL() {
    const m = location.pathname.match(/^\/c\/([0-9a-f]{16})$/);
    const q = new URLSearchParams(location.search);
    return { id: m ? m[1] : '', filter: q.get('filter') || '', p: parseInt(q.get('p') || '0', 10) || 0 };
  }

  // ---------- captures ----------
  function renderCapMenu() {
    const menu = $('cap-menu');
    menu.textContent = '';
    if (!S.caps.length) {
      const d = document.createElement('div');
      d.className = 'empty';
      d.textContent = 'No captures open';
      menu.append(d);
      return;
    }
    for (const c of S.caps.slice().reverse()) {
      const a = document.createElement('a');
      a.setAttribute('role', 'menuitem');
      a.tabIndex = 0;
      a.className = 'menu-item' + (S.cur && S.cur.id === c.id ? ' current' : '');
      a.href = '/c/' + c.id;
      a.dataset.id = c.id;
      const name = document.createElement('span');
      name.textContent = c.name;
      const info = document.createElement('span');
      info.className = 'cap-info';
      info.textContent = fmtCount(c.packets) + ' pkts · ' + (c.packets ? fmtSpan(c.spanSeconds) + ' · ' : '') +
        fmtBytes(c.size) + ' · ' + (c.linkTypes.join(', ') || '—') +
        (c.state === 'ready' ? '' : ' · ' + c.state);
      const del = document.createElement('button');
      del.type = 'button';
      del.className = 'del';
      del.title = 'Close and delete ' + c.name;
      del.textContent = '×';
      del.addEventListener('click', async (ev) => {
        ev.preventDefault(); ev.stopPropagation();
        try { await api('/api/captures/' + c.id, { method: 'DELETE' }); } catch (e) { showError(e.message); }
        if (S.cur && S.cur.id === c.id) closeView();
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
    }
  }

  function renderCapHeader() {
    const c = S.cur;
    $('cap-name').textContent = c ? c.name : 'No capture';
    $('download-button').disabled = !c;
    $('download-button').title = c ? '' : 'Open a capture to download it';
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
  let capError = ''; // the capture's error renderCapHeader shows, if any

  function closeView() {
    S.cur = null; S.filter = ''; S.gen++; resetView(); S.cache.clear(); S.total = S.displayed = 0;
    S.pending.clear();
    clearSelection();
    renderCapHeader(); renderStatus(); renderList(); writeURL();
  }

  async function openCapture(id, { filter = '', p = 0 }) {
    let info;
    try { info = await api('/api/captures/' + id); } catch (e) { showError(e.message); return; }
    S.cur = info;
    S.filter = '';
    S.gen++; resetView();
    S.cache.clear();
    S.pending.clear();
    S.total = S.displayed = info.packets;
    // A link to one packet shows that packet, not the end.
    S.follow = liveRunning(info) && !(p > 0);
    clearSelection();
    $('filter-input').value = filter;
    validateNow();
    showError('');
    renderCapHeader();
    renderCapMenu();
    $('list-scroll').scrollTop = 0;
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

  // The server lets a filter job nobody asks about fall behind others
  // (README: filter jobs): while the shown filter is still running, ask
  // about it every KEEP_FILTER_MS (window.pkttapKeepFilterMs in tests) even
  // when no rows are missing.
  const KEEP_FILTER_MS = 5000;
  let keptAt = 0;
  function keepFilter() {
    const c = S.cur;
    const f = c && S.filter && (c.filters || []).find((x) => x.filter === S.filter);
    if (!filterBusy(c, f) || Date.now() - keptAt < (window.pkttapKeepFilterMs || KEEP_FILTER_MS)) return;
    keptAt = Date.now();
    api('/api/captures/' + c.id + '/filter', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ filter: S.filter }),
    }).catch(() => { /* the next snapshot tells */ });
  }

  // ---------- WebSocket ----------
  let wsDelay = 500;
  function connectWS() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/ws');
    ws.onopen = () => { wsDelay = 500; };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type === 'state') { S.snapshots++; onState(msg.captures); }
    };
    ws.onclose = () => { setTimeout(connectWS, wsDelay); wsDelay = Math.min(wsDelay * 2, 10000); };
  }

  function onState(caps) {
    S.caps = caps;
    renderCapMenu();
    if (!S.cur) return;
    const c = caps.find((x) => x.id === S.cur.id);
    if (!c) { closeView(); return; }
    S.cur = c;
    renderCapHeader();
    if (S.selPos < 0) treePlaceholder();
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

  function renderProgress() {
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
    const f = c && S.filter && (c.filters || []).find((x) => x.filter === S.filter);
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

  // filterBusy reports whether filter job f is still working through the
  // packets there are (on a running live capture it never ends: it is busy
  // only while it lags behind).
  function filterBusy(c, f) {
    if (!f || f.done) return false;
    return !(liveRunning(c) && f.scanned >= c.packets);
  }

  function renderStatus() {
    const c = S.cur;
    if (!c) { $('status-count').textContent = 'No capture'; $('status-sel').textContent = ''; return; }
    let t = 'Displayed ' + fmtCount(S.displayed) + ' of ' + fmtCount(S.total);
    if (c.state === 'indexing') t += ' (indexing…)';
    if (c.state === 'capturing') t += ' (capturing…)';
    const f = S.filter && (c.filters || []).find((x) => x.filter === S.filter);
    if (filterBusy(c, f)) t += f.queued && !f.scanned ? ' (filter queued…)' : ' (filtering…)';
    $('status-count').textContent = t;
    $('status-sel').textContent = S.selNo ? 'Packet ' + fmtCount(S.selNo) + ' selected' : '';
  }

  // ---------- packet list (virtual scrolling) ----------
  const scroller = $('list-scroll');
  const spacer = $('list-spacer');
  const rowsEl = $('list-rows');
  const headerH = () => scroller.querySelector('.list-header').offsetHeight;
  const viewRows = () => Math.max(1, Math.floor((scroller.clientHeight - headerH()) / ROW_H));

  function geometry() {
    const n = S.displayed;
    const full = n * ROW_H;
    const maxSpacer = window.pkttapMaxSpacer || MAX_SPACER;
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
    if (!g.scaled) return { first: Math.floor(st / ROW_H), off: st % ROW_H };
    if (pinned && pinned.st === st && pinned.n === g.n) return { first: pinned.first, off: 0 };
    const exact = (Math.min(st, g.maxScroll) / g.maxScroll) * Math.max(0, g.n - g.vr);
    return { first: Math.min(Math.round(exact), Math.max(0, g.n - g.vr)), off: 0 };
  }
  function scrollToFirst(first, g) {
    spacer.style.height = g.spacerH + 'px'; // the render may not have run yet
    if (!g.scaled) { scroller.scrollTop = first * ROW_H; return; }
    first = Math.max(0, Math.min(first, g.n - g.vr));
    scroller.scrollTop = (first / Math.max(1, g.n - g.vr)) * g.maxScroll;
    pinned = { st: scroller.scrollTop, first, n: g.n };
    lastView = { first, n: g.n };
  }

  let renderQueued = false;
  function renderList() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => { renderQueued = false; renderListNow(); });
  }

  let lastView = null; // {first, n} of the last render
  function resetView() { lastView = null; pinned = null; }
  function renderListNow() {
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
    for (const c of ['c-no', 'c-time', 'c-src', 'c-dst', 'c-proto', 'c-len', 'c-info']) {
      const s = document.createElement('span');
      s.className = c;
      s.setAttribute('role', 'gridcell');
      el.append(s);
    }
    return el;
  }

  function fillRow(el, pos, row) {
    el.dataset.pos = String(pos);
    const cells = el.children;
    let cls = 'row';
    if (!row) {
      cls += ' loading';
      cells[0].textContent = '';
      for (let i = 1; i < 7; i++) cells[i].textContent = i === 6 ? '…' : '';
    } else {
      if (row.tags) for (const t of row.tags) cls += ' t-' + t;
      cells[0].textContent = row.no;
      cells[1].textContent = fmtTime(row);
      cells[2].textContent = row.src;
      cells[3].textContent = row.dst;
      cells[4].textContent = row.proto;
      cells[5].textContent = row.length;
      cells[6].textContent = row.info;
      cells[6].title = row.info;
      el.dataset.no = String(row.no);
    }
    if (pos === S.selPos) { cls += ' selected'; el.setAttribute('aria-selected', 'true'); } else el.removeAttribute('aria-selected');
    el.className = cls;
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
    const id = S.cur.id;
    let q = '/api/captures/' + id + '/rows?start=' + start + '&count=' + CHUNK;
    if (S.filter) q += '&filter=' + enc(S.filter);
    try {
      const r = await api(q);
      if (gen !== S.gen) return;
      if (S.cache.size > 20000) S.cache.clear();
      r.rows.forEach((row, k) => S.cache.set(start + k, row));
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

  // ---------- selection ----------
  function placeholder(el, cls, text) {
    el.textContent = '';
    const d = document.createElement('div');
    d.className = cls;
    d.textContent = text;
    el.append(d);
  }

  // treePlaceholder fills the details pane while no packet is selected: a
  // capture read to its end without a packet (a file of only a header)
  // says so rather than asking to select one.
  function treePlaceholder() {
    const c = S.cur;
    const none = c && !c.packets && (c.state === 'ready' || c.state === 'error');
    placeholder($('tree'), 'empty', !c ? '' : none ? 'This capture has no packets.' :
      'Select a packet (click it, or use ↑/↓ in the list) to see its protocol fields.');
  }

  function clearSelection() {
    S.selPos = -1; S.selNo = 0; S.pkt = null; S.selNode = null;
    treePlaceholder();
    placeholder($('hex'), 'bytes-empty', S.cur ? 'Its bytes appear here: click a byte to find its field.' : '');
    $('bytes-note').hidden = true;
    $('status-field').textContent = '';
  }

  async function selectPos(pos, { scroll = true } = {}) {
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
    try { pkt = await api('/api/captures/' + S.cur.id + '/packets/' + row.no); } catch (e) { showError(e.message); return; }
    if (gen !== S.gen || S.selPos !== pos) return;
    S.pkt = pkt;
    renderTree();
    renderHex();
  }

  function ensureVisible(pos) {
    const g = geometry();
    const { first } = firstRow(g);
    if (pos < first) scrollToFirst(pos, g);
    else if (pos >= first + g.vr) scrollToFirst(pos - g.vr + 1, g);
  }

  async function gotoPacket(no) {
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
    if (S.filter) {
      try {
        const r = await api('/api/captures/' + S.cur.id + '/position?no=' + no + '&filter=' + enc(S.filter));
        pos = r.position;
        if (r.displayed > S.displayed) { S.displayed = r.displayed; renderStatus(); }
        if (!r.exact) $('status-field').textContent = 'Packet ' + no + ' is not displayed; showing the next one';
      } catch (e) { showError(e.message); return; }
    }
    await selectPos(pos);
  }

  // ---------- details tree ----------
  function nodeKey(path) { return path.join('/'); }

  function renderTree() {
    const tree = $('tree');
    tree.textContent = '';
    S.flat = [];
    const p = S.pkt;
    if (!p) return;
    if (!p.tree.length) {
      const d = document.createElement('div');
      d.className = 'empty';
      d.textContent = 'No protocol details for link type ' + p.linkType;
      tree.append(d);
      return;
    }
    const ul = document.createElement('ul');
    ul.setAttribute('role', 'group');
    p.tree.forEach((n, i) => ul.append(treeItem(n, [n.field || n.label.split(':')[0] || String(i)], 1)));
    tree.append(ul);
    refreshFlat();
    if (S.selNode) {
      const again = S.flat.find((el) => el.dataset.key === S.selNode);
      if (again) selectNode(again, false);
      else S.selNode = null;
    }
  }

  function treeItem(n, path, level) {
    const li = document.createElement('li');
    li.setAttribute('role', 'treeitem');
    li.setAttribute('aria-level', String(level));
    const key = nodeKey(path);
    const hasKids = n.children && n.children.length;
    if (hasKids) li.setAttribute('aria-expanded', S.expanded.has(key) ? 'true' : 'false');
    const row = document.createElement('span');
    row.className = 'node';
    row.dataset.key = key;
    row.dataset.off = String(n.offset);
    row.dataset.len = String(n.length);
    if (n.field) row.dataset.field = n.field;
    const tw = document.createElement('span');
    tw.className = 'twisty';
    tw.textContent = hasKids ? (S.expanded.has(key) ? '▾' : '▸') : '';
    const label = document.createElement('span');
    label.className = 'label';
    label.textContent = n.label;
    row.append(tw, label);
    li.append(row);
    li._node = n;
    if (hasKids) {
      const ul = document.createElement('ul');
      ul.setAttribute('role', 'group');
      n.children.forEach((ch, i) => ul.append(treeItem(ch, path.concat(ch.field || ch.label.split(':')[0] || String(i)), level + 1)));
      li.append(ul);
    }
    return li;
  }

  function refreshFlat() {
    S.flat = Array.from($('tree').querySelectorAll('.node')).filter((el) => el.offsetParent !== null);
  }

  function setExpanded(li, on) {
    if (!li.hasAttribute('aria-expanded')) return;
    li.setAttribute('aria-expanded', on ? 'true' : 'false');
    const row = li.firstChild;
    row.querySelector('.twisty').textContent = on ? '▾' : '▸';
    if (on) S.expanded.add(row.dataset.key); else S.expanded.delete(row.dataset.key);
    localStorage.setItem('pkttap.expanded', JSON.stringify(Array.from(S.expanded).slice(-200)));
    refreshFlat();
  }

  function selectNode(el, focus = true) {
    for (const x of $('tree').querySelectorAll('.node.selected')) x.classList.remove('selected');
    el.classList.add('selected');
    S.selNode = el.dataset.key;
    // Open the ancestors so the node is visible.
    for (let li = el.parentElement.parentElement.closest('li'); li; li = li.parentElement.closest('li')) {
      if (li.getAttribute('aria-expanded') === 'false') setExpanded(li, true);
    }
    const off = +el.dataset.off;
    const len = +el.dataset.len;
    highlight(off, len);
    $('status-field').textContent = (el.dataset.field ? el.dataset.field + ' · ' : '') +
      (len ? 'bytes ' + off + '–' + (off + len - 1) + ' (' + len + ')' : '');
    el.scrollIntoView({ block: 'nearest' });
    if (focus) $('tree').focus({ preventScroll: true });
  }

  // deepestNode returns the smallest tree node whose byte range holds i.
  function deepestNode(i) {
    let best = null;
    for (const el of $('tree').querySelectorAll('.node')) {
      const off = +el.dataset.off;
      const len = +el.dataset.len;
      if (len > 0 && i >= off && i < off + len && (!best || len <= +best.dataset.len)) best = el;
    }
    return best;
  }

  // ---------- bytes ----------
  // The bytes pane is virtual like the list: #hex holds one block as tall
  // as all the packet's rows (HEX_ROW_H each), padded down to the rows in
  // view, which are the only ones in the DOM. The selected field's range
  // (H.hlOff, H.hlLen) and the hovered byte are applied to each row as it
  // is drawn, so selecting any field costs O(rows in view).
  const HEX_ROW_H = 18;       // px, must match .hex .hr
  const HEX_MARGIN = 8;       // rows drawn above and below the view
  const H = {
    bin: '',             // the shown bytes, one char per byte (atob)
    n: 0,                // number of shown bytes
    rowsEl: null,        // the block of all rows
    first: -1,           // first row drawn
    last: -1,            // row after the last drawn
    hlOff: 0, hlLen: 0,  // the selected field's bytes
    hov: -1,             // the byte under the mouse
  };

  function renderHex() {
    const hex = $('hex');
    hex.textContent = '';
    H.rowsEl = null; H.first = H.last = -1; H.hlLen = 0; H.hov = -1;
    const p = S.pkt;
    if (!p) { H.bin = ''; H.n = 0; return; }
    const bin = atob(p.data || '');
    const n = Math.min(bin.length, MAX_HEX_BYTES);
    const note = $('bytes-note');
    const notes = [];
    if (p.truncated) notes.push('Truncated packet: ' + fmtCount(p.caplen) + ' of ' + fmtCount(p.length) + ' bytes were captured.');
    if (bin.length > n) notes.push('Showing the first ' + fmtCount(n) + ' bytes.');
    note.textContent = notes.join(' ');
    note.hidden = !notes.length;
    H.bin = bin; H.n = n;
    const rows = document.createElement('div');
    rows.className = 'hex-rows';
    rows.style.height = Math.ceil(n / 16) * HEX_ROW_H + 'px';
    hex.append(rows);
    hex.dataset.len = String(n);
    H.rowsEl = rows;
    // A new packet shows from its start, or at the field still selected in
    // the tree (renderTree selects it again before the bytes are drawn).
    $('bytes-pane').scrollTop = 0;
    const sel = $('tree').querySelector('.node.selected');
    highlight(sel ? +sel.dataset.off : 0, sel ? +sel.dataset.len : 0);
  }

  // renderHexRows draws the rows in view of the bytes pane (plus a margin)
  // when they are not the ones drawn already.
  function renderHexRows() {
    const rows = H.rowsEl;
    if (!rows || !rows.isConnected) return;
    const pane = $('bytes-pane');
    const total = Math.ceil(H.n / 16);
    const top = pane.scrollTop - rows.offsetTop;
    const first = Math.max(0, Math.min(total, Math.floor(top / HEX_ROW_H) - HEX_MARGIN));
    const last = Math.max(first, Math.min(total, Math.ceil((top + pane.clientHeight) / HEX_ROW_H) + HEX_MARGIN));
    if (first === H.first && last === H.last) return;
    H.first = first; H.last = last;
    const frag = document.createDocumentFragment();
    for (let r = first; r < last; r++) frag.append(hexRow(r * 16));
    rows.textContent = '';
    rows.style.paddingTop = first * HEX_ROW_H + 'px';
    rows.append(frag);
  }

  // hexRow builds the row of the 16 bytes from off: offset, hex, ASCII,
  // each byte marked when selected or hovered.
  function hexRow(off) {
    const bin = H.bin, n = H.n;
    const hlEnd = H.hlOff + H.hlLen;
    const line = document.createElement('div');
    line.className = 'hr';
    const o = document.createElement('span');
    o.className = 'off';
    o.textContent = off.toString(16).padStart(8, '0');
    line.append(o);
    const hx = document.createElement('span');
    const as = document.createElement('span');
    as.className = 'ascii';
    const bar1 = document.createElement('span');
    bar1.className = 'bar';
    bar1.textContent = '|';
    as.append(bar1);
    for (let k = 0; k < 16; k++) {
      const i = off + k;
      if (k === 8) { const gp = document.createElement('span'); gp.className = 'gap'; hx.append(gp); }
      const b = document.createElement('span');
      if (i < n) {
        const a = document.createElement('span');
        const c = bin.charCodeAt(i);
        const cls = (i >= H.hlOff && i < hlEnd ? ' hl' : '') + (i === H.hov ? ' hov' : '');
        b.className = 'hb' + cls;
        a.className = 'ab' + cls;
        b.textContent = c.toString(16).padStart(2, '0');
        b.dataset.i = a.dataset.i = String(i);
        a.textContent = c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
        as.append(a);
      } else {
        b.className = 'hb';
        b.textContent = '  ';
      }
      hx.append(b);
    }
    const bar2 = document.createElement('span');
    bar2.className = 'bar';
    bar2.textContent = '|';
    as.append(bar2);
    line.append(hx, as);
    return line;
  }

  // markHex sets the classes of the drawn bytes from the selected range and
  // the hovered byte.
  function markHex() {
    if (!H.rowsEl) return;
    const hlEnd = H.hlOff + H.hlLen;
    for (const el of H.rowsEl.querySelectorAll('[data-i]')) {
      const i = +el.dataset.i;
      el.classList.toggle('hl', i >= H.hlOff && i < hlEnd);
      el.classList.toggle('hov', i === H.hov);
    }
  }

  // highlight marks the bytes off..off+len-1 and scrolls the bytes pane,
  // as little as it can, to show the first of them.
  function highlight(off, len) {
    H.hlOff = off; H.hlLen = len;
    if (!H.rowsEl) return;
    if (len && off < H.n) {
      const pane = $('bytes-pane');
      const y = H.rowsEl.offsetTop + Math.floor(off / 16) * HEX_ROW_H;
      if (y < pane.scrollTop) pane.scrollTop = y;
      else if (y + HEX_ROW_H > pane.scrollTop + pane.clientHeight) pane.scrollTop = y + HEX_ROW_H - pane.clientHeight;
    }
    renderHexRows();
    markHex();
  }

  // ---------- filter bar ----------
  let validateTimer = 0;
  let validateSeq = 0;
  function setFilterState(state, msg) {
    S.filterState = state;
    markFilter($('filter-input'), $('filter-msg'), state, msg);
  }
  // markFilter colours a filter field: state '', 'valid' or 'invalid'.
  function markFilter(input, m, state, msg) {
    input.classList.toggle('valid', state === 'valid');
    input.classList.toggle('invalid', state === 'invalid');
    input.setAttribute('aria-invalid', state === 'invalid' ? 'true' : 'false');
    m.className = 'filter-msg' + (state ? ' ' + state : '');
    m.textContent = msg || '';
  }
  function validateSoon() {
    clearTimeout(validateTimer);
    validateTimer = setTimeout(validateNow, 250);
  }
  async function validateNow() {
    clearTimeout(validateTimer);
    const expr = $('filter-input').value;
    const seq = ++validateSeq;
    if (!expr.trim()) { setFilterState('', ''); return true; }
    let q = '/api/filter?expr=' + enc(expr);
    if (S.cur) q += '&capture=' + S.cur.id;
    try {
      const r = await api(q);
      if (seq !== validateSeq) return true;
      setFilterState('valid', '✓ valid for ' + r.linkType + ' · ' + r.instructions + ' BPF instructions');
      $('filter-msg').title = r.program;
      return true;
    } catch (e) {
      if (seq !== validateSeq) return false;
      const col = e.column ? 'column ' + e.column + ': ' : '';
      setFilterState('invalid', '✗ ' + col + e.message);
      $('filter-msg').title = e.message + (e.column ? '\n' + expr + '\n' + ' '.repeat(e.column - 1) + '^' : '');
      return false;
    }
  }

  async function applyFilter(expr) {
    expr = expr.trim();
    if (!S.cur) return;
    if (expr && !(await validateNow())) return;
    if (expr) {
      S.history = [expr].concat(S.history.filter((h) => h !== expr)).slice(0, 50);
      localStorage.setItem('pkttap.history', JSON.stringify(S.history));
    }
    S.histPos = -1;
    S.filter = expr;
    S.gen++; resetView();
    S.cache.clear();
    S.pending.clear();
    clearSelection();
    scroller.scrollTop = 0;
    S.follow = liveRunning(S.cur); // a new view of a running capture follows its end
    if (expr) {
      // Matches only grow; a WebSocket snapshot may report more of them
      // before this answer arrives.
      S.displayed = 0;
      try {
        const st = await api('/api/captures/' + S.cur.id + '/filter', {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ filter: expr }),
        });
        if (S.filter === expr) S.displayed = Math.max(S.displayed, st.matched);
      } catch (e) {
        setFilterState('invalid', '✗ ' + (e.column ? 'column ' + e.column + ': ' : '') + e.message);
        S.filter = '';
        S.displayed = S.total;
      }
    } else {
      S.displayed = S.total;
      setFilterState('', '');
    }
    writeURL();
    renderStatus();
    renderProgress();
    renderList();
  }

  // ---------- live capture ----------
  function renderLive() {
    const c = S.cur;
    const ind = $('live-ind');
    if (!c || !c.live) { ind.hidden = true; return; }
    const l = c.live;
    ind.hidden = false;
    ind.classList.toggle('running', l.running);
    let t = (l.running ? 'Capturing on ' : 'Captured on ') + l.interface + ' — ' +
      fmtCount(c.packets) + ' packets, ' + fmtCount(l.dropped) + ' dropped';
    if (!l.running && l.stopped) t += ' · ' + l.stopped;
    $('live-text').textContent = t;
    ind.title = (l.filter ? 'Capture filter: ' + l.filter + '\n' : '') + 'Received by the OS: ' + fmtCount(l.received) +
      ' · dropped: ' + fmtCount(l.dropped) + ' · spooled: ' + fmtBytes(l.spoolBytes) + ' of ' + fmtBytes(l.maxBytes);
    $('live-stop').hidden = !l.running;
  }

  // takeInfo puts a capture's info from an API answer into the state, as a
  // WebSocket snapshot would.
  function takeInfo(info) {
    const caps = S.caps.slice();
    const i = caps.findIndex((x) => x.id === info.id);
    if (i >= 0) caps[i] = info; else caps.push(info);
    onState(caps);
  }

  async function stopLive() {
    if (!liveRunning(S.cur)) return;
    const id = S.cur.id;
    const btn = $('live-stop');
    btn.disabled = true;
    // The answer is the capture as it was when the stop was done; a
    // WebSocket snapshot that came meanwhile may be newer (its filters
    // further on), and later changes come as snapshots anyway: take the
    // answer only when none came.
    const seen = S.snapshots;
    try {
      const info = await api('/api/captures/' + id + '/stop', { method: 'POST' });
      if (S.snapshots === seen) takeInfo(info);
    } catch (e) { showError(e.message); }
    btn.disabled = false;
  }

  async function openLiveDialog() {
    if (!liveEnabled) return;
    let ifs;
    try { ifs = await api('/api/interfaces'); } catch (e) { showError('Cannot list the network interfaces: ' + e.message); return; }
    const sel = $('live-iface');
    const prev = sel.value || localStorage.getItem('pkttap.liveIface') || '';
    sel.textContent = '';
    for (const ifc of ifs) {
      const o = document.createElement('option');
      // The value is the device name (on Windows \Device\NPF_{GUID}, which
      // always works); the text leads with the friendly name ("Ethernet").
      o.value = ifc.name;
      o.title = [ifc.name, ifc.description].filter(Boolean).join(' — ');
      o.textContent = (ifc.friendlyName || ifc.name) + (ifc.addresses.length ? ' — ' + ifc.addresses.join(', ') : '') +
        (ifc.loopback ? ' (loopback)' : '') + (ifc.up ? '' : ' (down)') +
        (ifc.linkType && ifc.linkType !== 'EN10MB' ? ' [' + ifc.linkType + ']' : '');
      sel.append(o);
    }
    if (ifs.some((x) => x.name === prev)) sel.value = prev;
    $('live-error').hidden = true;
    $('live-dialog').showModal();
    sel.focus();
    validateLiveNow();
  }

  let liveValidateTimer = 0;
  let liveValidateSeq = 0;
  function setLiveFilterState(state, msg) { markFilter($('live-filter'), $('live-filter-msg'), state, msg); }
  async function validateLiveNow() {
    clearTimeout(liveValidateTimer);
    const expr = $('live-filter').value;
    const seq = ++liveValidateSeq;
    if (!expr.trim()) { setLiveFilterState('', 'empty: every packet is captured'); return true; }
    try {
      const r = await api('/api/filter?expr=' + enc(expr) + '&interface=' + enc($('live-iface').value));
      if (seq !== liveValidateSeq) return true;
      setLiveFilterState('valid', '✓ valid for ' + r.linkType + ' · ' + r.instructions + ' BPF instructions');
      $('live-filter-msg').title = r.program;
      return true;
    } catch (e) {
      if (seq !== liveValidateSeq) return false;
      setLiveFilterState('invalid', '✗ ' + (e.column ? 'column ' + e.column + ': ' : '') + e.message);
      $('live-filter-msg').title = e.message + (e.column ? '\n' + expr + '\n' + ' '.repeat(e.column - 1) + '^' : '');
      return false;
    }
  }

  async function startLive() {
    if (!(await validateLiveNow())) { $('live-filter').focus(); return; }
    const body = {
      interface: $('live-iface').value,
      filter: $('live-filter').value.trim(),
      snaplen: parseInt($('live-snaplen').value, 10) || 0,
      promiscuous: $('live-promisc').checked,
    };
    const btn = $('live-start');
    btn.disabled = true;
    try {
      const info = await api('/api/live', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      localStorage.setItem('pkttap.liveIface', body.interface);
      $('live-dialog').close();
      showError('');
      await openCapture(info.id, {});
      scroller.focus({ preventScroll: true });
    } catch (e) {
      const err = $('live-error');
      err.textContent = (e.column ? 'Capture filter, column ' + e.column + ': ' : '') + e.message;
      err.hidden = false;
      if (e.column) setLiveFilterState('invalid', '✗ column ' + e.column + ': ' + e.message);
    } finally {
      btn.disabled = false;
    }
  }

  function initLive() {
    $('live-stop').addEventListener('click', stopLive);
    if (!liveEnabled) return;
    $('live-button').addEventListener('click', openLiveDialog);
    $('live-filter').addEventListener('input', () => {
      clearTimeout(liveValidateTimer);
      liveValidateTimer = setTimeout(validateLiveNow, 250);
    });
    $('live-iface').addEventListener('change', validateLiveNow);
    $('live-form').addEventListener('submit', (ev) => { ev.preventDefault(); startLive(); });
    $('live-cancel').addEventListener('click', () => $('live-dialog').close());
  }

  // ---------- upload ----------
  function uploadFile(file) {
    const max = +document.body.dataset.maxUpload;
    if (max && file.size > max) {
      showError(file.name + ' is ' + fmtBytes(file.size) + ', over the upload limit of ' + fmtBytes(max) + '.');
      return;
    }
    showError('');
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/captures?name=' + enc(file.name));
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    $('progress').hidden = false;
    $('upload-row').hidden = false;
    $('upload-bar').value = 0;
    $('upload-text').textContent = file.name;
    xhr.upload.onprogress = (ev) => {
      if (!ev.lengthComputable) return;
      $('upload-bar').value = (100 * ev.loaded) / ev.total;
      $('upload-text').textContent = file.name + ' · ' + fmtBytes(ev.loaded) + ' of ' + fmtBytes(ev.total);
    };
    xhr.onloadend = () => {
      $('upload-row').hidden = true;
      renderProgress();
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 201 && body) {
        openCapture(body.id, {});
      } else {
        showError('Upload of ' + file.name + ' failed: ' + ((body && body.error) || xhr.statusText || 'connection lost'));
      }
    };
    xhr.send(file);
  }

  async function openSample() {
    try {
      const info = await api('/api/captures/sample', { method: 'POST' });
      await openCapture(info.id, {});
    } catch (e) { showError(e.message); }
  }

  // ---------- menus ----------
  function toggleMenu(which, on) {
    const menu = $(which + '-menu');
    const btn = $(which === 'cap' ? 'cap-button' : 'download-button');
    const show = on === undefined ? menu.hidden : on;
    menu.hidden = !show;
    btn.setAttribute('aria-expanded', show ? 'true' : 'false');
    if (show) { const f = menu.querySelector('a'); if (f) f.focus(); }
  }

  async function download(scope, format) {
    if (!S.cur) return;
    let url = '/api/captures/' + S.cur.id + '/download?format=' + format;
    if (scope === 'displayed' && S.filter) url += '&filter=' + enc(S.filter);
    // A browser drops the message of a download the server refuses (a
    // .pcap of a capture mixing link types: 409): ask first (check=1
    // answers 204 or the refusal), then let a link stream the file to disk.
    try {
      await api(url + '&check=1');
    } catch (e) {
      showError('Cannot download ' + S.cur.name + ': ' + e.message);
      return;
    }
    const a = document.createElement('a');
    a.href = url;
    a.download = '';
    document.body.append(a);
    a.click();
    a.remove();
  }

  // ---------- panes ----------
  function initSplitters() {
    const root = document.documentElement;
    for (const v of ['list-h', 'detail-h']) {
      const saved = localStorage.getItem('pkttap.' + v);
      if (saved) root.style.setProperty('--' + v, saved);
    }
    for (const sp of document.querySelectorAll('.splitter')) {
      const pane = $(sp.dataset.above);
      const v = pane.id === 'list-pane' ? 'list-h' : 'detail-h';
      const setH = (h) => {
        const px = Math.max(60, Math.min(h, window.innerHeight - 200)) + 'px';
        root.style.setProperty('--' + v, px);
        localStorage.setItem('pkttap.' + v, px);
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

  // ---------- events ----------
  function initEvents() {
    // A scroll the user makes away from the end stops a live list from
    // following; one back to the end resumes it.
    let userScrollAt = 0;
    const userScroll = () => { userScrollAt = performance.now(); };
    for (const ev of ['wheel', 'pointerdown', 'keydown', 'touchmove']) scroller.addEventListener(ev, userScroll, { passive: true });
    scroller.addEventListener('scroll', () => {
      if (liveRunning(S.cur)) {
        const atEnd = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - ROW_H;
        if (atEnd) S.follow = true;
        else if (performance.now() - userScrollAt < 1000) S.follow = false;
      }
      renderList();
    }, { passive: true });
    window.addEventListener('resize', renderList);
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

    $('tree').addEventListener('click', (ev) => {
      const node = ev.target.closest('.node');
      if (!node) return;
      if (ev.target.classList.contains('twisty')) {
        const li = node.parentElement;
        setExpanded(li, li.getAttribute('aria-expanded') !== 'true');
      }
      selectNode(node);
    });
    $('tree').addEventListener('dblclick', (ev) => {
      const node = ev.target.closest('.node');
      if (node) { const li = node.parentElement; setExpanded(li, li.getAttribute('aria-expanded') !== 'true'); }
    });
    $('tree').addEventListener('keydown', (ev) => {
      const cur = $('tree').querySelector('.node.selected');
      refreshFlat();
      const i = cur ? S.flat.indexOf(cur) : -1;
      const li = cur && cur.parentElement;
      switch (ev.key) {
        case 'ArrowDown': if (S.flat[i + 1]) selectNode(S.flat[i + 1]); break;
        case 'ArrowUp': if (i > 0) selectNode(S.flat[i - 1]); else if (i <= 0) scroller.focus(); break;
        case 'ArrowRight':
          if (li && li.getAttribute('aria-expanded') === 'false') setExpanded(li, true);
          else if (li && li.getAttribute('aria-expanded') === 'true' && S.flat[i + 1]) selectNode(S.flat[i + 1]);
          break;
        case 'ArrowLeft':
          if (li && li.getAttribute('aria-expanded') === 'true') setExpanded(li, false);
          else if (li) { const parent = li.parentElement.closest('li'); if (parent) selectNode(parent.firstChild); }
          break;
        case 'Home': if (S.flat[0]) selectNode(S.flat[0]); break;
        case 'End': if (S.flat.length) selectNode(S.flat[S.flat.length - 1]); break;
        case 'Escape': scroller.focus(); break;
        default: return;
      }
      ev.preventDefault();
    });

    const hex = $('hex');
    $('bytes-pane').addEventListener('scroll', () => renderHexRows());
    new ResizeObserver(() => renderHexRows()).observe($('bytes-pane'));
    hex.addEventListener('click', (ev) => {
      const i = ev.target.dataset && ev.target.dataset.i;
      if (i === undefined) return;
      const node = deepestNode(+i);
      if (node) selectNode(node, false);
    });
    hex.addEventListener('mouseover', (ev) => {
      const i = ev.target.dataset && ev.target.dataset.i;
      H.hov = i === undefined ? -1 : +i;
      markHex();
      if (i === undefined) return;
      const node = deepestNode(+i);
      const name = node ? (node.dataset.field || node.querySelector('.label').textContent) : '';
      ev.target.title = 'byte ' + i + (name ? ' · ' + name : '');
      $('status-field').textContent = 'byte ' + i + (name ? ' · ' + name : '');
    });

    const input = $('filter-input');
    input.addEventListener('input', () => { S.histPos = -1; validateSoon(); });
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowUp' && S.history.length) {
        S.histPos = Math.min(S.history.length - 1, S.histPos + 1);
        input.value = S.history[S.histPos];
        validateSoon();
        ev.preventDefault();
      } else if (ev.key === 'ArrowDown' && S.histPos >= 0) {
        S.histPos--;
        input.value = S.histPos >= 0 ? S.history[S.histPos] : '';
        validateSoon();
        ev.preventDefault();
      } else if (ev.key === 'Escape') {
        input.value = S.filter;
        validateNow();
      }
    });
    $('filter-form').addEventListener('submit', (ev) => { ev.preventDefault(); applyFilter(input.value); });
    $('filter-cancel').addEventListener('click', async () => {
      if (!S.cur || !S.filter) return;
      const expr = S.filter;
      try { await api('/api/captures/' + S.cur.id + '/filter?filter=' + enc(expr), { method: 'DELETE' }); } catch (e) { /* already gone */ }
      input.value = '';
      await applyFilter('');
      setFilterState('', 'Filter "' + expr + '" cancelled');
    });

    $('time-mode').value = S.timeMode;
    $('time-mode').addEventListener('change', (ev) => {
      S.timeMode = ev.target.value;
      localStorage.setItem('pkttap.timeMode', S.timeMode);
      renderListNow();
    });

    $('open-button').addEventListener('click', () => $('file-input').click());
    $('file-input').addEventListener('change', (ev) => {
      const f = ev.target.files[0];
      if (f) uploadFile(f);
      ev.target.value = '';
    });
    $('sample-button').addEventListener('click', openSample);
    $('sample-link').addEventListener('click', openSample);

    $('cap-button').addEventListener('click', () => { toggleMenu('download', false); toggleMenu('cap'); });
    $('download-button').addEventListener('click', () => { toggleMenu('cap', false); toggleMenu('download'); });
    $('download-menu').addEventListener('click', (ev) => {
      const a = ev.target.closest('a');
      if (!a) return;
      ev.preventDefault();
      toggleMenu('download', false);
      download(a.dataset.scope, a.dataset.format);
    });
    for (const m of ['cap-menu', 'download-menu']) {
      $(m).addEventListener('keydown', (ev) => {
        const items = Array.from($(m).querySelectorAll('a'));
        const i = items.indexOf(document.activeElement);
        if (ev.key === 'ArrowDown' && items[i + 1]) { items[i + 1].focus(); ev.preventDefault(); }
        if (ev.key === 'ArrowUp' && i > 0) { items[i - 1].focus(); ev.preventDefault(); }
        if (ev.key === 'Enter' && i >= 0) { items[i].click(); ev.preventDefault(); }
        if (ev.key === 'Escape') { toggleMenu(m === 'cap-menu' ? 'cap' : 'download', false); ev.preventDefault(); }
      });
    }
    document.addEventListener('click', (ev) => {
      if (!ev.target.closest('.menu-wrap')) { toggleMenu('cap', false); toggleMenu('download', false); }
    });

    $('goto-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const n = parseInt($('goto-input').value, 10);
      if (n > 0) { gotoPacket(n); scroller.focus({ preventScroll: true }); }
    });
    document.addEventListener('keydown', (ev) => {
      const typing = ev.target.matches('input, select, textarea');
      if ((ev.ctrlKey || ev.metaKey) && ev.key === 'g') { ev.preventDefault(); $('goto-input').focus(); }
      else if ((ev.ctrlKey || ev.metaKey) && ev.key === 'e' && liveEnabled) {
        // Wireshark's start/stop capture key.
        ev.preventDefault();
        if (liveRunning(S.cur)) stopLive(); else if (!$('live-dialog').open) openLiveDialog();
      }
      else if (!typing && ev.key === '/') { ev.preventDefault(); input.focus(); }
    });

    let dragDepth = 0;
    window.addEventListener('dragenter', (ev) => { if (hasFiles(ev)) { dragDepth++; $('drop-overlay').hidden = false; } });
    window.addEventListener('dragleave', () => { if (--dragDepth <= 0) { dragDepth = 0; $('drop-overlay').hidden = true; } });
    window.addEventListener('dragover', (ev) => { if (hasFiles(ev)) ev.preventDefault(); });
    window.addEventListener('drop', (ev) => {
      ev.preventDefault();
      dragDepth = 0;
      $('drop-overlay').hidden = true;
      const f = ev.dataTransfer && ev.dataTransfer.files[0];
      if (f) uploadFile(f);
    });
  }
  function hasFiles(ev) { return ev.dataTransfer && Array.from(ev.dataTransfer.types || []).includes('Files'); }

  async function init() {
    initSplitters();
    initEvents();
    initLive();
    renderList();
    connectWS();
    setInterval(keepFilter, 250);
    const u = readURL();
    let caps = [];
    try { caps = await api('/api/captures'); } catch (e) { showError(e.message); }
    S.caps = caps;
    renderCapMenu();
    if (u.id) await openCapture(u.id, { filter: u.filter, p: u.p });
    else if (caps.length) await openCapture(caps[caps.length - 1].id, {});
    scroller.focus({ preventScroll: true });
  }
  init();
})();
