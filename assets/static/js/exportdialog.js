// Export Specified Packets, as Wireshark's dialog: all, the selected
// packet, the marked ones, first to last marked, or a range, of the
// captured or the displayed packets, with or without ignored packets, as
// pcapng or pcap. The count of what would be written is asked of the
// server (check=1) as the choices change.
import * as API from './api.js';
import { fmtCount } from './format.js';
import { scroller } from './list.js';
import { S } from './state.js';
import { $, saveURL } from './ui.js';

const dlg = $('export-dialog');

// choice returns the dialog's choices as API.exportURL takes them.
function choice() {
  const displayed = $('export-displayed').checked;
  return {
    format: $('export-format').value,
    packets: document.querySelector('input[name="export-which"]:checked').value,
    range: $('export-range').value,
    selected: String(S.selNo || ''),
    filter: displayed ? S.filter : '',
    removeIgnored: $('export-remove-ignored').checked,
  };
}

function showError(msg) {
  $('export-error').textContent = msg;
  $('export-error').hidden = !msg;
}

let asked = 0;
// count asks the server what the export would hold, and says so.
async function count() {
  const c = S.cur;
  const o = choice();
  const n = ++asked;
  $('export-save').disabled = true;
  if (o.packets === 'selected' && !o.selected) { showError('No packet is selected'); $('export-count').textContent = ''; return; }
  let r;
  try {
    r = await API.api(API.exportURL(c.id, o) + '&check=1');
  } catch (e) {
    if (n !== asked) return;
    showError(e.message);
    $('export-count').textContent = '';
    return;
  }
  if (n !== asked) return;
  showError('');
  let t = fmtCount(r.packets) + ' packet' + (r.packets === 1 ? '' : 's') + ' will be exported';
  if (r.ignored) t += o.removeIgnored ? ' (' + fmtCount(r.ignored) + ' ignored left out)' : ' (' + fmtCount(r.ignored) + ' of them ignored)';
  $('export-count').textContent = t;
  $('export-save').disabled = r.packets === 0;
}

/** openExport opens the Export Specified Packets dialog for the open capture. */
export function openExport() {
  if (!S.cur) return;
  $('export-displayed').disabled = !S.filter;
  $('export-displayed').parentElement.title = S.filter ? 'The packets the filter ' + S.filter + ' displays' : 'No filter is applied: every packet is displayed';
  if (!S.filter) $('export-captured').checked = true;
  else $('export-displayed').checked = true;
  $('export-selected').disabled = !S.selNo;
  $('export-selected').parentElement.lastChild.textContent = S.selNo ? ' Selected packet only (' + fmtCount(S.selNo) + ')' : ' Selected packet only';
  if (!S.selNo && $('export-selected').checked) $('export-all').checked = true;
  showError('');
  dlg.showModal();
  count();
}

/** initExport wires the dialog. */
export function initExport() {
  $('export-form').addEventListener('change', count);
  $('export-range').addEventListener('input', () => { $('export-range-radio').checked = true; count(); });
  $('export-range').addEventListener('focus', () => { if (!$('export-range-radio').checked) { $('export-range-radio').checked = true; count(); } });
  $('export-cancel').addEventListener('click', () => { dlg.close(); scroller.focus({ preventScroll: true }); });
  $('export-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const url = API.exportURL(S.cur.id, choice());
    // Ask first: a browser drops the message of a refused download.
    try { await API.api(url + '&check=1'); } catch (e) { showError(e.message); return; }
    saveURL(url);
    dlg.close();
    scroller.focus({ preventScroll: true });
  });
}
