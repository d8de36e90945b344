// Find Packet (Ctrl+F), as Wireshark's find bar: by display filter, hex
// bytes or string (in the packet list's columns, the packet details or the
// packet bytes), case sensitive or not, Find (next) and Previous from the
// selected packet, wrapping around the ends with a message. The search runs
// on the server (GET /api/captures/{id}/find) over the displayed packets;
// each request answers within a fraction of a second, with a cursor the
// bar sends back until the search is done, so a large capture never holds
// the server or the page.
import * as API from './api.js';
import { highlight } from './hex.js';
import { scroller, selectPos } from './list.js';
import { prefJSON, setPrefJSON } from './prefs.js';
import { S } from './state.js';
import { renderStatus } from './status.js';
import { $, el } from './ui.js';

let bar = null;
let searchGen = 0;
let checkGen = 0;

function options(sel, opts, value) {
  for (const [v, label] of opts) sel.append(el('option', { value: v, textContent: label }));
  sel.value = value;
}

function makeBar() {
  const saved = prefJSON('find', {});
  bar = el('div', { id: 'find-bar', class: 'find-bar', role: 'search', 'aria-label': 'Find packet', hidden: true });
  const where = el('select', { id: 'find-in', title: 'Search in', 'aria-label': 'Search in' });
  options(where, [['list', 'Packet list'], ['details', 'Packet details'], ['bytes', 'Packet bytes']], saved.in || 'list');
  const type = el('select', { id: 'find-type', title: 'Search for', 'aria-label': 'Search for' });
  options(type, [['filter', 'Display filter'], ['hex', 'Hex value'], ['string', 'String']], saved.type || 'filter');
  const kase = el('input', { type: 'checkbox', id: 'find-case', checked: !!saved.case });
  const input = el('input', { type: 'text', id: 'find-input', class: 'mono', spellcheck: false, autocomplete: 'off', 'aria-describedby': 'find-msg' });
  const next = el('button', { type: 'button', id: 'find-next', class: 'primary', textContent: 'Find', title: 'Find the next packet (Enter)' });
  const prev = el('button', { type: 'button', id: 'find-prev', textContent: 'Previous', title: 'Find the previous packet (Shift+Enter)' });
  const close = el('button', { type: 'button', id: 'find-close', class: 'small', textContent: '✕', title: 'Close (Escape)', 'aria-label': 'Close the find bar' });
  const msg = el('span', { id: 'find-msg', class: 'find-msg', role: 'status', 'aria-live': 'polite' });
  bar.append(el('span', { class: 'find-label', textContent: 'Find' }), where,
    el('label', { class: 'check' }, kase, ' Case sensitive'), type, input, next, prev, msg, close);
  const panes = $('panes');
  panes.parentNode.insertBefore(bar, panes);

  const remember = () => setPrefJSON('find', { in: where.value, type: type.value, case: kase.checked });
  const sync = () => {
    where.disabled = kase.disabled = type.value !== 'string';
    input.placeholder = { filter: 'a display filter, e.g. http.request', hex: 'bytes, e.g. 00 11 22, 001122 or 00:11:22', string: 'text to find' }[type.value];
    remember();
    validate();
  };
  where.addEventListener('change', sync);
  type.addEventListener('change', sync);
  kase.addEventListener('change', remember);
  input.addEventListener('input', validate);
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { ev.preventDefault(); run(ev.shiftKey ? 'prev' : 'next'); }
    else if (ev.key === 'Escape') { ev.preventDefault(); closeFind(); }
  });
  next.addEventListener('click', () => run('next'));
  prev.addEventListener('click', () => run('prev'));
  close.addEventListener('click', closeFind);
  sync();
}

function say(text, cls = '') {
  const m = $('find-msg');
  m.textContent = text;
  m.className = 'find-msg' + (cls ? ' ' + cls : '');
}

