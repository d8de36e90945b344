// What can be done with the packet details: Wireshark's Expand / Collapse
// Subtrees, Expand / Collapse All, and Copy (as text, field name, value,
// as a display filter, the bytes as a hex dump or a hex stream), from a
// context menu (right click, the context menu key or Shift+F10) on the
// tree or the bytes, or by their keys.
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
 * Wireshark's "Copy › …as Filter": a protocol alone, or field == value
 * (the value's first word when it is a number or an address, else the
 * whole value quoted).
 */
export function asFilter(node) {
  const f = node.dataset.field;
  if (!f) return '';
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

// ACTIONS are the menu's entries: a label, the key that does it, and
// what it does to the selected node (null: none selected).
const ACTIONS = [
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

function closeMenu() {
  if (menu.hidden) return;
  menu.hidden = true;
  tree.focus({ preventScroll: true });
}

/** openMenu shows the context menu at x, y (page pixels). */
function openMenu(x, y) {
  const node = selected();
  menu.textContent = '';
  for (const a of ACTIONS) {
    if (a.sep) { const hr = document.createElement('div'); hr.className = 'sep'; menu.append(hr); continue; }
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
    k.textContent = a.key;
    item.append(l, k);
    item.addEventListener('click', (ev) => { ev.preventDefault(); if (!off) { closeMenu(); run(a); } });
    menu.append(item);
  }
  menu.hidden = false;
  const w = menu.offsetWidth, h = menu.offsetHeight;
  menu.style.left = Math.max(0, Math.min(x, window.innerWidth - w - 4)) + 'px';
  menu.style.top = Math.max(0, Math.min(y, window.innerHeight - h - 4)) + 'px';
  const first = menu.querySelector('a:not([aria-disabled])');
  if (first) first.focus();
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
  menu.addEventListener('keydown', (ev) => {
    const items = Array.from(menu.querySelectorAll('a:not([aria-disabled])'));
    const i = items.indexOf(document.activeElement);
    if (ev.key === 'ArrowDown') { (items[i + 1] || items[0]).focus(); ev.preventDefault(); }
    else if (ev.key === 'ArrowUp') { (items[i - 1] || items[items.length - 1]).focus(); ev.preventDefault(); }
    else if (ev.key === 'Enter' && i >= 0) { items[i].click(); ev.preventDefault(); }
    else if (ev.key === 'Escape' || ev.key === 'Tab') { closeMenu(); ev.preventDefault(); }
  });
  document.addEventListener('pointerdown', (ev) => { if (!menu.contains(ev.target)) menu.hidden = true; });
  window.addEventListener('blur', () => { menu.hidden = true; });
}
