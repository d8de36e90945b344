// Completion in the filter bar: the display-filter fields and protocols
// whose names start with the word at the caret, with their type and
// description (GET /api/fields), picked with the arrows and Tab or Enter,
// or a click; Escape closes the list.
import * as API from './api.js';
import { $ } from './ui.js';

const list = $('filter-suggest');
const MAX = 12;
let input = null;
let onPick = () => {};
let shown = [];    // the fields listed
let active = -1;   // the highlighted one
let word = null;   // {start, end} of the word completed
let seq = 0;
let pickedByEnter = false;

const wordChar = /[A-Za-z0-9_.\-]/;

/** wordAt returns the bounds of the name around the caret and its part before it. */
function wordAt(value, caret) {
  let start = caret;
  while (start > 0 && wordChar.test(value[start - 1])) start--;
  let end = caret;
  while (end < value.length && wordChar.test(value[end])) end++;
  return { start, end, prefix: value.slice(start, caret) };
}

/** isOpen reports whether the list is shown. */
export const isOpen = () => !list.hidden;

/** closeCompletion hides the list. */
export function closeCompletion() {
  seq++;
  if (list.hidden) return;
  list.hidden = true;
  list.textContent = '';
  shown = [];
  active = -1;
  input.setAttribute('aria-expanded', 'false');
  input.removeAttribute('aria-activedescendant');
}

// rank orders matches: protocols and the fields right under the prefix
// first (fewer dots), then shorter names, then by name.
const dots = (s) => s.split('.').length;
function rank(a, b) {
  return dots(a.name) - dots(b.name) || a.name.length - b.name.length || (a.name < b.name ? -1 : 1);
}

/** suggest lists the fields that complete the word at the caret, if any. */
export async function suggest() {
  const my = ++seq;
  const caret = input.selectionStart;
  if (caret === null || caret !== input.selectionEnd) { closeCompletion(); return; }
  const w = wordAt(input.value, caret);
  if (!/^[A-Za-z][A-Za-z0-9_.\-]*$/.test(w.prefix)) { closeCompletion(); return; }
  let all;
  try { all = await API.fields(); } catch (e) { closeCompletion(); return; }
  if (my !== seq) return; // typed on meanwhile
  const p = w.prefix.toLowerCase();
  const found = all.filter((f) => f.name.startsWith(p)).sort(rank).slice(0, MAX);
  if (!found.length || (found.length === 1 && found[0].name === p)) { closeCompletion(); return; }
  word = w;
  render(found);
}

function render(found) {
  shown = found;
  active = -1;
  list.textContent = '';
  found.forEach((f, i) => {
    const li = document.createElement('li');
    li.setAttribute('role', 'option');
    li.id = 'filter-sugg-' + i;
    li.dataset.name = f.name;
    li.setAttribute('aria-selected', 'false');
    const name = document.createElement('span');
    name.className = 's-name';
    name.textContent = f.name;
    const type = document.createElement('span');
    type.className = 's-type';
    type.textContent = f.type === 'FT_PROTOCOL' ? 'protocol' : f.typeText;
    const desc = document.createElement('span');
    desc.className = 's-desc';
    desc.textContent = f.description;
    li.title = f.name + ' · ' + (f.type === 'FT_PROTOCOL' ? 'protocol' : f.typeText) + ' · ' + f.description;
    li.append(name, type, desc);
    list.append(li);
  });
  list.hidden = false;
  input.setAttribute('aria-expanded', 'true');
}

function highlight(i) {
  active = i;
  list.querySelectorAll('li').forEach((li, k) => li.setAttribute('aria-selected', k === i ? 'true' : 'false'));
  const li = list.children[i];
  if (li) {
    li.scrollIntoView({ block: 'nearest' });
    input.setAttribute('aria-activedescendant', li.id);
  }
}

/** pick puts the i-th listed name in place of the word at the caret. */
function pick(i) {
  const f = shown[i];
  if (!f || !word) return;
  const v = input.value;
  input.value = v.slice(0, word.start) + f.name + v.slice(word.end);
  const caret = word.start + f.name.length;
  input.setSelectionRange(caret, caret);
  closeCompletion();
  onPick();
}

/**
 * completionKey handles a key pressed in the field while the list is
 * open (↑/↓ move, Tab picks the highlighted name or the first, Enter the
 * highlighted one, Escape closes); it reports whether it took the key.
 */
export function completionKey(ev) {
  if (list.hidden || !shown.length) return false;
  switch (ev.key) {
    case 'ArrowDown': highlight((active + 1) % shown.length); break;
    case 'ArrowUp': highlight(active <= 0 ? shown.length - 1 : active - 1); break;
    case 'Tab': if (ev.shiftKey) return false; pick(Math.max(active, 0)); break;
    case 'Enter':
      if (active < 0) { closeCompletion(); return false; }
      pick(active);
      pickedByEnter = true; // the keypress that follows must not submit the form
      break;
    case 'Escape': closeCompletion(); break;
    default: return false;
  }
  ev.preventDefault();
  return true;
}

/** initCompletion wires completion to the field; picked is called after a pick. */
export function initCompletion(field, picked) {
  input = field;
  onPick = picked;
  list.addEventListener('pointerdown', (ev) => ev.preventDefault()); // keep the focus in the field
  list.addEventListener('click', (ev) => {
    const li = ev.target.closest('li');
    if (li) pick(Array.from(list.children).indexOf(li));
  });
  input.addEventListener('blur', closeCompletion);
  input.addEventListener('keypress', (ev) => {
    if (ev.key === 'Enter' && pickedByEnter) ev.preventDefault();
  });
  input.addEventListener('keyup', (ev) => {
    if (ev.key === 'Enter') pickedByEnter = false;
    if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(ev.key)) suggest();
  });
  input.addEventListener('focus', () => { API.fields().catch(() => { /* completion waits */ }); });
}
