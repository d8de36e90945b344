// What can be done with the packet details: Wireshark's Apply / Prepare as
// Filter (the field's value, alone, negated, or joined to the filter in
// the bar with and / or), Apply as Column (a column of the field in the
// packet list), Expand / Collapse Subtrees, Expand / Collapse
// All, and Copy (as text, field name, value, as a display filter, the
// bytes as a hex dump or a hex stream), from a context menu (right click,
// the context menu key or Shift+F10) on the tree or the bytes, or by
// their keys.
import { addFieldColumn } from './columns.js';
import { useFilter } from './filterbar.js';
import { expandTree, selectNode } from './tree.js';
import { S } from './state.js';
import { $ } from './ui.js';

const tree = $('tree');
const menu = $('ctx-menu');

const selected = () => tree.querySelector('.node.selected');
const labelOf = (node) => node.querySelector('.label').textContent;

/** valueOf is a field's value: its label after the first ": ". */
function valueOf(node) {
  const l = labelOf(node);
  const i = l.indexOf(': ');
  return i < 0 ? '' : l.slice(i + 2);
}

/**
 * asFilter writes a display filter that matches the field's value, as
 * Wireshark's "Copy › …as Filter": the one the server built from the
 * field's typed value when there is one (a protocol alone, field ==
 * value), else field == the label's value (its first word when it is a
 * number or an address, else the whole value quoted).
 */
export function asFilter(node) {
  const f = node.dataset.field;
  if (!f) return '';
  if (node.dataset.filter) return node.dataset.filter;
  const v = valueOf(node);
  if (!v) return f;
  const first = v.split(/\s/)[0];
  if (/^[0-9A-Fa-fx.:\-/]+$/.test(first)) return f + ' == ' + first;
  return f + ' == ' + JSON.stringify(v);
}

/** asText writes the node and its shown descendants, indented by level. */
function asText(node) {
  const li = node.parentElement;
  const lines = [];
  const walk = (item, depth) => {
    lines.push('    '.repeat(depth) + labelOf(item.firstChild));
    if (item.getAttribute('aria-expanded') !== 'true') return;
    for (const ch of item.querySelectorAll(':scope > ul > li')) walk(ch, depth + 1);
  };
  walk(li, 0);
  return lines.join('\n');
}

// bytesOf returns the node's bytes (the whole packet without one).
function bytesOf(node) {
  const bin = atob((S.pkt && S.pkt.data) || '');
  if (!node) return bin;
  const off = +node.dataset.off, len = +node.dataset.len;
  return bin.slice(off, off + len);
}

const hex2 = (c) => c.charCodeAt(0).toString(16).padStart(2, '0');

/** hexDump writes bytes as offset, 16 bytes in hex, and ASCII per line. */
export function hexDump(bin) {
  const lines = [];
  for (let off = 0; off < bin.length; off += 16) {
    const chunk = bin.slice(off, off + 16);
    let hx = '';
    for (let k = 0; k < 16; k++) hx += (k < chunk.length ? hex2(chunk[k]) : '  ') + (k === 7 ? '  ' : ' ');
    const ascii = Array.from(chunk, (c) => (c >= ' ' && c <= '~' ? c : '.')).join('');
    lines.push(off.toString(16).padStart(4, '0') + '  ' + hx + ' ' + ascii);
  }
  return lines.join('\n');
}

const hexStream = (bin) => Array.from(bin, hex2).join('');

// COMBOS are Wireshark's ways to make a filter of the selected field's
// (sel) and the one in the bar (cur).
const COMBOS = [
  { id: 'selected', label: 'Selected', make: (cur, sel) => sel },
  { id: 'not', label: 'Not Selected', make: (cur, sel) => '!(' + sel + ')' },
  { id: 'and', label: '…and Selected', make: (cur, sel) => (cur ? '(' + cur + ') && (' + sel + ')' : sel) },
  { id: 'or', label: '…or Selected', make: (cur, sel) => (cur ? '(' + cur + ') || (' + sel + ')' : sel) },
  { id: 'and-not', label: '…and not Selected', make: (cur, sel) => (cur ? '(' + cur + ') && ' : '') + '!(' + sel + ')' },
  { id: 'or-not', label: '…or not Selected', make: (cur, sel) => (cur ? '(' + cur + ') || ' : '') + '!(' + sel + ')' },
];

