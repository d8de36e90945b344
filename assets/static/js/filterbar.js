// The filter bar: a display filter or a tcpdump expression, checked as it
// is typed (a badge says which language the server understood, a fault's
// bytes are underlined), with completion of field names, applied with
// Apply or Enter, a history on ↑/↓, and the job that keeps a running
// filter alive on the server.
import * as API from './api.js';
import { closeCompletion, completionKey, initCompletion, isOpen, suggest } from './complete.js';
import { tunable } from './config.js';
import { clearSelection, renderList, resetView, scroller } from './list.js';
import { setPrefJSON } from './prefs.js';
import { S, filterBusy, liveRunning, shownFilter, writeURL } from './state.js';
import { renderProgress, renderStatus } from './status.js';
import { $ } from './ui.js';

const input = $('filter-input');
let validateTimer = 0;
let validateSeq = 0;

function setFilterState(state, msg) {
  S.filterState = state;
  markFilter(input, $('filter-msg'), state, msg);
  if (!state) { showLanguage(null); showFault(null); }
}

const LANGS = { display: 'display filter', bpf: 'BPF' };

/**
 * showLanguage sets the badge to the language the check r understood (or,
 * for an expression valid in neither, the one whose error it shows); null
 * hides it.
 */
function showLanguage(r) {
  const b = $('filter-lang');
  const lang = r && LANGS[r.language] ? r.language : '';
  b.hidden = !lang;
  b.dataset.lang = lang;
  b.dataset.valid = r ? String(!!r.valid) : '';
  b.textContent = lang ? LANGS[lang] : '';
  b.title = !lang ? '' : r.valid ? 'Understood as a ' + (lang === 'bpf' ? 'tcpdump (BPF) expression' : 'display filter') :
    'Not valid; it reads as a ' + (lang === 'bpf' ? 'tcpdump (BPF) expression' : 'display filter');
}

/**
 * showFault underlines the bytes of expr at fault (r.column, 1-based, and
 * r.length; a tcpdump fault runs to the end of its word), in the mirror
 * laid over the field; null clears it.
 */
function showFault(r, expr = '') {
  const m = $('filter-mirror');
  m.textContent = '';
  if (!r || !r.column) return;
  const start = Math.min(r.column - 1, expr.length);
  let end = start + (r.length || 0);
  if (!r.length) while (end < expr.length && /[^\s()]/.test(expr[end])) end++;
  end = Math.max(end, start + 1);
  const fault = document.createElement('span');
  fault.className = 'fault';
  fault.id = 'filter-fault';
  fault.dataset.column = String(r.column);
  fault.textContent = expr.slice(start, end) || ' '; // past the end: a space underlined
  m.append(expr.slice(0, start), fault, expr.slice(end));
  m.scrollLeft = input.scrollLeft;
}

/** markFilter colours a filter field and its message: state '', 'valid' or 'invalid'. */
export function markFilter(field, m, state, msg) {
  field.classList.toggle('valid', state === 'valid');
  field.classList.toggle('invalid', state === 'invalid');
  field.setAttribute('aria-invalid', state === 'invalid' ? 'true' : 'false');
  m.className = 'filter-msg' + (state ? ' ' + state : '');
  m.textContent = msg || '';
}

/**
 * checkInto checks expr (for a capture or an interface, as API.checkFilter)
 * and marks field and message m with the verdict, handing it to shown
 * (when given) too; it returns whether expr is valid, or undefined when a
 * later check overtook this one (isCurrent).
 */
export async function checkInto(expr, where, field, m, isCurrent, shown = null) {
  let r;
  try {
    r = await API.checkFilter(expr, where);
  } catch (e) {
    r = { valid: false, error: e.message, column: e.column };
  }
  if (!isCurrent()) return r.valid;
  if (shown) shown(r);
  if (r.valid && r.language === 'display') {
    markFilter(field, m, 'valid', '✓ display filter · reads ' + (r.fields || []).join(', '));
    m.title = 'As parsed: ' + r.canonical;
  } else if (r.valid) {
    markFilter(field, m, 'valid', '✓ valid for ' + r.linkType + ' · ' + r.instructions + ' BPF instructions');
    m.title = r.program;
  } else {
    markFilter(field, m, 'invalid', '✗ ' + (r.column ? 'column ' + r.column + ': ' : '') + r.error);
    m.title = r.error + (r.column ? '\n' + expr + '\n' + ' '.repeat(r.column - 1) + '^' : '');
  }
  return r.valid;
}

/**
 * renderApplied marks the bar "not applied" while its expression differs
 * from the filter the list shows, and says which that is.
 */
