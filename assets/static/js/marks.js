// Wireshark's Edit menu for packets: mark and ignore packets (the server
// keeps them with the capture), find the next and previous marked packet,
// and edit the selected packet's comment (written in pcapng downloads).
import * as API from './api.js';
import { fmtCount } from './format.js';
import { gotoPacket, reloadRows, scroller, selectPos } from './list.js';
import { S } from './state.js';
import { $, showError } from './ui.js';

let notes = null; // the open capture's notes: {marked, ignored, markedCount, ignoredCount}

/** refreshNotes fetches the open capture's marks and shows their counts. */
export async function refreshNotes() {
  notes = null;
  renderNotes();
  const c = S.cur;
  if (!c) return;
  try {
    const n = await API.notes(c.id);
    if (S.cur === c) { notes = n; renderNotes(); }
  } catch (e) { showError(e.message); }
}

function renderNotes() {
  const parts = [];
  if (notes && notes.markedCount) parts.push('Marked ' + fmtCount(notes.markedCount));
  if (notes && notes.ignoredCount) parts.push('Ignored ' + fmtCount(notes.ignoredCount));
  $('status-marks').textContent = parts.join(' · ');
}

// change applies op to the selected packet, or with displayed to every
// displayed packet, then shows the rows and the packet again.
async function change(op, displayed = false) {
  const c = S.cur;
  if (!c) return;
  if (!displayed && !S.selNo) { $('status-field').textContent = 'Select a packet first'; return; }
  try {
    notes = await API.changeNotes(c.id, op, displayed ? '' : String(S.selNo), displayed ? S.filter : '');
  } catch (e) { showError(e.message); return; }
  if (S.cur !== c) return;
  renderNotes();
  await reloadRows();
  if (S.selPos >= 0) selectPos(S.selPos, { scroll: false });
}

// parseRanges reads the server's "1-3,7,9-" into [lo, hi] pairs.
function parseRanges(text) {
  if (!text) return [];
  return text.split(',').map((p) => {
    const [lo, hi] = p.split('-');
    return hi === undefined ? [+lo, +lo] : [+lo, hi === '' ? Infinity : +hi];
  });
}

// nextMark selects the next (dir 1) or previous (dir -1) marked packet that
// is displayed.
async function nextMark(dir) {
  const c = S.cur;
  if (!c) return;
  let n;
  try { n = await API.notes(c.id); } catch (e) { showError(e.message); return; }
  const spans = parseRanges(n.marked);
  const from = S.selNo || (dir > 0 ? 0 : S.total + 1);
  // Candidates in order, at most a few hundred (each displayed check may ask the server).
  const cand = [];
  if (dir > 0) {
    for (const [lo, hi] of spans) for (let no = Math.max(lo, from + 1); no <= Math.min(hi, S.total) && cand.length < 500; no++) cand.push(no);
  } else {
    for (let k = spans.length - 1; k >= 0; k--) {
      const [lo, hi] = spans[k];
      for (let no = Math.min(hi, from - 1, S.total); no >= lo && cand.length < 500; no--) cand.push(no);
    }
  }
  for (const no of cand) {
    if (!S.filter) { await gotoPacket(no); return; }
    try {
      const r = await API.position(c.id, no, S.filter);
      if (r.exact) { await selectPos(r.position); return; }
    } catch (e) { showError(e.message); return; }
  }
  $('status-field').textContent = 'No ' + (dir > 0 ? 'next' : 'previous') + ' marked packet' + (S.filter ? ' displayed' : '');
}

// ---------- the comment dialog ----------

const dlg = $('comment-dialog');
const text = $('comment-text');
let editing = 0; // the packet number whose comment the dialog edits

function countNote() {
  const bytes = new TextEncoder().encode(text.value).length;
  $('comment-count').textContent = fmtCount(bytes) + ' of 65,535 bytes (pcapng keeps a comment of at most 65,535)';
  $('comment-count').classList.toggle('over', bytes > 65535);
}

/** openComment opens the comment dialog for the selected packet. */
export function openComment() {
  if (!S.cur || !S.selNo) { $('status-field').textContent = 'Select a packet first'; return; }
  editing = S.selNo;
  $('comment-title').textContent = 'Packet ' + fmtCount(editing) + ' comment';
  text.value = (S.pkt && S.pkt.no === editing && S.pkt.comment) || '';
  $('comment-error').hidden = true;
  countNote();
  dlg.showModal();
  text.focus();
}

async function saveComment(comment) {
  const c = S.cur;
  try {
    await API.setComment(c.id, editing, comment);
  } catch (e) {
    $('comment-error').textContent = e.message;
    $('comment-error').hidden = false;
    return;
  }
  dlg.close();
  if (S.cur !== c) return;
  await reloadRows();
  if (S.selPos >= 0) await selectPos(S.selPos, { scroll: false });
  scroller.focus({ preventScroll: true });
}

// ---------- menu and keys ----------

const actions = {
  'toggle-mark': () => change('toggle-mark'),
  'mark-displayed': () => change('mark', true),
  'unmark-displayed': () => change('unmark', true),
  'next-mark': () => nextMark(1),
  'prev-mark': () => nextMark(-1),
  'toggle-ignore': () => change('toggle-ignore'),
  'ignore-displayed': () => change('ignore', true),
  'unignore-displayed': () => change('unignore', true),
  comment: openComment,
};

// Wireshark's keys, with Ctrl (or Cmd): [shift, alt, key, action].
const keys = [
  [false, false, 'm', 'toggle-mark'], [true, false, 'm', 'mark-displayed'], [false, true, 'm', 'unmark-displayed'],
  [true, false, 'n', 'next-mark'], [true, false, 'b', 'prev-mark'],
  [false, false, 'd', 'toggle-ignore'], [true, false, 'd', 'ignore-displayed'], [false, true, 'd', 'unignore-displayed'],
  [false, true, 'c', 'comment'],
];

/** initMarks wires the Edit menu, its keys and the comment dialog. */
export function initMarks(toggleMenu) {
  $('edit-button').addEventListener('click', () => { toggleMenu('cap', false); toggleMenu('download', false); toggleMenu('edit'); });
  $('edit-menu').addEventListener('click', (ev) => {
    const a = ev.target.closest('a');
    if (!a) return;
    ev.preventDefault();
    toggleMenu('edit', false);
    scroller.focus({ preventScroll: true });
    actions[a.dataset.action]();
  });
  document.addEventListener('keydown', (ev) => {
    // The tree and bytes panes' copy keys (Ctrl+Shift+D...) come first.
    if (ev.defaultPrevented || !(ev.ctrlKey || ev.metaKey) || ev.target.matches('input, select, textarea') || document.querySelector('dialog[open]')) return;
    // With Alt, some layouts change ev.key: take the key's code.
    const key = ev.code && ev.code.startsWith('Key') ? ev.code.slice(3).toLowerCase() : ev.key.toLowerCase();
    const hit = keys.find(([shift, alt, k]) => k === key && shift === ev.shiftKey && alt === ev.altKey);
    if (!hit || !S.cur) return;
    ev.preventDefault();
    actions[hit[3]]();
  });
  text.addEventListener('input', countNote);
  $('comment-form').addEventListener('submit', (ev) => { ev.preventDefault(); saveComment(text.value); });
  $('comment-delete').addEventListener('click', () => saveComment(''));
  $('comment-cancel').addEventListener('click', () => { dlg.close(); scroller.focus({ preventScroll: true }); });
}