// filterMenu is the submenu of Apply (apply) or Prepare as Filter.
function filterMenu(apply) {
  return COMBOS.map((c) => ({
    id: (apply ? 'apply-' : 'prepare-') + c.id,
    label: c.label,
    needs: true,
    run: (n) => {
      const sel = asFilter(n);
      if (sel) useFilter(c.make($('filter-input').value.trim(), sel), apply);
    },
  }));
}

// ACTIONS are the menu's entries: a label, the key that does it, and
// what it does to the selected node (null: none selected), or a submenu.
const ACTIONS = [
  { id: 'apply', label: 'Apply as Filter', needs: true, sub: filterMenu(true) },
  { id: 'prepare', label: 'Prepare as Filter', needs: true, sub: filterMenu(false) },
  { id: 'apply-column', label: 'Apply as Column', key: 'Ctrl+Shift+I', needs: true, run: (n) => { if (n.dataset.field) addFieldColumn(n.dataset.field); } },
  { sep: true },
  { id: 'expand-sub', label: 'Expand Subtrees', key: 'Shift+→', needs: true, run: (n) => expandTree(true, n) },
  { id: 'collapse-sub', label: 'Collapse Subtrees', key: 'Shift+←', needs: true, run: (n) => expandTree(false, n) },
  { id: 'expand-all', label: 'Expand All', key: 'Ctrl+→', run: () => expandTree(true) },
  { id: 'collapse-all', label: 'Collapse All', key: 'Ctrl+←', run: () => expandTree(false) },
  { sep: true },
  { id: 'copy-text', label: 'Copy as Text', key: 'Ctrl+Shift+D', needs: true, copy: asText },
  { id: 'copy-field', label: 'Copy Field Name', key: 'Ctrl+Shift+F', needs: true, copy: (n) => n.dataset.field || '' },
  { id: 'copy-value', label: 'Copy Value', key: 'Ctrl+Shift+V', needs: true, copy: valueOf },
  { id: 'copy-filter', label: 'Copy …as Filter', key: 'Ctrl+Shift+C', needs: true, copy: asFilter },
  { id: 'copy-hexdump', label: 'Copy Bytes as Hex Dump', key: 'Ctrl+Shift+X', copy: (n) => hexDump(bytesOf(n)) },
  { id: 'copy-hexstream', label: 'Copy Bytes as Hex Stream', key: 'Ctrl+Shift+H', copy: (n) => hexStream(bytesOf(n)) },
];

/** copyText puts text on the clipboard and says so in the status bar. */
export async function copyText(what, text) {
  const status = $('status-field');
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {
    // Without the async clipboard (a page not served over https or from
    // localhost), copy through a selected text area.
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    if (!ok) { status.textContent = 'Could not copy: the browser refused'; return; }
  }
  status.textContent = 'Copied ' + what + ' (' + text.length + ' characters)';
}

function run(a) {
  const node = selected();
  if (a.needs && !node) return;
  if (a.copy) {
    const text = a.copy(node);
    if (text) copyText(a.label.replace(/^Copy /, '').toLowerCase(), text);
  } else {
    a.run(node);
  }
}

// The submenu of Apply / Prepare as Filter, beside its item.
const submenu = document.createElement('div');
submenu.id = 'ctx-submenu';
submenu.className = 'menu ctx-menu';
submenu.setAttribute('role', 'menu');
submenu.hidden = true;
document.body.append(submenu);
let subOf = null; // the item whose submenu is open

function closeSub() {
  submenu.hidden = true;
  if (subOf) subOf.setAttribute('aria-expanded', 'false');
  subOf = null;
}

function closeMenu() {
  closeSub();
  if (menu.hidden) return;
  menu.hidden = true;
  tree.focus({ preventScroll: true });
}

// fillMenu puts the entries of actions in m, disabled when they need a
// selected field and there is none.
function fillMenu(m, actions, node) {
  m.textContent = '';
  for (const a of actions) {
    if (a.sep) { const hr = document.createElement('div'); hr.className = 'sep'; m.append(hr); continue; }
    const item = document.createElement('a');
    item.setAttribute('role', 'menuitem');
    item.tabIndex = -1;
    item.dataset.action = a.id;
    const off = a.needs && !node;
    if (off) item.setAttribute('aria-disabled', 'true');
    const l = document.createElement('span');
    l.textContent = a.label;
    const k = document.createElement('span');
    k.className = 'key';
    k.textContent = a.key || '';
    item.append(l, k);
    if (a.sub) {
      item.setAttribute('aria-haspopup', 'menu');
      item.setAttribute('aria-expanded', 'false');
      item.addEventListener('click', (ev) => { ev.preventDefault(); if (!off) openSub(item, a, true); });
      item.addEventListener('mouseenter', () => { if (!off) openSub(item, a, false); });
    } else {
      item.addEventListener('click', (ev) => { ev.preventDefault(); if (!off) { closeMenu(); run(a); } });
      if (m === menu) item.addEventListener('mouseenter', closeSub);
    }
    m.append(item);
  }
}

