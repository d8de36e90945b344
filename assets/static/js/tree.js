// The packet details pane: the protocol tree of the selected packet, its
// expansion (remembered per field path) and keyboard navigation.
import { highlight } from './hex.js';
import { scroller } from './list.js';
import { setPrefJSON } from './prefs.js';
import { S } from './state.js';
import { $, placeholder } from './ui.js';

const tree = $('tree');

function nodeKey(path) { return path.join('/'); }

/**
 * treePlaceholder fills the details pane while no packet is selected: a
 * capture read to its end without a packet (a file of only a header) says
 * so rather than asking to select one.
 */
export function treePlaceholder() {
  const c = S.cur;
  const none = c && !c.packets && (c.state === 'ready' || c.state === 'error');
  placeholder(tree, 'empty', !c ? '' : none ? 'This capture has no packets.' :
    'Select a packet (click it, or use ↑/↓ in the list) to see its protocol fields.');
}

/** renderTree draws the selected packet's tree, keeping the selected field. */
export function renderTree() {
  tree.textContent = '';
  S.flat = [];
  const p = S.pkt;
  if (!p) return;
  if (!p.tree.length) {
    placeholder(tree, 'empty', 'No protocol details for link type ' + p.linkType);
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
  row.dataset.src = String(n.source || 0);
  if (n.field) row.dataset.field = n.field;
  if (n.filter) row.dataset.filter = n.filter;
  const tw = document.createElement('span');
  tw.className = 'twisty';
  tw.textContent = hasKids ? (S.expanded.has(key) ? '▾' : '▸') : '';
  const label = document.createElement('span');
  label.className = 'label';
  label.textContent = n.label;
  row.append(tw, label);
  li.append(row);
  if (hasKids) {
    const ul = document.createElement('ul');
    ul.setAttribute('role', 'group');
    n.children.forEach((ch, i) => ul.append(treeItem(ch, path.concat(ch.field || ch.label.split(':')[0] || String(i)), level + 1)));
    li.append(ul);
  }
  return li;
}

function refreshFlat() {
  S.flat = Array.from(tree.querySelectorAll('.node')).filter((el) => el.offsetParent !== null);
}

// mark opens or closes one item, without saving.
function mark(li, on) {
  if (!li.hasAttribute('aria-expanded')) return;
  li.setAttribute('aria-expanded', on ? 'true' : 'false');
  const row = li.firstChild;
  row.querySelector('.twisty').textContent = on ? '▾' : '▸';
  if (on) S.expanded.add(row.dataset.key); else S.expanded.delete(row.dataset.key);
}

function saveExpanded() {
  setPrefJSON('expanded', Array.from(S.expanded).slice(-200));
  refreshFlat();
}

function setExpanded(li, on) {
  mark(li, on);
  saveExpanded();
}

/**
 * expandTree opens (on) or closes every item of the tree, or, given a
 * node, that node's item and all below it (Wireshark's Expand All /
 * Collapse All, Expand / Collapse Subtrees).
 */
export function expandTree(on, node = null) {
  const top = node ? node.parentElement : tree;
  if (node) mark(top, on);
  for (const li of top.querySelectorAll('li[aria-expanded]')) mark(li, on);
  saveExpanded();
  const sel = tree.querySelector('.node.selected');
  if (sel && sel.offsetParent === null) {
    // The selected field went into a closed item: select that item.
    let li = sel.parentElement.parentElement.closest('li');
    while (li && li.parentElement.closest('li[aria-expanded="false"]')) li = li.parentElement.closest('li');
    if (li) selectNode(li.firstChild);
  }
}

/** selectNode selects a field of the tree, opens its ancestors and highlights its bytes. */
export function selectNode(el, focus = true) {
  for (const x of tree.querySelectorAll('.node.selected')) x.classList.remove('selected');
  el.classList.add('selected');
  S.selNode = el.dataset.key;
  // Open the ancestors so the node is visible.
  for (let li = el.parentElement.parentElement.closest('li'); li; li = li.parentElement.closest('li')) {
    if (li.getAttribute('aria-expanded') === 'false') setExpanded(li, true);
  }
  const off = +el.dataset.off;
  const len = +el.dataset.len;
  const src = +el.dataset.src;
  highlight(off, len, src);
  const where = src && S.pkt && S.pkt.sources ? ' of ' + S.pkt.sources[src - 1].name : '';
  $('status-field').textContent = (el.dataset.field ? el.dataset.field + ' · ' : '') +
    (len ? 'bytes ' + off + '–' + (off + len - 1) + ' (' + len + ')' + where : '');
  el.scrollIntoView({ block: 'nearest' });
  if (focus) tree.focus({ preventScroll: true });
}

/**
 * deepestNode returns the smallest tree node whose byte range holds byte i
 * of the packet's bytes, or of its extra byte source src (1 and up).
 */
export function deepestNode(i, src = 0) {
  let best = null;
  for (const el of tree.querySelectorAll('.node')) {
    const off = +el.dataset.off;
    const len = +el.dataset.len;
    if (len > 0 && +el.dataset.src === src && i >= off && i < off + len && (!best || len <= +best.dataset.len)) best = el;
  }
  return best;
}

/** selectedField returns the selected field's byte range and byte source, {off, len, src}. */
export function selectedField() {
  const sel = tree.querySelector('.node.selected');
  return sel ? { off: +sel.dataset.off, len: +sel.dataset.len, src: +sel.dataset.src } : { off: 0, len: 0, src: 0 };
}

/** initTree wires the tree's clicks and keys. */
export function initTree() {
  tree.addEventListener('click', (ev) => {
    const node = ev.target.closest('.node');
    if (!node) return;
    if (ev.target.classList.contains('twisty')) {
      const li = node.parentElement;
      setExpanded(li, li.getAttribute('aria-expanded') !== 'true');
    }
    selectNode(node);
  });
  tree.addEventListener('dblclick', (ev) => {
    const node = ev.target.closest('.node');
    if (node) { const li = node.parentElement; setExpanded(li, li.getAttribute('aria-expanded') !== 'true'); }
  });
  tree.addEventListener('keydown', (ev) => {
    const cur = tree.querySelector('.node.selected');
    refreshFlat();
    const i = cur ? S.flat.indexOf(cur) : -1;
    const li = cur && cur.parentElement;
    switch (ev.key) {
      case 'ArrowDown': if (S.flat[i + 1]) selectNode(S.flat[i + 1]); break;
      case 'ArrowUp': if (i > 0) selectNode(S.flat[i - 1]); else if (i <= 0) scroller.focus(); break;
      case 'ArrowRight':
        if (ev.ctrlKey || ev.metaKey) expandTree(true);
        else if (ev.shiftKey) { if (cur) expandTree(true, cur); }
        else if (li && li.getAttribute('aria-expanded') === 'false') setExpanded(li, true);
        else if (li && li.getAttribute('aria-expanded') === 'true' && S.flat[i + 1]) selectNode(S.flat[i + 1]);
        break;
      case 'ArrowLeft':
        if (ev.ctrlKey || ev.metaKey) expandTree(false);
        else if (ev.shiftKey) { if (cur) expandTree(false, cur); }
        else if (li && li.getAttribute('aria-expanded') === 'true') setExpanded(li, false);
        else if (li) { const parent = li.parentElement.closest('li'); if (parent) selectNode(parent.firstChild); }
        break;
      case 'Home': if (S.flat[0]) selectNode(S.flat[0]); break;
      case 'End': if (S.flat.length) selectNode(S.flat[S.flat.length - 1]); break;
      case 'Escape': scroller.focus(); break;
      default: return;
    }
    ev.preventDefault();
  });
}
