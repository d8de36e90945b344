// Wireshark's time references (Edit › Set/Unset Time Reference, Ctrl+T):
// any number of packets of a capture may be references. A reference's
// Time column reads *REF*, and the relative time of a packet is measured
// from the latest reference at or before it in capture order (from the
// first packet when there is none). The browser keeps each capture's
// references; the server knows nothing of them.
import { toggleMenu } from './captures.js';
import { renderListNow } from './list.js';
import { resetFit } from './columns.js';
import { span } from './format.js';
import { prefJSON, setPrefJSON } from './prefs.js';
import { S } from './state.js';
import { $ } from './ui.js';

let refs = [];   // [{no, sec, nsec}] of the open capture, by packet number
let refsOf = ''; // whose they are

const prefKey = (id) => 'timeRefs.' + id;

// current returns the open capture's references, read once per capture.
function current() {
  const id = S.cur ? S.cur.id : '';
  if (id !== refsOf) {
    refsOf = id;
    const saved = id ? prefJSON(prefKey(id), []) : [];
    refs = (Array.isArray(saved) ? saved : []).filter((r) => r && Number.isInteger(r.no) && Number.isFinite(r.sec) && Number.isFinite(r.nsec));
    refs.sort((a, b) => a.no - b.no);
  }
  return refs;
}

/** isTimeRef reports whether packet no of the open capture is a time reference. */
export const isTimeRef = (no) => current().some((r) => r.no === no);

/**
 * refTime writes a row's time as the references make it, or returns
 * undefined when they change nothing: *REF* for a reference in any
 * format; in the relative format, the seconds since the latest reference
 * at or before the packet.
 */
export function refTime(row, mode, prec) {
  const list = current();
  if (!list.length) return undefined;
  let latest = null;
  for (const r of list) {
    if (r.no > row.no) break;
    latest = r;
  }
  if (latest && latest.no === row.no) return '*REF*';
  if (mode !== 'relative' || !latest || row.noTime) return undefined;
  return span(row.sec - latest.sec, row.nsec - latest.nsec, prec);
}

/** toggleTimeRef makes the selected packet a time reference, or no longer one. */
export function toggleTimeRef() {
  if (!S.cur || !S.selNo) return;
  const list = current();
  const no = S.selNo;
  const i = list.findIndex((r) => r.no === no);
  const status = $('status-field');
  if (i >= 0) {
    list.splice(i, 1);
    status.textContent = 'Packet ' + no + ' is no longer a time reference';
  } else {
    const row = (S.pkt && S.pkt.no === no) ? S.pkt : Array.from(S.cache.values()).find((r) => r.no === no);
    if (!row) return;
    list.push({ no, sec: row.sec, nsec: row.nsec });
    list.sort((a, b) => a.no - b.no);
    status.textContent = 'Packet ' + no + ' is a time reference';
  }
  if (list.length) setPrefJSON(prefKey(S.cur.id), list);
  else localStorage.removeItem('pkttap.' + prefKey(S.cur.id));
  resetFit();
  renderListNow();
}

/** initTimeRef adds the Edit menu's entry and wires Ctrl+T. */
export function initTimeRef() {
  const a = document.createElement('a');
  a.setAttribute('role', 'menuitem');
  a.dataset.action = 'time-ref';
  a.textContent = 'Set/Unset Time Reference';
  const k = document.createElement('span');
  k.className = 'key';
  k.textContent = 'Ctrl+T';
  a.append(k);
  a.addEventListener('click', (ev) => {
    ev.preventDefault();
    ev.stopPropagation(); // the menu's own handler knows only its entries
    toggleMenu('edit', false);
    $('list-scroll').focus({ preventScroll: true });
    toggleTimeRef();
  });
  $('edit-menu').append(a);
  document.addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented || !(ev.ctrlKey || ev.metaKey) || ev.shiftKey || ev.altKey || ev.key.toLowerCase() !== 't') return;
    if (ev.target.matches('input, select, textarea') || document.querySelector('dialog[open]')) return;
    ev.preventDefault();
    toggleTimeRef();
  });
}
