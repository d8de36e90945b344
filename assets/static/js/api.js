// The client of pkttap-web's REST API (documented in the README) and of its
// WebSocket. Every request the page makes goes through here.

/** ApiError is a refused request: the server's message, status and, for a
 * filter, the 1-based column of the fault, its length (display filters)
 * and the language whose fault it is. */
export class ApiError extends Error {
  constructor(message, status, column, length, language) {
    super(message);
    this.status = status;
    this.column = column || 0;
    this.length = length || 0;
    this.language = language || '';
  }
}

/** api fetches path and returns its JSON answer (null for 204), or throws an ApiError. */
export async function api(path, opts = {}) {
  const res = await fetch(path, Object.assign({ credentials: 'same-origin' }, opts));
  if (res.status === 204) return null;
  let body = null;
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) {
    throw new ApiError((body && body.error) || res.statusText || ('HTTP ' + res.status), res.status,
      body && body.column, body && body.length, body && body.language);
  }
  return body;
}

export const enc = encodeURIComponent;

const postJSON = (path, body) => api(path, {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
});
const cap = (id) => '/api/captures/' + id;

/** listCaptures: GET /api/captures. */
export const listCaptures = () => api('/api/captures');
/** getCapture: GET /api/captures/{id}. */
export const getCapture = (id) => api(cap(id));
/** deleteCapture: DELETE /api/captures/{id} (stops a running live capture). */
export const deleteCapture = (id) => api(cap(id), { method: 'DELETE' });
/** openSample: POST /api/captures/sample. */
export const openSample = () => api('/api/captures/sample', { method: 'POST' });
/** stopCapture: POST /api/captures/{id}/stop. */
export const stopCapture = (id) => api(cap(id) + '/stop', { method: 'POST' });

/**
 * rows: GET /api/captures/{id}/rows, count rows from display position
 * start; checksums asks the server to verify the checksums it leaves
 * unverified by default; colors are coloring rules (display filters, in
 * order): each row says the first it matches.
 */
export function rows(id, start, count, filter, checksums = false, { sort = null, fields = [], names = '', colors = [] } = {}) {
  return api(cap(id) + '/rows?start=' + start + '&count=' + count + '&' + rowsQuery(filter, checksums, { fields, names, colors }) + sortQuery(sort));
}

/**
 * rowsQuery is the query of a rows request but for its positions and
 * sort: a list's view (filter, checksums, names, coloring rules, custom
 * fields), the same for GET rows and a follow over the WebSocket.
 */
export function rowsQuery(filter, checksums, { fields = [], names = '', colors = [] } = {}) {
  const q = [];
  if (filter) q.push('filter=' + enc(filter));
  if (checksums) q.push('checksums=1');
  if (names) q.push('names=' + names);
  for (const c of colors) q.push('color=' + enc(c));
  if (fields.length) q.push('fields=' + enc(fields.join(',')));
  return q.join('&');
}

// sortQuery is the query of a sort {column, desc} (null: none).
const sortQuery = (sort) => (sort ? '&sort=' + enc(sort.column) + '&order=' + (sort.desc ? 'desc' : 'asc') : '');

/**
 * find: GET /api/captures/{id}/find, Find Packet; o are the query's
 * parameters ({type, q, in, case, dir, from, filter, cursor}).
 */
export function find(id, o) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== '' && v !== null) q.set(k, String(v));
  return api(cap(id) + '/find?' + q.toString());
}
/**
 * sort: POST /api/captures/{id}/sort, starting (or finding) the sort
 * {column, desc} of the packets of filter; it answers its progress.
 */
export const sort = (id, s, filter) => api(cap(id) + '/sort?filter=' + enc(filter) + sortQuery(s), { method: 'POST' });
/** packet: GET /api/captures/{id}/packets/{no} (checksums and names, the name resolutions 'm' and 't', as for rows). */
export const packet = (id, no, checksums = false, names = '') => api(cap(id) + '/packets/' + no + '?checksums=' + (checksums ? 1 : 0) + (names ? '&names=' + names : ''));
/** position: GET /api/captures/{id}/position of packet no under filter, in the order of sort (null: none). */
export const position = (id, no, filter, sort = null) => api(cap(id) + '/position?no=' + no + '&filter=' + enc(filter) + sortQuery(sort));

/** startFilter: POST /api/captures/{id}/filter (starts or keeps a filter job). */
export const startFilter = (id, filter) => postJSON(cap(id) + '/filter', { filter });
/** cancelFilter: DELETE /api/captures/{id}/filter. */
export const cancelFilter = (id, filter) => api(cap(id) + '/filter?filter=' + enc(filter), { method: 'DELETE' });

