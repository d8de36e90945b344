// Pushed rows. While the packet list follows the end of a capture that
// grows (a live capture, or a file still being indexed), the server pushes
// the rows of new packets over the WebSocket, the newest window of them
// (README: "Rows pushed over the WebSocket"), and the selected packet's
// bytes when the selection changes; the REST rows request stays for
// scrolling and random access, and is what the list falls back to when
// the server refuses a follow or the socket is closed.
import * as API from './api.js';
import { colorFilters } from './coloring.js';
import { customFields } from './columns.js';
import { cacheRows, renderList, viewRows } from './list.js';
import { S, growing } from './state.js';
import { renderStatus } from './status.js';

const MAX_WINDOW = 256; // the server keeps at most this many rows per follow

let sent = null;     // the follow sent: {key, query, fields, capture}, null for none
let accepted = '';   // the key of the follow the server has answered with rows
let refused = '';    // the key of a follow the server refused: not asked again
const asked = new Map(); // packet no -> resolvers of a select sent over the socket

/** pushActive reports whether the list's new rows come pushed (the counts with them). */
export function pushActive() { return !!sent && accepted === sent.key && !!S.cur && sent.capture === S.cur.id; }

// wanted is the follow the list needs now, or null.
function wanted() {
  if (!S.cur || !S.follow || !growing(S.cur) || S.sort) return null;
  const fields = customFields();
  const query = API.rowsQuery(S.filter, S.checksums, { fields, names: S.names, colors: colorFilters() });
  const window = Math.min(viewRows() + 2, MAX_WINDOW);
  return { capture: S.cur.id, key: S.gen + '/' + window + '/' + query, query, window, fields };
}

/**
 * syncFollow tells the server what the list follows, when that changed
 * (the list calls it at each render).
 */
export function syncFollow() {
  const w = wanted();
  if (w && w.key === refused) return;
  if ((w && sent && w.key === sent.key && w.capture === sent.capture) || (!w && !sent)) return;
  const ok = w
    ? API.wsSend({ type: 'follow', capture: w.capture, key: w.key, query: w.query, window: w.window, from: S.displayed })
    : API.wsSend({ type: 'unfollow' });
  if (!ok) return; // sent again once the socket opens
  sent = w;
  accepted = '';
}

/**
 * packetOf returns the packet no of the open capture as GET packets
 * serves it: pushed over the WebSocket while the list follows, asked for
 * with REST otherwise (or when the push does not come within 2 s).
 */
export function packetOf(no) {
  const rest = () => API.packet(S.cur.id, no, S.checksums, S.names);
  if (!pushActive()) return rest();
  const query = API.rowsQuery('', S.checksums, { names: S.names });
  if (!API.wsSend({ type: 'select', capture: S.cur.id, key: sent.key, query, no })) return rest();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { asked.delete(no); rest().then(resolve, reject); }, 2000);
    asked.set(no, { resolve, timer });
  });
}

// onPush takes a message from the WebSocket other than a state snapshot.
function onPush(m) {
  switch (m.type) {
    case 'open':
    case 'closed':
      sent = null; accepted = '';
      for (const [no, a] of asked) { clearTimeout(a.timer); asked.delete(no); a.resolve(API.packet(S.cur.id, no, S.checksums, S.names)); }
      renderList();
      return;
    case 'follow-error':
      if (sent && m.key === sent.key) { refused = sent.key; accepted = ''; renderList(); }
      return;
    case 'packet': {
      const a = asked.get(m.no);
      if (a && S.cur && m.capture === S.cur.id) { clearTimeout(a.timer); asked.delete(m.no); a.resolve(m.packet); }
      return;
    }
    case 'rows':
      if (!sent || m.key !== sent.key || !S.cur || m.capture !== S.cur.id) return;
      accepted = m.key;
      cacheRows(m.start, m, sent.fields);
      if (m.displayed !== S.displayed || m.total !== S.total) {
        S.displayed = Math.max(S.displayed, m.displayed);
        S.total = Math.max(S.total, m.total);
        renderStatus();
      }
      renderList();
  }
}

/** initPush connects the list to the WebSocket's pushes. */
export function initPush(onState) {
  API.watch(onState, onPush);
}
