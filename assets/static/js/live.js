// Live capture: the "Live…" dialog (interface, capture filter checked as it
// is typed, snap length, promiscuous mode) and the indicator of a running
// capture with its Stop button.
import * as API from './api.js';
import { openCapture, takeInfo } from './captures.js';
import { checkInto, markFilter } from './filterbar.js';
import { fmtBytes, fmtCount } from './format.js';
import { scroller } from './list.js';
import { pref, setPref } from './prefs.js';
import { initRemote, openRemote, renderSources } from './remote.js';
import { S, liveEnabled, liveRunning } from './state.js';
import { $, showError } from './ui.js';

/** renderLive shows the open capture's live indicator, if it is a live capture. */
export function renderLive() {
  renderSources();
  const c = S.cur;
  const ind = $('live-ind');
  if (!c || !c.live) { ind.hidden = true; return; }
  const l = c.live;
  ind.hidden = false;
  ind.classList.toggle('running', l.running);
  const on = l.sources && l.sources.length > 1 ? l.sources.length + ' sources' : l.interface;
  let t = (l.running ? 'Capturing on ' : 'Captured on ') + on + ' — ' +
    fmtCount(c.packets) + ' packets, ' + fmtCount(l.dropped) + ' dropped';
  if (!l.running && l.stopped) t += ' · ' + l.stopped;
  $('live-text').textContent = t;
  ind.title = (l.filter ? 'Capture filter: ' + l.filter + '\n' : '') + 'Received by the OS: ' + fmtCount(l.received) +
    ' · dropped: ' + fmtCount(l.dropped) + ' · spooled: ' + fmtBytes(l.spoolBytes) + ' of ' + fmtBytes(l.maxBytes);
  $('live-stop').hidden = !l.running;
}

/** stopLive stops the open capture if it is running. */
export async function stopLive() {
  if (!liveRunning(S.cur)) return;
  const id = S.cur.id;
  const btn = $('live-stop');
  btn.disabled = true;
  // The answer is the capture as it was when the stop was done; a
  // WebSocket snapshot that came meanwhile may be newer (its filters
  // further on), and later changes come as snapshots anyway: take the
  // answer only when none came.
  const seen = S.snapshots;
  try {
    const info = await API.stopCapture(id);
    if (S.snapshots === seen) takeInfo(info);
  } catch (e) { showError(e.message); }
  btn.disabled = false;
}

/** openLiveDialog lists the interfaces and shows the dialog. */
export async function openLiveDialog() {
  if (!liveEnabled) return;
  let ifs;
  try { ifs = await API.interfaces(); } catch (e) { showError('Cannot list the network interfaces: ' + e.message); return; }
  const sel = $('live-iface');
  const prev = sel.value || pref('liveIface');
  sel.textContent = '';
  for (const ifc of ifs) {
    const o = document.createElement('option');
    // The value is the device name (on Windows \Device\NPF_{GUID}, which
    // always works); the text leads with the friendly name ("Ethernet").
    o.value = ifc.name;
    o.title = [ifc.name, ifc.description].filter(Boolean).join(' — ');
    o.textContent = (ifc.friendlyName || ifc.name) + (ifc.addresses.length ? ' — ' + ifc.addresses.join(', ') : '') +
      (ifc.loopback ? ' (loopback)' : '') + (ifc.up ? '' : ' (down)') +
      (ifc.linkType && ifc.linkType !== 'EN10MB' ? ' [' + ifc.linkType + ']' : '');
    sel.append(o);
  }
  if (ifs.some((x) => x.name === prev)) sel.value = prev;
  $('live-error').hidden = true;
  openRemote();
  $('live-dialog').showModal();
  sel.focus();
  validateLiveNow();
}

let liveValidateTimer = 0;
let liveValidateSeq = 0;
function setLiveFilterState(state, msg) { markFilter($('live-filter'), $('live-filter-msg'), state, msg); }
async function validateLiveNow() {
  clearTimeout(liveValidateTimer);
  const expr = $('live-filter').value;
  const seq = ++liveValidateSeq;
  if (!expr.trim()) { setLiveFilterState('', 'empty: every packet is captured'); return true; }
  return checkInto(expr, { iface: $('live-iface').value }, $('live-filter'), $('live-filter-msg'), () => seq === liveValidateSeq);
}

async function startLive() {
  if (!(await validateLiveNow())) { $('live-filter').focus(); return; }
  const body = {
    interface: $('live-iface').value,
    filter: $('live-filter').value.trim(),
    snaplen: parseInt($('live-snaplen').value, 10) || 0,
    promiscuous: $('live-promisc').checked,
  };
  const btn = $('live-start');
  btn.disabled = true;
  try {
    const info = await API.startLive(body);
    setPref('liveIface', body.interface);
    $('live-dialog').close();
    showError('');
    await openCapture(info.id, {});
    scroller.focus({ preventScroll: true });
  } catch (e) {
    const err = $('live-error');
    err.textContent = (e.column ? 'Capture filter, column ' + e.column + ': ' : '') + e.message;
    err.hidden = false;
    if (e.column) setLiveFilterState('invalid', '✗ column ' + e.column + ': ' + e.message);
  } finally {
    btn.disabled = false;
  }
}

/** initLive wires the dialog and the Stop button. */
export function initLive() {
  $('live-stop').addEventListener('click', stopLive);
  if (!liveEnabled) return;
  initRemote();
  $('live-button').addEventListener('click', openLiveDialog);
  $('live-filter').addEventListener('input', () => {
    clearTimeout(liveValidateTimer);
    liveValidateTimer = setTimeout(validateLiveNow, 250);
  });
  $('live-iface').addEventListener('change', validateLiveNow);
  $('live-form').addEventListener('submit', (ev) => { ev.preventDefault(); startLive(); });
  $('live-cancel').addEventListener('click', () => $('live-dialog').close());
}
