// The packet list header's context menu (right click on a header, or
// Shift+F10 / the context menu key on the list): sort by the column,
// show or hide each column, add a column of a field (checked against the
// display-filter registry, /api/fields), remove a custom column, reset
// the columns; and the dialog that adds a column.
import * as API from './api.js';
import { addFieldColumn, allColumns, removeColumn, resetColumns, setHidden, visibleColumns } from './columns.js';
import { setSort } from './sorting.js';
import { S } from './state.js';
import { $ } from './ui.js';

const header = $('list-scroll').querySelector('.list-header');

const menu = document.createElement('div');
menu.id = 'col-menu';
menu.className = 'menu ctx-menu';
menu.setAttribute('role', 'menu');
menu.setAttribute('aria-label', 'Columns');
menu.hidden = true;
document.body.append(menu);

// The column editor: a field name, with completion from the registry.
const dialog = document.createElement('dialog');
dialog.id = 'column-dialog';
dialog.className = 'dialog';
dialog.setAttribute('aria-labelledby', 'column-title');
dialog.innerHTML = `<form method="dialog" class="live-form" autocomplete="off">
  <h2 id="column-title">Add Column</h2>
  <label for="column-field">Field</label>
  <input id="column-field" list="column-fields" placeholder="ip.ttl" spellcheck="false">
  <datalist id="column-fields"></datalist>
  <div id="column-error" class="dialog-error" role="alert" hidden></div>
  <div class="dialog-buttons">
    <button type="button" id="column-cancel">Cancel</button>
    <button type="submit" id="column-add" class="primary">Add</button>
  </div>
</form>`;
document.body.append(dialog);

function item(label, action, { checked = null, disabled = false, key = '' } = {}) {
  const a = document.createElement('a');
  a.setAttribute('role', checked === null ? 'menuitem' : 'menuitemcheckbox');
  if (checked !== null) a.setAttribute('aria-checked', String(checked));
  a.tabIndex = -1;
  a.dataset.action = key;
  if (disabled) a.setAttribute('aria-disabled', 'true');
  const l = document.createElement('span');
  l.textContent = (checked === null ? '' : checked ? '✓ ' : '\u2003') + label;
  a.append(l);
  a.addEventListener('click', (ev) => {
    ev.preventDefault();
    if (disabled) return;
    closeMenu();
    action();
  });
  return a;
}

function sep() { const d = document.createElement('div'); d.className = 'sep'; return d; }

function closeMenu() {
  if (menu.hidden) return;
  menu.hidden = true;
  $('list-scroll').focus({ preventScroll: true });
}

/** openColumnMenu shows the menu for column key (null: no column) at x, y. */
export function openColumnMenu(key, x, y) {
  menu.textContent = '';
  const on = (desc) => S.sort && S.sort.key === key && S.sort.desc === desc;
  menu.append(
    item('Sort Ascending', () => setSort({ key, desc: false }), { disabled: !key || on(false), key: 'sort-asc' }),
    item('Sort Descending', () => setSort({ key, desc: true }), { disabled: !key || on(true), key: 'sort-desc' }),
    item('Remove Sorting', () => setSort(null), { disabled: !S.sort, key: 'sort-none' }),
    sep(),
  );
  for (const c of allColumns()) {
    const only = !c.hidden && visibleColumns().length === 1;
    menu.append(item(c.title, () => setHidden(c.key, !c.hidden), { checked: !c.hidden, disabled: only, key: 'toggle:' + c.key }));
  }
  menu.append(
    sep(),
    item('Add Column…', openColumnDialog, { key: 'add' }),
    item('Remove This Column', () => removeColumn(key), { disabled: !key || !key.startsWith('f:'), key: 'remove' }),
    item('Reset Columns', resetColumns, { key: 'reset' }),
  );
  menu.hidden = false;
  const w = menu.offsetWidth, h = menu.offsetHeight;
  menu.style.left = Math.max(0, Math.min(x, window.innerWidth - w - 4)) + 'px';
  menu.style.top = Math.max(0, Math.min(y, window.innerHeight - h - 4)) + 'px';
  const first = menu.querySelector('a:not([aria-disabled])');
  if (first) first.focus();
}

/** openColumnDialog asks for a field to add as a column. */
export async function openColumnDialog() {
  $('column-field').value = '';
  $('column-error').hidden = true;
  dialog.showModal();
  $('column-field').focus();
  const list = $('column-fields');
  if (!list.childElementCount) {
    try {
      for (const f of await API.fields()) {
        const o = document.createElement('option');
        o.value = f.name;
        o.label = f.description;
        list.append(o);
      }
    } catch (e) { /* completion only */ }
  }
}

async function addFromDialog(ev) {
  ev.preventDefault();
  const name = $('column-field').value.trim();
  const err = $('column-error');
  let known;
  try { known = (await API.fields()).some((f) => f.name === name); } catch (e) { err.textContent = e.message; err.hidden = false; return; }
  if (!known) {
    err.textContent = name ? '"' + name + '" is not a field name (the filter bar completes them)' : 'Type a field name, such as ip.ttl';
    err.hidden = false;
    return;
  }
  dialog.close();
  addFieldColumn(name);
}

/** initColumnMenu wires the header's context menu and the column dialog. */
export function initColumnMenu() {
  header.addEventListener('contextmenu', (ev) => {
    ev.preventDefault();
    const cell = ev.target.closest('[role=columnheader]');
    openColumnMenu(cell ? cell.dataset.col : null, ev.clientX, ev.clientY);
  });
  menu.addEventListener('keydown', (ev) => {
    const items = Array.from(menu.querySelectorAll('a:not([aria-disabled])'));
    const i = items.indexOf(document.activeElement);
    if (ev.key === 'ArrowDown') (items[i + 1] || items[0]).focus();
    else if (ev.key === 'ArrowUp') (items[i - 1] || items[items.length - 1]).focus();
    else if ((ev.key === 'Enter' || ev.key === ' ') && items[i]) items[i].click();
    else if (ev.key === 'Escape' || ev.key === 'Tab') closeMenu();
    else return;
    ev.preventDefault();
  });
  document.addEventListener('pointerdown', (ev) => { if (!menu.contains(ev.target)) menu.hidden = true; });
  window.addEventListener('blur', () => { menu.hidden = true; });
  dialog.querySelector('form').addEventListener('submit', addFromDialog);
  $('column-cancel').addEventListener('click', () => dialog.close());
}
