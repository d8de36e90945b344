// The state of the page: which capture is open, under which filter, what is
// selected. Modules read and change S; the URL mirrors the view.
import { pref, prefJSON } from './prefs.js';

export const S = {
  caps: [],            // CaptureInfo[] from the WebSocket
  snapshots: 0,        // WebSocket state snapshots received
  cur: null,           // CaptureInfo of the open capture
  filter: '',          // the applied filter ('' = all)
  total: 0,            // packets indexed
  displayed: 0,        // packets displayed
  gen: 0,              // bumps when the view changes; stale answers are dropped
  cache: new Map(),    // display position -> Row
  pending: new Map(),  // chunk start -> promise of its fetch
  selPos: -1,
  selNo: 0,
  pkt: null,           // PacketResponse of the selected packet
  flat: [],            // visible tree nodes, in order, for keyboard navigation
  selNode: null,
  expanded: new Set(prefJSON('expanded', [])),
  timeMode: pref('timeMode', 'relative'),
  timePrec: prefJSON('timePrecision', 6),
  checksums: prefJSON('checksums', false) === true, // verify the checksums the server leaves unverified
  names: /^m?t?$/.test(prefJSON('names', '')) ? prefJSON('names', '') : '', // name resolutions: 'm' MAC, 't' ports
  history: prefJSON('history', []),
  histPos: -1,
  filterState: '',     // '', 'valid', 'invalid'
  follow: true,        // a running live capture's list follows its end (see growing)
};

/** liveEnabled: the server offers live capture. */
export const liveEnabled = document.body.dataset.live === 'on';

/** liveRunning reports whether capture c is a live capture still running. */
export const liveRunning = (c) => !!(c && c.live && c.live.running);

/** growing reports whether capture c may still get packets: a live capture running, or a file being indexed. */
export const growing = (c) => liveRunning(c) || !!(c && c.state === 'indexing');

/** shownFilter returns the status of the filter job behind the view, if any. */
export function shownFilter(c = S.cur) {
  return (c && S.filter && (c.filters || []).find((x) => x.filter === S.filter)) || null;
}

/**
 * filterBusy reports whether filter job f is still working through the
 * packets there are (on a running live capture it never ends: it is busy
 * only while it lags behind).
 */
export function filterBusy(c, f) {
  if (!f || f.done) return false;
  return !(liveRunning(c) && f.scanned >= c.packets);
}

/** writeURL puts the view (capture, filter, packet) in the address bar. */
export function writeURL() {
  if (!S.cur) { history.replaceState(null, '', '/'); return; }
  const q = new URLSearchParams();
  if (S.filter) q.set('filter', S.filter);
  if (S.selNo) q.set('p', String(S.selNo));
  const qs = q.toString();
  history.replaceState(null, '', '/c/' + S.cur.id + (qs ? '?' + qs : ''));
}

/** readURL returns the view the address names. */
export function readURL() {
  const m = location.pathname.match(/^\/c\/([0-9a-f]{16})$/);
  const q = new URLSearchParams(location.search);
  return { id: m ? m[1] : '', filter: q.get('filter') || '', p: parseInt(q.get('p') || '0', 10) || 0 };
}