/**
 * checkFilter asks /api/filter whether expr compiles, for a capture or an
 * interface ({capture} or {iface}: a capture filter, tcpdump's language
 * only). It answers {valid: true, language, linkType, and instructions,
 * program (BPF) or fields, canonical (display)} or {valid: false,
 * language, error, column, length}: a rejected expression is an answer,
 * not an exception (the server answers it with 200 and valid:false, or,
 * before that, with 400 and the message).
 */
export async function checkFilter(expr, { capture = '', iface = '' } = {}) {
  let q = '/api/filter?expr=' + enc(expr);
  if (capture) q += '&capture=' + capture;
  if (iface) q += '&interface=' + enc(iface);
  try {
    const r = await api(q);
    if (r && r.valid === false) {
      return { valid: false, language: r.language || '', error: r.error, column: r.column || 0, length: r.length || 0 };
    }
    return Object.assign({ valid: true }, r);
  } catch (e) {
    if (e.status === 400) return { valid: false, language: e.language, error: e.message, column: e.column, length: e.length };
    throw e;
  }
}

let fieldList = null;
/**
 * fields: GET /api/fields, the display-filter registry ([{name, type,
 * typeText, description}]), asked once per page (the browser revalidates
 * it against its ETag).
 */
export function fields() {
  if (!fieldList) fieldList = api('/api/fields').catch((e) => { fieldList = null; throw e; });
  return fieldList;
}

/** interfaces: GET /api/interfaces. */
export const interfaces = () => api('/api/interfaces');
/** startLive: POST /api/live. */
export const startLive = (body) => postJSON('/api/live', body);

/** downloadURL is the address of a capture's download. */
export function downloadURL(id, format, filter) {
  return cap(id) + '/download?format=' + format + (filter ? '&filter=' + enc(filter) : '');
}

/** notes: GET /api/captures/{id}/marks (marked and ignored packets, in short). */
export const notes = (id) => api(cap(id) + '/marks');
/**
 * changeNotes: POST /api/captures/{id}/marks, op ('toggle-mark', 'mark',
 * 'unmark', 'toggle-ignore', 'ignore', 'unignore') on the packets of range
 * ('' for all), only those filter displays when it is given.
 */
export const changeNotes = (id, op, packets, filter) => postJSON(cap(id) + '/marks', { op, packets, filter });
/** setComment: PUT /api/captures/{id}/packets/{no}/comment ('' removes it). */
export const setComment = (id, no, comment) => api(cap(id) + '/packets/' + no + '/comment', {
  method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ comment }),
});
/**
 * exportURL is the address of an export of specified packets: opts are
 * {format, packets, range, selected, filter, removeIgnored}.
 */
export function exportURL(id, o) {
  let q = cap(id) + '/export?format=' + o.format + '&packets=' + o.packets;
  if (o.packets === 'range') q += '&range=' + enc(o.range);
  if (o.packets === 'selected') q += '&selected=' + enc(o.selected);
  if (o.filter) q += '&filter=' + enc(o.filter);
  if (o.removeIgnored) q += '&ignored=remove';
  return q;
}

/**
 * upload sends file to POST /api/captures with progress(loaded, total)
 * calls; it resolves to the capture's info or rejects with the server's
 * message.
 */
export function upload(file, progress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/captures?name=' + enc(file.name));
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (ev) => { if (ev.lengthComputable) progress(ev.loaded, ev.total); };
    xhr.onloadend = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 201 && body) resolve(body);
      else reject(new ApiError((body && body.error) || xhr.statusText || 'connection lost', xhr.status));
    };
    xhr.send(file);
  });
}

let socket = null; // the open WebSocket, null while there is none

/**
 * watch connects to /api/ws and calls onState(captures) with each state
 * snapshot and onPush(message) with every other message (pushed rows and
 * packets, follow errors; {type: 'open'} when the socket (re)opens); it
 * reconnects, backing off up to 10 s, when the socket closes.
 */
export function watch(onState, onPush = () => {}) {
  let delay = 500;
  const connect = () => {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/ws');
    ws.onopen = () => { delay = 500; socket = ws; onPush({ type: 'open' }); };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type === 'state') onState(msg.captures);
      else onPush(msg);
    };
    ws.onclose = () => {
      if (socket === ws) { socket = null; onPush({ type: 'closed' }); }
      setTimeout(connect, delay); delay = Math.min(delay * 2, 10000);
    };
  };
  connect();
}

/** wsSend sends msg over the WebSocket; false when it is not open. */
export function wsSend(msg) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(msg));
  return true;
}
