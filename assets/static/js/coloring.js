// Coloring rules, as Wireshark's: an ordered list of display filters, each
// with a text and a background colour; a row takes the colours of the
// first rule its packet matches. The rules live in the browser's
// preferences ("pkttap.coloringRules"; Wireshark's defaults until edited,
// fetched from GET /api/coloring); the server evaluates them for the rows a
// page asks for (?color= on the rows request). View → Coloring Rules… is the
// legend and the editor; View → Colorize Packet List turns colouring off.
import * as API from './api.js';
import { reloadRows } from './list.js';
import { prefJSON, setPrefJSON } from './prefs.js';
import { $, el } from './ui.js';

const C = {
  rules: prefJSON('coloringRules', null), // [{name, filter, fg, bg, disabled}], null: the defaults
  defaults: [],                           // Wireshark's, from the server
  on: prefJSON('colorize', true) !== false,
  checks: new Map(),                      // filter -> {valid, error, column}
  sent: [],                               // rule index of each ?color= sent, in order
};

/** colorizing reports whether the packet list is colorized. */
export const colorizing = () => C.on;

/** rules returns the coloring rules in force (the defaults until edited). */
export const rules = () => C.rules || C.defaults;

/**
 * colorFilters returns the display filters to send with a rows request:
 * those of the enabled rules, in order (none when colorizing is off).
 */
export function colorFilters() {
  C.sent = [];
  if (!C.on) return [];
  const out = [];
  rules().forEach((r, i) => {
    if (!r.disabled && r.filter.trim()) { C.sent.push(i); out.push(r.filter); }
  });
  return out;
}

/**
 * rowColorClass returns the classes colouring a row: cr-N for rule N; a
 * row tagged with a bad checksum (only when checksums are verified, see
 * the preferences) keeps its own red, as Wireshark's Checksum Errors rule
 * would give it, while colorizing is on.
 */
export function rowColorClass(row) {
  if (!C.on) return '';
  if (row.tags && row.tags.includes('bad-checksum')) return ' t-bad-checksum';
  if (row.color === undefined || row.color === null) return '';
  const i = C.sent[row.color];
  return i === undefined ? '' : ' cr cr-' + i;
}

// ---------- colours: Wireshark's for the light theme, derived for the dark ----------

const hexRGB = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const rgbHex = (c) => '#' + c.map((x) => Math.round(Math.max(0, Math.min(255, x))).toString(16).padStart(2, '0')).join('');
function luminance(h) {
  const [r, g, b] = hexRGB(h).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
/** contrast is the WCAG contrast ratio of two colours. */
export function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
const mix = (a, b, t) => rgbHex(hexRGB(a).map((v, i) => v * t + hexRGB(b)[i] * (1 - t)));
// readable moves fg towards black or white, whichever the background
// contrasts with more, until the text reads (4.5:1).
function readable(fg, bg) {
  const to = contrast('#000000', bg) > contrast('#ffffff', bg) ? '#000000' : '#ffffff';
  for (let t = 1; t > 0 && contrast(fg, bg) < 4.5; t -= 0.05) fg = mix(fg, to, t);
  return contrast(fg, bg) < 4.5 ? to : fg;
}
const DARK_BASE = '#16191f'; // --bg of the dark theme
const DARK_FG = '#dde2ea';   // --fg of the dark theme
/**
 * variants returns the colours a rule is drawn in: {light: [fg, bg], dark:
 * [fg, bg]}. The light theme has the rule's own (Wireshark's) background;
 * the dark one a dimmed mix of it with the page's dark background; in both
 * the text is made readable (4.5:1) against it.
 */
export function variants(r) {
  const light = [readable(r.fg, r.bg), r.bg];
  let dbg = r.bg, dfg = r.fg;
  if (luminance(r.bg) > 0.2) {
    dbg = mix(r.bg, DARK_BASE, 0.3);
    if (luminance(r.fg) < 0.4) dfg = DARK_FG;
  }
  return { light, dark: [readable(dfg, dbg), dbg] };
}

// The rules' colours are a constructed style sheet (the page's
// Content-Security-Policy refuses inline <style> elements, not the CSSOM).
let sheet = null;
function writeStyle() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  }
  sheet.replaceSync(rules().map((r, i) => {
    const v = variants(r);
    const colours = '{ background: light-dark(' + v.light[1] + ', ' + v.dark[1] + '); color: light-dark(' + v.light[0] + ', ' + v.dark[0] + '); }';
    return '.list-rows .row.cr-' + i + ':not(.selected):not(.marked) ' + colours + '\n.cr-swatch-' + i + ' ' + colours;
  }).join('\n'));
}

// ---------- changes ----------

function changed() {
  if (C.rules) setPrefJSON('coloringRules', C.rules);
  writeStyle();
  reloadRows();
  document.dispatchEvent(new CustomEvent('pkttap:coloring'));
}