// place shows m at x, y (page pixels), inside the window.
function place(m, x, y) {
  m.hidden = false;
  const w = m.offsetWidth, h = m.offsetHeight;
  m.style.left = Math.max(0, Math.min(x, window.innerWidth - w - 4)) + 'px';
  m.style.top = Math.max(0, Math.min(y, window.innerHeight - h - 4)) + 'px';
}

// openSub opens a's submenu beside its item, focusing its first entry
// when asked to (keyboard, click).
function openSub(item, a, focus) {
  if (subOf !== item) {
    closeSub();
    fillMenu(submenu, a.sub, selected());
    const r = item.getBoundingClientRect();
    place(submenu, r.right - 2, r.top - 5);
    if (parseFloat(submenu.style.left) < r.right - 2) place(submenu, r.left - submenu.offsetWidth + 2, r.top - 5);
    subOf = item;
    item.setAttribute('aria-expanded', 'true');
  }
  if (focus) { const first = submenu.querySelector('a:not([aria-disabled])'); if (first) first.focus(); }
}

/** openMenu shows the context menu at x, y (page pixels). */
function openMenu(x, y) {
  closeSub();
  fillMenu(menu, ACTIONS, selected());
  place(menu, x, y);
  const first = menu.querySelector('a:not([aria-disabled])');
  if (first) first.focus();
}

// menuKeys moves in menu m with the arrows, runs an entry with Enter,
// opens a submenu with → and goes back with ← (submenu) or Escape.
function menuKeys(m, ev) {
  const items = Array.from(m.querySelectorAll('a:not([aria-disabled])'));
  const i = items.indexOf(document.activeElement);
  const cur = items[i];
  if (ev.key === 'ArrowDown') { (items[i + 1] || items[0]).focus(); }
  else if (ev.key === 'ArrowUp') { (items[i - 1] || items[items.length - 1]).focus(); }
  else if ((ev.key === 'Enter' || ev.key === ' ') && cur) { cur.click(); }
  else if (ev.key === 'ArrowRight' && cur && cur.hasAttribute('aria-haspopup')) { cur.click(); }
  else if (m === submenu && (ev.key === 'ArrowLeft' || ev.key === 'Escape')) { const it = subOf; closeSub(); if (it) it.focus(); }
  else if (ev.key === 'Escape' || ev.key === 'Tab') { closeMenu(); }
  else return;
  ev.preventDefault();
}

/** initTreeActions wires the context menu and the keys. */
export function initTreeActions() {
  for (const el of [tree, $('hex')]) {
    el.addEventListener('contextmenu', (ev) => {
      if (!S.pkt) return;
      ev.preventDefault();
      // A right click on a field or a byte selects it first, as a left click.
      const node = ev.target.closest('.node');
      if (node) selectNode(node);
      openMenu(ev.clientX, ev.clientY);
    });
  }
  const keyed = (ev) => {
    if (!S.pkt) return;
    if ((ev.shiftKey && ev.key === 'F10') || ev.key === 'ContextMenu') {
      ev.preventDefault();
      const n = selected();
      const r = (n || tree).getBoundingClientRect();
      openMenu(r.left + 24, r.bottom);
      return;
    }
    if (!(ev.ctrlKey || ev.metaKey) || !ev.shiftKey) return;
    const a = ACTIONS.find((x) => x.key && x.key.startsWith('Ctrl+Shift+') && x.key.slice(-1) === ev.key.toUpperCase());
    if (a) { ev.preventDefault(); run(a); }
  };
  tree.addEventListener('keydown', keyed);
  $('hex').addEventListener('keydown', keyed);
  menu.addEventListener('keydown', (ev) => menuKeys(menu, ev));
  submenu.addEventListener('keydown', (ev) => menuKeys(submenu, ev));
  document.addEventListener('pointerdown', (ev) => {
    if (!menu.contains(ev.target) && !submenu.contains(ev.target)) { menu.hidden = true; closeSub(); }
  });
  window.addEventListener('blur', () => { menu.hidden = true; closeSub(); });
}