// validate marks the input as the user types: a display filter is asked
// of /api/filter (which answers a bad one with 200 and the column), hex
// is checked here; the server checks both again.
async function validate() {
  const input = $('find-input');
  const text = input.value;
  const type = $('find-type').value;
  const gen = ++checkGen;
  input.classList.remove('valid', 'invalid');
  say('');
  if (!text.trim()) return;
  if (type === 'hex') {
    const digits = text.replace(/[\s:.-]/g, '');
    const bad = text.search(/[^0-9a-fA-F\s:.-]/);
    if (bad >= 0) { input.classList.add('invalid'); say('column ' + (bad + 1) + ': ' + JSON.stringify(text[bad]) + ' is not a hex digit', 'bad'); return; }
    if (digits.length % 2) { input.classList.add('invalid'); say('odd number of hex digits: a byte needs two', 'bad'); return; }
    input.classList.add('valid');
    return;
  }
  if (type !== 'filter') return;
  let r;
  try { r = await API.api('/api/filter?lang=display&expr=' + API.enc(text)); } catch (e) { return; }
  if (gen !== checkGen) return;
  input.classList.add(r.valid ? 'valid' : 'invalid');
  if (!r.valid) say((r.column ? 'column ' + r.column + ': ' : '') + r.error, 'bad');
}

/** run searches in direction dir ('next' or 'prev') from the selected packet. */
export async function run(dir) {
  if (!S.cur || !bar) return;
  const input = $('find-input');
  const q = input.value;
  if (!q.trim()) { say('Type what to find', 'bad'); return; }
  if (input.classList.contains('invalid')) return;
  const gen = ++searchGen;
  const type = $('find-type').value;
  const o = {
    type, q, dir,
    in: type === 'string' ? $('find-in').value : '',
    case: type === 'string' && $('find-case').checked ? 1 : '',
    from: S.selPos >= 0 ? S.selPos : '',
    filter: S.filter,
    checksums: S.checksums && type !== 'hex' ? 1 : '',
  };
  say('Searching…');
  bar.classList.add('busy');
  try {
    for (;;) {
      const r = await API.find(S.cur.id, o);
      if (gen !== searchGen) return;
      if (!r.done) {
        o.cursor = r.cursor;
        say('Searching… ' + r.checked.toLocaleString() + ' of ' + r.displayed.toLocaleString() + ' packets');
        continue;
      }
      if (!r.found) {
        say('No packet matched' + (S.filter ? ' among the displayed packets' : ''), 'bad');
        return;
      }
      if (r.displayed > S.displayed) { S.displayed = r.displayed; renderStatus(); }
      say(r.wrapped ? (dir === 'next' ? 'Search reached the end of the capture and continued from the beginning' : 'Search reached the beginning of the capture and continued from the end') : 'Found packet ' + r.no.toLocaleString(), r.wrapped ? 'warn' : '');
      await selectPos(r.position);
      if (gen === searchGen && r.length && S.pkt && S.pkt.no === r.no) highlight(r.offset, r.length);
      return;
    }
  } catch (e) {
    if (gen === searchGen) say((e.column ? 'column ' + e.column + ': ' : '') + e.message, 'bad');
  } finally {
    if (gen === searchGen) bar.classList.remove('busy');
  }
}

/** openFind shows the find bar and puts the keyboard in it. */
export function openFind() {
  if (!bar) makeBar();
  bar.hidden = false;
  const input = $('find-input');
  input.focus();
  input.select();
}

/** closeFind hides the bar and gives the keyboard back to the list. */
export function closeFind() {
  if (!bar) return;
  searchGen++;
  bar.hidden = true;
  scroller.focus({ preventScroll: true });
}

/** initFind wires Ctrl+F (and View → Find Packet…). */
export function initFind() {
  document.addEventListener('keydown', (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && !ev.shiftKey && !ev.altKey && ev.key === 'f') { ev.preventDefault(); openFind(); }
  });
  document.addEventListener('pkttap:find', openFind);
}