/** setColorize turns colouring of the packet list on or off. */
export function setColorize(on) {
  C.on = !!on;
  setPrefJSON('colorize', C.on);
  const item = $('view-colorize');
  if (item) item.setAttribute('aria-checked', String(C.on));
  reloadRows();
}

function editable() {
  if (!C.rules) C.rules = C.defaults.map((r) => Object.assign({}, r));
  return C.rules;
}

/** restoreDefaults puts Wireshark's default rules back. */
export function restoreDefaults() {
  C.rules = null;
  localStorage.removeItem('pkttap.coloringRules');
  changed();
  renderDialog();
}

// check asks the server (GET /api/filter, display filters only) whether a
// rule's filter compiles, once per text.
async function check(filter) {
  if (C.checks.has(filter)) return C.checks.get(filter);
  let r;
  try {
    r = await API.api('/api/filter?lang=display&expr=' + API.enc(filter));
  } catch (e) {
    return { valid: false, error: e.message };
  }
  const v = { valid: !!r.valid, error: r.error || '', column: r.column || 0 };
  if (C.checks.size > 500) C.checks.clear();
  C.checks.set(filter, v);
  return v;
}

// ---------- the dialog: legend and editor ----------

let dialog = null;

function makeDialog() {
  dialog = el('dialog', { id: 'coloring-dialog', class: 'dialog coloring-dialog', 'aria-labelledby': 'coloring-title' });
  const list = el('div', { id: 'coloring-list', class: 'coloring-list', role: 'list' });
  const add = el('button', { type: 'button', id: 'coloring-add', textContent: 'Add rule' });
  const restore = el('button', { type: 'button', id: 'coloring-restore', textContent: 'Restore defaults' });
  const close = el('button', { type: 'button', id: 'coloring-close', class: 'primary', textContent: 'Close' });
  const onOff = el('label', { class: 'check' }, el('input', { type: 'checkbox', id: 'coloring-on' }), ' Colorize packet list');
  dialog.append(
    el('h2', { id: 'coloring-title', textContent: 'Coloring Rules' }),
    el('p', { class: 'dialog-note', textContent: 'A packet takes the colours of the first enabled rule it matches. Rules are display filters; a rule naming a field pkttap does not dissect yet is unavailable and colours nothing.' }),
    list,
    el('div', { class: 'dialog-buttons' }, onOff, el('span', { class: 'grow' }), add, restore, close),
  );
  document.body.append(dialog);
  add.addEventListener('click', () => {
    editable().push({ name: 'New rule', filter: '', fg: '#12272e', bg: '#fff3d5' });
    changed();
    renderDialog();
    const inputs = list.querySelectorAll('.cr-filter');
    if (inputs.length) inputs[inputs.length - 1].focus();
  });
  restore.addEventListener('click', restoreDefaults);
  close.addEventListener('click', () => dialog.close());
  dialog.querySelector('#coloring-on').addEventListener('change', (ev) => setColorize(ev.target.checked));
}

async function showCheck(i, filter, statusEl, input) {
  if (!filter.trim()) { statusEl.textContent = 'Empty: matches nothing'; statusEl.className = 'cr-status bad'; input.className = 'cr-filter mono invalid'; return; }
  const v = await check(filter);
  if (rules()[i] === undefined || rules()[i].filter !== filter) return; // typed on
  input.className = 'cr-filter mono ' + (v.valid ? 'valid' : 'invalid');
  statusEl.className = 'cr-status' + (v.valid ? '' : ' bad');
  statusEl.textContent = v.valid ? '' : 'Unavailable: ' + (v.column ? 'column ' + v.column + ': ' : '') + v.error;
  statusEl.title = statusEl.textContent;
}

