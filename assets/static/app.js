// pkttap-web's UI, as native ES modules with no build step (js/): it talks
// to the REST API (documented in the README) through js/api.js and listens
// to /api/ws for progress snapshots. This module starts the page and wires
// what belongs to no one pane: menus, global keys, drag and drop.
import * as API from './js/api.js';
import { initColoring } from './js/coloring.js';
import { initColumnMenu } from './js/colmenu.js';
import { download, onState, openCapture, openSample, renderCapMenu, toggleMenu, uploadFile } from './js/captures.js';
import { initExploreLink } from './js/explorelink.js';
import { initExport, openExport } from './js/exportdialog.js';
import { initFilterBar } from './js/filterbar.js';
import { initFind } from './js/find.js';
import { initHex } from './js/hex.js';
import { gotoPacket, initList, renderList, scroller } from './js/list.js';
import { initLive, openLiveDialog, stopLive } from './js/live.js';
import { initMarks } from './js/marks.js';
import { initSplitters } from './js/panes.js';
import { initPrefsDialog, openPrefs } from './js/prefsdialog.js';
import { initSorting } from './js/sorting.js';
import { S, liveEnabled, liveRunning, readURL } from './js/state.js';
import { initTheme } from './js/theme.js';
import { initTimeRef } from './js/timeref.js';
import { initTree } from './js/tree.js';
import { initTreeActions } from './js/treeactions.js';
import { initWhy } from './js/why.js';
import { $, showError } from './js/ui.js';

function initMenus() {
  $('open-button').addEventListener('click', () => $('file-input').click());
  $('file-input').addEventListener('change', (ev) => {
    const f = ev.target.files[0];
    if (f) uploadFile(f);
    ev.target.value = '';
  });
  $('sample-button').addEventListener('click', openSample);
  $('sample-link').addEventListener('click', openSample);

  $('cap-button').addEventListener('click', () => { toggleMenu('download', false); toggleMenu('edit', false); toggleMenu('cap'); });
  $('download-button').addEventListener('click', () => { toggleMenu('cap', false); toggleMenu('edit', false); toggleMenu('download'); });
  $('download-menu').addEventListener('click', (ev) => {
    const a = ev.target.closest('a');
    if (!a) return;
    ev.preventDefault();
    toggleMenu('download', false);
    if (a.dataset.action === 'export') openExport();
    else download(a.dataset.scope, a.dataset.format);
  });
  for (const m of ['cap-menu', 'download-menu', 'edit-menu']) {
    $(m).addEventListener('keydown', (ev) => {
      const items = Array.from($(m).querySelectorAll('a'));
      const i = items.indexOf(document.activeElement);
      if (ev.key === 'ArrowDown' && items[i + 1]) { items[i + 1].focus(); ev.preventDefault(); }
      if (ev.key === 'ArrowUp' && i > 0) { items[i - 1].focus(); ev.preventDefault(); }
      if (ev.key === 'Enter' && i >= 0) { items[i].click(); ev.preventDefault(); }
      if (ev.key === 'Escape') { toggleMenu(m.replace('-menu', ''), false); ev.preventDefault(); }
    });
  }
  document.addEventListener('click', (ev) => {
    if (!ev.target.closest('.menu-wrap')) { toggleMenu('cap', false); toggleMenu('download', false); toggleMenu('edit', false); }
  });
}

function initKeys() {
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
    else if ((ev.ctrlKey || ev.metaKey) && ev.key === ',') { ev.preventDefault(); openPrefs(); }
    else if (!typing && ev.key === '/') { ev.preventDefault(); $('filter-input').focus(); }
  });
}

function hasFiles(ev) { return ev.dataTransfer && Array.from(ev.dataTransfer.types || []).includes('Files'); }

function initDrop() {
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

async function init() {
  initTheme();
  initSplitters();
  initSorting();
  initColumnMenu();
  initList();
  initTree();
  initTreeActions();
  initHex();
  initFilterBar();
  initMenus();
  initKeys();
  initDrop();
  initLive();
  initPrefsDialog();
  initMarks(toggleMenu);
  initTimeRef();
  initExport();
  initColoring(() => { toggleMenu('cap', false); toggleMenu('download', false); toggleMenu('edit', false); });
  initFind();
  initWhy();
  initExploreLink();
  renderList();
  API.watch((caps) => { S.snapshots++; onState(caps); });
  const u = readURL();
  let caps = [];
  try { caps = await API.listCaptures(); } catch (e) { showError(e.message); }
  S.caps = caps;
  renderCapMenu();
  if (u.id) await openCapture(u.id, { filter: u.filter, p: u.p });
  else if (caps.length) await openCapture(caps[caps.length - 1].id, {});
  scroller.focus({ preventScroll: true });
}

init();