export function renderApplied() {
  const typed = input.value.trim();
  const dirty = !!S.cur && typed !== S.filter;
  $('filter-form').classList.toggle('not-applied', dirty);
  const p = $('filter-pending');
  p.hidden = !dirty;
  p.textContent = '';
  if (!dirty) return;
  const shown = document.createElement('b');
  shown.textContent = S.filter || 'all packets';
  p.append('Not applied · showing ', shown);
  p.title = 'The list shows ' + (S.filter ? 'the filter ' + S.filter : 'all packets') + ': press Enter or Apply to show ' +
    (typed ? typed : 'all packets') + ', Escape to go back';
}

function validateSoon() {
  clearTimeout(validateTimer);
  validateTimer = setTimeout(validateNow, 250);
}

/** validateNow checks the expression in the bar and returns whether it is valid. */
export async function validateNow() {
  clearTimeout(validateTimer);
  const expr = input.value;
  const seq = ++validateSeq;
  if (!expr.trim()) { setFilterState('', ''); return true; }
  const ok = await checkInto(expr, { capture: S.cur ? S.cur.id : '' }, input, $('filter-msg'), () => seq === validateSeq,
    (r) => { showLanguage(r); showFault(r.valid ? null : r, expr); });
  if (seq === validateSeq) S.filterState = ok ? 'valid' : 'invalid';
  return ok;
}

/** applyFilter shows the packets expr matches ('' all of them). */
export async function applyFilter(expr) {
  expr = expr.trim();
  if (!S.cur) return;
  if (expr && !(await validateNow())) return;
  if (expr) {
    S.history = [expr].concat(S.history.filter((h) => h !== expr)).slice(0, 50);
    setPrefJSON('history', S.history);
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
      const st = await API.startFilter(S.cur.id, expr);
      if (S.filter === expr) S.displayed = Math.max(S.displayed, st.matched);
    } catch (e) {
      setFilterState('invalid', '✗ ' + (e.column ? 'column ' + e.column + ': ' : '') + e.message);
      showFault(e, expr);
      S.filter = '';
      S.displayed = S.total;
    }
  } else {
    S.displayed = S.total;
    setFilterState('', '');
  }
  writeURL();
  renderApplied();
  renderStatus();
  renderProgress();
  renderList();
}

// The server lets a filter job nobody asks about fall behind others
// (README: filter jobs): while the shown filter is still running, ask
// about it every keepFilterMs even when no rows are missing.
let keptAt = 0;
function keepFilter() {
  const c = S.cur;
  if (!filterBusy(c, shownFilter(c)) || Date.now() - keptAt < tunable('keepFilterMs')) return;
  keptAt = Date.now();
  API.startFilter(c.id, S.filter).catch(() => { /* the next snapshot tells */ });
}

// strayEnter: the bar took the focus during an Enter pressed elsewhere (a
// menu's), whose keypress must not submit the bar's form.
let strayEnter = false;

/**
 * useFilter puts expr in the bar and applies it (apply) or leaves it there
 * to be edited, checked (Wireshark's Apply / Prepare as Filter).
 */
export function useFilter(expr, apply) {
  input.value = expr;
  closeCompletion();
  renderApplied();
  if (apply) {
    applyFilter(expr);
    return;
  }
  strayEnter = true;
  input.focus();
  input.setSelectionRange(expr.length, expr.length);
  validateNow();
}

/** initFilterBar wires the bar's typing, completion, history, Apply and Cancel. */
export function initFilterBar() {
  const edited = () => { S.histPos = -1; showFault(null); renderApplied(); validateSoon(); };
  initCompletion(input, edited);
  input.addEventListener('input', () => { edited(); suggest(); });
  input.addEventListener('scroll', () => { $('filter-mirror').scrollLeft = input.scrollLeft; });
  input.addEventListener('keypress', (ev) => {
    if (ev.key === 'Enter' && strayEnter) ev.preventDefault();
    strayEnter = false;
  });
  input.addEventListener('keydown', (ev) => {
    strayEnter = false;
    if (completionKey(ev)) return;
    if (ev.key === 'ArrowUp' && S.history.length) {
      S.histPos = Math.min(S.history.length - 1, S.histPos + 1);
      input.value = S.history[S.histPos];
      renderApplied();
      validateSoon();
      ev.preventDefault();
    } else if (ev.key === 'ArrowDown' && S.histPos >= 0) {
      S.histPos--;
      input.value = S.histPos >= 0 ? S.history[S.histPos] : '';
      renderApplied();
      validateSoon();
      ev.preventDefault();
    } else if (ev.key === 'Escape' && !isOpen()) {
      input.value = S.filter;
      renderApplied();
      validateNow();
    }
  });
  $('filter-form').addEventListener('submit', (ev) => { ev.preventDefault(); closeCompletion(); applyFilter(input.value); });
  $('filter-cancel').addEventListener('click', async () => {
    if (!S.cur || !S.filter) return;
    const expr = S.filter;
    try { await API.cancelFilter(S.cur.id, expr); } catch (e) { /* already gone */ }
    input.value = '';
    await applyFilter('');
    setFilterState('', 'Filter "' + expr + '" cancelled');
  });
  setInterval(keepFilter, 250);
}