function renderDialog() {
  if (!dialog) return;
  dialog.querySelector('#coloring-on').checked = C.on;
  const list = dialog.querySelector('#coloring-list');
  list.textContent = '';
  const rs = rules();
  rs.forEach((r, i) => {
    const on = el('input', { type: 'checkbox', checked: !r.disabled, title: 'Enabled', 'aria-label': 'Enable ' + r.name });
    const name = el('input', { type: 'text', value: r.name, class: 'cr-name', 'aria-label': 'Name', spellcheck: false });
    const swatch = el('span', { class: 'cr-swatch cr-swatch-' + i, textContent: r.name });
    const filter = el('input', { type: 'text', value: r.filter, class: 'cr-filter mono', 'aria-label': 'Display filter of ' + r.name, spellcheck: false });
    const fg = el('input', { type: 'color', value: r.fg, title: 'Foreground (text)', 'aria-label': 'Foreground of ' + r.name });
    const bg = el('input', { type: 'color', value: r.bg, title: 'Background', 'aria-label': 'Background of ' + r.name });
    const up = el('button', { type: 'button', class: 'small', textContent: '↑', title: 'Move up', disabled: i === 0 });
    const down = el('button', { type: 'button', class: 'small', textContent: '↓', title: 'Move down', disabled: i === rs.length - 1 });
    const del = el('button', { type: 'button', class: 'small', textContent: '✕', title: 'Delete rule' });
    const status = el('div', { class: 'cr-status' });
    const row = el('div', { class: 'cr-row' + (r.disabled ? ' disabled' : ''), role: 'listitem', 'data-i': String(i) },
      on, swatch, name, filter, fg, bg, up, down, del, status);
    list.append(row);
    showCheck(i, r.filter, status, filter);
    const edit = (f) => { f(editable()[i]); changed(); };
    on.addEventListener('change', () => { edit((x) => { x.disabled = !on.checked; }); row.classList.toggle('disabled', !on.checked); });
    name.addEventListener('change', () => { edit((x) => { x.name = name.value; }); swatch.textContent = name.value; });
    let timer = 0;
    filter.addEventListener('input', () => {
      editable()[i].filter = filter.value;
      clearTimeout(timer);
      timer = setTimeout(() => showCheck(i, filter.value, status, filter), 150);
    });
    filter.addEventListener('change', () => changed());
    fg.addEventListener('input', () => edit((x) => { x.fg = fg.value; }));
    bg.addEventListener('input', () => edit((x) => { x.bg = bg.value; }));
    const move = (d) => {
      const rl = editable();
      [rl[i], rl[i + d]] = [rl[i + d], rl[i]];
      changed();
      renderDialog();
    };
    up.addEventListener('click', () => move(-1));
    down.addEventListener('click', () => move(1));
    del.addEventListener('click', () => { editable().splice(i, 1); changed(); renderDialog(); });
  });
}

/** openColoringRules shows the legend and editor. */
export function openColoringRules() {
  if (!dialog) makeDialog();
  renderDialog();
  if (!dialog.open) dialog.showModal();
}

// ---------- the View menu ----------

function makeViewMenu(toggleMenus) {
  const wrap = el('div', { class: 'menu-wrap' });
  const button = el('button', { type: 'button', id: 'view-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', textContent: 'View ▾', title: 'View' });
  const menu = el('div', { id: 'view-menu', class: 'menu menu-right', role: 'menu', hidden: true });
  const colorize = el('a', { role: 'menuitemcheckbox', id: 'view-colorize', tabIndex: -1, 'aria-checked': String(C.on) }, 'Colorize Packet List');
  const rulesItem = el('a', { role: 'menuitem', id: 'view-coloring-rules', tabIndex: -1 }, 'Coloring Rules…');
  const findItem = el('a', { role: 'menuitem', id: 'view-find', tabIndex: -1 }, 'Find Packet…', el('span', { class: 'key', textContent: 'Ctrl+F' }));
  menu.append(colorize, rulesItem, findItem);
  wrap.append(button, menu);
  const theme = $('theme-button');
  theme.parentNode.insertBefore(wrap, theme);
  const show = (open) => {
    menu.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) { toggleMenus(); colorize.focus(); }
  };
  button.addEventListener('click', (ev) => { ev.stopPropagation(); show(menu.hidden); });
  document.addEventListener('click', (ev) => { if (!wrap.contains(ev.target)) show(false); });
  menu.addEventListener('click', (ev) => {
    const a = ev.target.closest('a');
    if (!a) return;
    ev.preventDefault();
    show(false);
    if (a === colorize) setColorize(!C.on);
    else if (a === rulesItem) openColoringRules();
    else document.dispatchEvent(new CustomEvent('pkttap:find'));
  });
  menu.addEventListener('keydown', (ev) => {
    const items = Array.from(menu.querySelectorAll('a'));
    const i = items.indexOf(document.activeElement);
    if (ev.key === 'ArrowDown' && items[i + 1]) { items[i + 1].focus(); ev.preventDefault(); }
    if (ev.key === 'ArrowUp' && i > 0) { items[i - 1].focus(); ev.preventDefault(); }
    if (ev.key === 'Enter' && i >= 0) { items[i].click(); ev.preventDefault(); }
    if (ev.key === 'Escape') { show(false); button.focus(); ev.preventDefault(); }
  });
}

/**
 * initColoring adds the View menu and fetches Wireshark's default rules;
 * toggleMenus closes the page's other menus when the View menu opens.
 */
export async function initColoring(toggleMenus = () => {}) {
  makeViewMenu(toggleMenus);
  writeStyle();
  try {
    const r = await API.api('/api/coloring');
    C.defaults = r.rules.map(({ name, filter, fg, bg }) => ({ name, filter, fg, bg }));
    for (const d of r.rules) C.checks.set(d.filter, { valid: d.available, error: d.error || '', column: d.column || 0 });
  } catch (e) {
    C.defaults = [];
  }
  writeStyle();
  if (!C.rules) reloadRows(); // rows fetched before the defaults came are not coloured
}
