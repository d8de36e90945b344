// Remote capture and captures of several sources: the "Remote host…" tab
// of the Live dialog (protocol: SSH with tcpdump, or rpcap with rpcapd;
// host, port, user, authentication or rpcap's transport, the host's
// interfaces, a capture filter checked as it is typed for the remote
// interface's link type), the first-use prompt for an unknown host key,
// hosts saved in the browser (never a password), the list of sources a
// capture is started with, and, while such a capture runs, a bar with
// each source's state, counts, Stop and Reconnect. The server's API:
// /api/remote/keys, /api/remote/interfaces, /api/remote/linktype,
// POST /api/live {sources}, /api/captures/{id}/sources/{n}/stop|reconnect.
import { openCapture, takeInfo } from './captures.js';
import { setMultiInterface } from './columns.js';
import { markFilter } from './filterbar.js';
import { fmtCount } from './format.js';
import { scroller } from './list.js';
import { S, liveRunning } from './state.js';
import { $, el, showError } from './ui.js';

const SAVED = 'pkttap.remoteHosts'; // localStorage: [{protocol, host, port, user, auth, key, sudo, transport}], no secret
const PORTS = { ssh: 22, rpcap: 2002 };

// RemoteError is a refused request with the server's whole answer
// ({error, code, source, hostKey, column}).
class RemoteError extends Error {
  constructor(body, status) {
    super((body && body.error) || 'HTTP ' + status);
    this.body = body || {};
    this.status = status;
  }
}

async function call(method, path, body) {
  const opts = { method, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers = { 'Content-Type': 'application/json' };
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  let b = null;
  try { b = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) throw new RemoteError(b, res.status);
  return b;
}

let tab = 'local';
let sources = [];      // [{label, body}] to start together; a password stays here until Start
let linkType = '';     // of the remote interface picked, for the filter check
let pendingKey = null; // {retry} while the host key prompt is shown
let localEls = [];

function savedHosts() {
  try {
    const v = JSON.parse(localStorage.getItem(SAVED) || '[]');
    return Array.isArray(v) ? v.filter((h) => h && typeof h.host === 'string') : [];
  } catch (e) { return []; }
}

function saveHost(r) {
  const protocol = r.protocol === 'rpcap' ? 'rpcap' : 'ssh';
  const h = protocol === 'rpcap'
    ? { protocol, host: r.host, port: r.port || PORTS.rpcap, user: r.user || '', transport: r.transport || 'tcp' }
    : { protocol, host: r.host, port: r.port || PORTS.ssh, user: r.user || '', auth: r.auth, key: r.key || '', sudo: !!r.sudo };
  const list = savedHosts().filter((x) => !((x.protocol || 'ssh') === protocol && x.host === h.host && x.port === h.port && x.user === h.user));
  list.unshift(h);
  localStorage.setItem(SAVED, JSON.stringify(list.slice(0, 20)));
  renderSaved();
}

function renderSaved() {
  const sel = $('remote-saved');
  sel.textContent = '';
  sel.append(el('option', { value: '', textContent: 'Saved hosts…' }));
  savedHosts().forEach((h, i) => {
    const proto = h.protocol === 'rpcap' ? 'rpcap' : 'ssh';
    sel.append(el('option', {
      value: String(i), textContent: proto + '://' + (h.user ? h.user + '@' : '') + h.host + (h.port !== PORTS[proto] ? ':' + h.port : '') +
        (h.sudo ? ' (sudo)' : '') + (proto === 'rpcap' && h.transport && h.transport !== 'tcp' ? ' (' + h.transport + ')' : ''),
    }));
  });
  sel.hidden = sel.options.length === 1;
}

function useSaved() {
  const h = savedHosts()[parseInt($('remote-saved').value, 10)];
  if (!h) return;
  const proto = h.protocol === 'rpcap' ? 'rpcap' : 'ssh';
  $('remote-proto').value = proto;
  $('remote-host').value = h.host;
  $('remote-port').value = String(h.port || PORTS[proto]);
  $('remote-user').value = h.user;
  if (proto === 'rpcap') {
    $('remote-transport').value = h.transport || 'tcp';
  } else {
    $('remote-auth').value = h.auth;
    if (h.key) $('remote-key').value = h.key;
    $('remote-sudo').checked = h.sudo;
  }
  showAuth();
}

function protocol() { return $('remote-proto').value === 'rpcap' ? 'rpcap' : 'ssh'; }

/** hostOf is the host part of a request, from the form: the ssh object,
 * or the rpcap one; withProto adds "protocol" (for /api/remote/*). */
function hostOf(withProto) {
  if (protocol() === 'ssh') return withProto ? Object.assign({ protocol: 'ssh' }, sshOf()) : sshOf();
  const r = {
    host: $('remote-host').value.trim(), port: parseInt($('remote-port').value, 10) || PORTS.rpcap,
    user: $('remote-user').value.trim(), transport: $('remote-transport').value,
  };
  if (r.user && $('remote-password').value) r.password = $('remote-password').value;
  return withProto ? Object.assign({ protocol: 'rpcap' }, r) : r;
}

/** sshOf is the SSH part of a request, from the form. */
function sshOf() {
  const ssh = {
    host: $('remote-host').value.trim(), port: parseInt($('remote-port').value, 10) || 22,
    user: $('remote-user').value.trim(), auth: $('remote-auth').value, sudo: $('remote-sudo').checked,
  };
  if (ssh.auth === 'key') ssh.key = $('remote-key').value;
  if (ssh.auth === 'password') ssh.password = $('remote-password').value;
  return ssh;
}

function showAuth() {
  const rpcap = protocol() === 'rpcap';
  const a = $('remote-auth').value;
  $('remote-ssh-row').hidden = rpcap;
  $('remote-sudo-row').hidden = rpcap;
  $('remote-rpcap-row').hidden = !rpcap;
  $('remote-key-row').hidden = rpcap || a !== 'key';
  $('remote-password-row').hidden = !rpcap && a !== 'password';
  $('remote-user').placeholder = rpcap ? 'empty: null authentication (rpcapd -n)' : 'root';
}

// setProtocol switches the form between SSH and rpcap: the port follows
// unless the user changed it.
function setProtocol() {
  const p = protocol();
  const port = parseInt($('remote-port').value, 10);
  if (!port || port === PORTS.ssh || port === PORTS.rpcap) $('remote-port').value = String(PORTS[p]);
  $('remote-iface').textContent = '';
  $('remote-iface').disabled = true;
  linkType = '';
  $('remote-status').textContent = '';
  showAuth();
}

function remoteError(msg) {
  const e = $('remote-error');
  e.textContent = msg;
  e.hidden = !msg;
}

// explain turns a refused request into what the user reads and does:
// the server's message says what to do; an unknown host key asks.
function explain(e, retry) {
  const b = e.body || {};
  if (b.code === 'hostkey-unknown' && b.hostKey) {
    pendingKey = { retry, fingerprint: b.hostKey.fingerprint };
    $('remote-hostkey-text').textContent = 'First connection to ' + b.hostKey.host + '. It presents the ' + b.hostKey.type +
      ' host key\n' + b.hostKey.fingerprint + '\nCompare it with what `ssh-keygen -lf /etc/ssh/ssh_host_' +
      b.hostKey.type.replace(/^ssh-/, '').replace(/^ecdsa-sha2-nistp\d+$/, 'ecdsa') + '_key.pub` prints on that host. ' +
      'Accept only if they match: the key is then added to the known_hosts file of pkttap-web.';
    $('remote-hostkey').hidden = false;
    $('remote-accept').focus();
    remoteError('');
    return;
  }
  $('remote-hostkey').hidden = true;
  const prefix = {
    'hostkey-changed': '⚠ Host key changed — not connecting. ',
    auth: 'Authentication failed. ',
    permission: 'Permission denied. ',
    'tcpdump-missing': 'tcpdump is missing on the host. ',
    'no-interface': 'Unknown interface. ',
    'not-pcap': 'Not a capture stream. ',
    protocol: 'Not an rpcap answer. ',
    connection: 'Connection failed. ',
  }[b.code] || '';
  remoteError(prefix + e.message);
  if (b.column) markFilter($('remote-filter'), $('remote-filter-msg'), 'invalid', '✗ column ' + b.column + ': ' + e.message);
}

async function connect(accept = '') {
  const ssh = hostOf(true);
  if (!ssh.host) { remoteError('Type the host name or address.'); $('remote-host').focus(); return; }
  if (accept && ssh.protocol === 'ssh') ssh.acceptHostKey = accept;
  const btn = $('remote-connect');
  btn.disabled = true;
  remoteError('');
  $('remote-status').textContent = 'Connecting to ' + ssh.host + '…';
  try {
    const ifs = await call('POST', '/api/remote/interfaces', ssh);
    $('remote-hostkey').hidden = true;
    saveHost(ssh);
    const sel = $('remote-iface');
    const prev = sel.value;
    sel.textContent = '';
    for (const ifc of ifs) {
      sel.append(el('option', {
        value: ifc.name, title: ifc.description || ifc.name,
        textContent: ifc.name + (ifc.description ? ' — ' + ifc.description : '') + (ifc.loopback ? ' (loopback)' : '') + (ifc.up ? '' : ' (down)'),
      }));
    }
    const up = ifs.find((x) => x.up && !x.loopback && x.name !== 'any');
    if (ifs.some((x) => x.name === prev)) sel.value = prev;
    else if (up) sel.value = up.name;
    sel.disabled = false;
    $('remote-status').textContent = ifs.length + ' interfaces on ' + ssh.host;
    await pickInterface();
  } catch (e) {
    $('remote-status').textContent = '';
    explain(e, (fp) => connect(fp));
  } finally {
    btn.disabled = false;
  }
}

async function pickInterface() {
  linkType = '';
  const iface = $('remote-iface').value;
  if (!iface) return;
  try {
    const r = await call('POST', '/api/remote/linktype', Object.assign(hostOf(true), { interface: iface }));
    linkType = r.linkType;
    $('remote-status').textContent = iface + ': link type ' + linkType;
  } catch (e) { explain(e, (fp) => connect(fp)); }
  checkFilter();
}

let checkTimer = 0;
let checkSeq = 0;
async function checkFilter() {
  clearTimeout(checkTimer);
  const expr = $('remote-filter').value;
  const f = $('remote-filter'), m = $('remote-filter-msg');
  const seq = ++checkSeq;
  if (!expr.trim()) { markFilter(f, m, '', 'empty: every packet is captured'); return true; }
  if (!linkType) { markFilter(f, m, '', 'pick an interface to check the filter for its link type'); return true; }
  let r;
  try {
    r = await call('GET', '/api/filter?lang=bpf&linktype=' + encodeURIComponent(linkType) + '&expr=' + encodeURIComponent(expr));
  } catch (e) { r = { valid: false, error: e.message, column: e.body.column }; }
  if (seq !== checkSeq) return r.valid;
  if (r.valid) markFilter(f, m, 'valid', '✓ valid for ' + r.linkType + ' · ' + r.instructions + ' BPF instructions');
  else markFilter(f, m, 'invalid', '✗ ' + (r.column ? 'column ' + r.column + ': ' : '') + r.error);
  return r.valid;
}

/** current returns the source the open tab describes, or null (with a message). */
async function current() {
  if (tab === 'local') {
    const iface = $('live-iface').value;
    if (!iface) return null;
    return {
      label: 'local ' + iface + ($('live-filter').value.trim() ? ' · ' + $('live-filter').value.trim() : ''),
      body: { interface: iface, filter: $('live-filter').value.trim(), snaplen: parseInt($('live-snaplen').value, 10) || 0, promiscuous: $('live-promisc').checked },
    };
  }
  const iface = $('remote-iface').value;
  if (!iface || $('remote-iface').disabled) { remoteError('Connect to the host and pick an interface first.'); return null; }
  if (!(await checkFilter())) { $('remote-filter').focus(); return null; }
  const proto = protocol();
  const h = hostOf(false);
  const body = { interface: iface, filter: $('remote-filter').value.trim(), snaplen: parseInt($('remote-snaplen').value, 10) || 0, promiscuous: $('remote-promisc').checked };
  body[proto] = h;
  return {
    label: (proto === 'rpcap' ? 'rpcap://' : '') + (h.user ? h.user + '@' : '') + h.host + ':' + iface + (body.filter ? ' · ' + body.filter : ''),
    body,
  };
}

function renderList() {
  const ul = $('live-sources');
  ul.textContent = '';
  sources.forEach((s, i) => {
    const rm = el('button', { type: 'button', class: 'small', textContent: '✕', title: 'Remove this source' });
    rm.addEventListener('click', () => { sources.splice(i, 1); renderList(); });
    ul.append(el('li', {}, el('span', { class: 'mono', textContent: s.label }), rm));
  });
  $('live-sources-box').hidden = sources.length === 0;
  $('live-start').textContent = sources.length > 1 ? 'Start ' + sources.length + ' sources' : 'Start';
}

async function addSource() {
  const s = await current();
  if (!s) return;
  if (sources.some((x) => JSON.stringify(x.body) === JSON.stringify(s.body))) return;
  sources.push(s);
  renderList();
}

// startSources starts the listed sources (or the open tab's alone).
async function startSources() {
  let list = sources;
  if (list.length === 0) {
    const s = await current();
    if (!s) return;
    list = [s];
  }
  const btn = $('live-start');
  btn.disabled = true;
  remoteError('');
  try {
    const info = await call('POST', '/api/live', { sources: list.map((s) => s.body) });
    for (const s of sources) for (const h of [s.body.ssh, s.body.rpcap]) if (h) delete h.password;
    sources = [];
    renderList();
    $('live-dialog').close();
    showError('');
    takeInfo(info);
    await openCapture(info.id, {});
    scroller.focus({ preventScroll: true });
  } catch (e) {
    const i = e.body && typeof e.body.source === 'number' ? e.body.source : -1;
    if (i >= 0) {
      setTab(list[i].body.ssh || list[i].body.rpcap ? 'remote' : 'local');
      e.message = 'Source ' + (i + 1) + ' (' + list[i].label + '): ' + e.message;
    }
    explain(e, (fp) => { if (i >= 0 && list[i].body.ssh) list[i].body.ssh.acceptHostKey = fp; startSources(); });
    if (!$('remote-hostkey').hidden || tab === 'remote') return;
    const err = $('live-error');
    err.textContent = e.message;
    err.hidden = false;
  } finally {
    btn.disabled = false;
  }
}

function setTab(t) {
  tab = t;
  for (const b of document.querySelectorAll('#live-tabs [role=tab]')) {
    const on = b.dataset.tab === t;
    b.setAttribute('aria-selected', String(on));
    b.tabIndex = on ? 0 : -1;
  }
  for (const e of localEls) e.hidden = t !== 'local';
  $('remote-panel').hidden = t !== 'remote';
  $('live-error').hidden = true;
  if (t === 'remote' && !$('remote-host').value) $('remote-host').focus();
}

function field(label, id, input) {
  input.id = id;
  return [el('label', { htmlFor: id, textContent: label }), input];
}

// build makes the tab bar, the remote panel and the sources list inside
// the Live dialog's form.
function build() {
  const form = $('live-form');
  const h2 = $('live-title');
  localEls = [];
  for (let n = h2.nextElementSibling; n && n.id !== 'live-error'; n = n.nextElementSibling) localEls.push(n);
  const tabs = el('div', { id: 'live-tabs', class: 'live-tabs', role: 'tablist', 'aria-label': 'Source' },
    el('button', { type: 'button', role: 'tab', textContent: 'Local interface', id: 'live-tab-local' }),
    el('button', { type: 'button', role: 'tab', textContent: 'Remote host…', id: 'live-tab-remote' }));
  tabs.children[0].dataset.tab = 'local';
  tabs.children[1].dataset.tab = 'remote';
  h2.after(tabs);

  const auth = el('select', {},
    el('option', { value: 'key', textContent: 'Key file on the server' }),
    el('option', { value: 'agent', textContent: 'ssh-agent of the server' }),
    el('option', { value: 'password', textContent: 'Password (typed, never stored)' }));
  const proto = el('select', {},
    el('option', { value: 'ssh', textContent: 'SSH (runs tcpdump on the host)' }),
    el('option', { value: 'rpcap', textContent: 'rpcap (rpcapd on the host)' }));
  const transport = el('select', {},
    el('option', { value: 'tcp', textContent: 'TCP, to a port the server opens' }),
    el('option', { value: 'server-open', textContent: 'TCP, the server connects back (firewall)' }),
    el('option', { value: 'udp', textContent: 'UDP (losses count as drops)' }));
  const panel = el('div', { id: 'remote-panel', class: 'remote-panel live-form', hidden: true },
    el('select', { id: 'remote-saved', class: 'remote-wide', 'aria-label': 'Saved hosts' }),
    ...field('Protocol', 'remote-proto', proto),
    ...field('Host', 'remote-host', el('input', { type: 'text', class: 'mono', placeholder: 'host name or address', spellcheck: false, autocomplete: 'off' })),
    ...field('Port', 'remote-port', el('input', { type: 'number', min: 1, max: 65535, value: 22, class: 'mono' })),
    ...field('User', 'remote-user', el('input', { type: 'text', class: 'mono', placeholder: 'root', spellcheck: false, autocomplete: 'off' })),
    el('div', { id: 'remote-ssh-row', class: 'remote-row' }, ...field('Authentication', 'remote-auth', auth)),
    el('div', { id: 'remote-key-row', class: 'remote-row' }, ...field('Key', 'remote-key', el('select', {}))),
    el('div', { id: 'remote-password-row', class: 'remote-row', hidden: true },
      ...field('Password', 'remote-password', el('input', { type: 'password', autocomplete: 'off' }))),
    el('div', { id: 'remote-rpcap-row', class: 'remote-row', hidden: true },
      el('p', { id: 'remote-rpcap-note', class: 'dialog-note', textContent: 'rpcap sends the user name and password in the clear: use it on a trusted network or through a tunnel. Leave both empty for null authentication (rpcapd -n). The password is used for this capture only, never stored.' }),
      ...field('Transport', 'remote-transport', transport)),
    el('div', { id: 'remote-sudo-row', class: 'remote-row' }, el('span'),
      el('label', { class: 'check' }, el('input', { type: 'checkbox', id: 'remote-sudo' }), 'Run tcpdump with sudo -n')),
    el('span'),
    el('div', { class: 'remote-connect' },
      el('button', { type: 'button', id: 'remote-connect', textContent: 'Connect' }),
      el('span', { id: 'remote-status', class: 'dialog-note', 'aria-live': 'polite' })),
    el('div', { id: 'remote-hostkey', class: 'remote-hostkey', role: 'alertdialog', 'aria-labelledby': 'remote-hostkey-text', hidden: true },
      el('p', { id: 'remote-hostkey-text', class: 'mono' }),
      el('div', { class: 'dialog-buttons' },
        el('button', { type: 'button', id: 'remote-reject', textContent: 'Cancel' }),
        el('button', { type: 'button', id: 'remote-accept', class: 'primary', textContent: 'Accept key and connect' }))),
    ...field('Interface', 'remote-iface', el('select', { disabled: true })),
    el('label', { htmlFor: 'remote-filter', textContent: 'Capture filter' }),
    el('div', { class: 'filter-field' },
      el('input', { id: 'remote-filter', class: 'mono', type: 'text', spellcheck: false, placeholder: 'e.g. not port 22 (empty: every packet)', 'aria-describedby': 'remote-filter-msg' }),
      el('div', { id: 'remote-filter-msg', class: 'filter-msg', 'aria-live': 'polite' })),
    el('label', { htmlFor: 'remote-snaplen', textContent: 'Snap length' }),
    el('div', {}, el('input', { id: 'remote-snaplen', type: 'number', min: 1, max: 262144, value: 262144, class: 'mono' }), ' bytes'),
    el('span'),
    el('label', { class: 'check' }, el('input', { type: 'checkbox', id: 'remote-promisc', checked: true }), 'Promiscuous mode'),
    el('div', { id: 'remote-error', class: 'dialog-error', role: 'alert', hidden: true }));
  const box = el('div', { id: 'live-sources-box', class: 'live-sources', hidden: true },
    el('div', { class: 'dialog-note', textContent: 'Sources of this capture (merged by time, one interface each):' }),
    el('ul', { id: 'live-sources' }));
  const add = el('button', { type: 'button', id: 'live-add', textContent: '+ Add source', title: 'Add this interface to the capture, then pick another (local or remote)' });
  $('live-error').before(panel, box);
  $('live-cancel').after(add);
  if (!document.querySelector('link[href="/assets/remote.css"]')) {
    document.head.append(el('link', { rel: 'stylesheet', href: '/assets/remote.css' }));
  }

  tabs.addEventListener('click', (ev) => { const b = ev.target.closest('[role=tab]'); if (b) setTab(b.dataset.tab); });
  tabs.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
      setTab(tab === 'local' ? 'remote' : 'local');
      $('live-tab-' + tab).focus();
      ev.preventDefault();
    }
  });
  auth.addEventListener('change', showAuth);
  proto.addEventListener('change', setProtocol);
  $('remote-saved').addEventListener('change', useSaved);
  $('remote-connect').addEventListener('click', () => connect());
  $('remote-host').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); connect(); } });
  $('remote-iface').addEventListener('change', pickInterface);
  $('remote-filter').addEventListener('input', () => { clearTimeout(checkTimer); checkTimer = setTimeout(checkFilter, 250); });
  $('remote-accept').addEventListener('click', () => {
    const p = pendingKey;
    pendingKey = null;
    $('remote-hostkey').hidden = true;
    if (p) p.retry(p.fingerprint);
  });
  $('remote-reject').addEventListener('click', () => { pendingKey = null; $('remote-hostkey').hidden = true; remoteError('Not connected: the host key was not accepted.'); });
  add.addEventListener('click', addSource);
  // Start takes the listed sources, or the remote tab's: ahead of the
  // local tab's own handler (js/live.js), which starts one interface.
  form.addEventListener('submit', (ev) => {
    if (tab === 'local' && sources.length === 0) return;
    ev.preventDefault();
    ev.stopImmediatePropagation();
    startSources();
  }, true);
}

async function loadKeys() {
  try {
    const r = await call('GET', '/api/remote/keys');
    const sel = $('remote-key');
    const prev = sel.value;
    sel.textContent = '';
    for (const k of r.keys) sel.append(el('option', { value: k, textContent: k }));
    if (r.keys.includes(prev)) sel.value = prev;
    if (!r.keys.length) sel.append(el('option', { value: '', textContent: 'no key file (~/.ssh/id_*) on the server' }));
    if (!r.keys.length && $('remote-auth').value === 'key') $('remote-auth').value = r.agent ? 'agent' : 'password';
    showAuth();
  } catch (e) { /* the tab says it on Connect */ }
}

/** openRemote is called as the Live dialog opens. */
export function openRemote() {
  renderSaved();
  renderList();
  loadKeys();
  setTab(tab);
}

/** initRemote adds the remote tab and the sources list to the Live dialog. */
export function initRemote() { build(); }

// The bar of the sources of the open capture, under the live indicator.
let bar = null;

async function sourceAction(i, what) {
  const id = S.cur.id;
  const body = {};
  const src = S.cur.live.sources[i];
  try {
    if (what === 'reconnect' && src.error && /password/i.test(src.error)) {
      const pw = window.prompt('Password for ' + src.name + ' (used once, never stored):');
      if (pw === null) return;
      body.password = pw;
    }
    takeInfo(await call('POST', '/api/captures/' + id + '/sources/' + (i + 1) + '/' + what, body));
  } catch (e) {
    if (e.body && e.body.code === 'hostkey-unknown' && e.body.hostKey && window.confirm(
      'The host key of ' + e.body.hostKey.host + ' is not known: ' + e.body.hostKey.fingerprint + '. Accept it?')) {
      body.acceptHostKey = e.body.hostKey.fingerprint;
      try { takeInfo(await call('POST', '/api/captures/' + id + '/sources/' + (i + 1) + '/' + what, body)); } catch (e2) { showError(e2.message); }
      return;
    }
    showError(src.name + ': ' + e.message);
  }
}

/** renderSources shows the sources of the open capture, if it has several. */
export function renderSources() {
  const c = S.cur;
  setMultiInterface(!!(c && c.interfaces && c.interfaces.length > 1));
  const srcs = c && c.live && c.live.sources;
  if (!srcs || !srcs.length) { if (bar) bar.hidden = true; return; }
  if (!bar) {
    bar = el('div', { id: 'sources-bar', class: 'sources-bar', 'aria-label': 'Sources' });
    $('live-stop').before(bar);
    bar.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-act]');
      if (b) sourceAction(parseInt(b.dataset.i, 10), b.dataset.act);
    });
  }
  bar.hidden = false;
  bar.textContent = '';
  const running = liveRunning(c);
  srcs.forEach((s, i) => {
    const item = el('span', { class: 'source ' + s.state, title: s.error || (s.linkType + (s.filter ? ' · filter ' + s.filter : '')) },
      el('span', { class: 'source-dot', 'aria-hidden': 'true' }),
      el('span', { class: 'mono', textContent: s.name }),
      el('span', { textContent: ' ' + s.state + ' · ' + fmtCount(s.packets) + ' pkts' + (s.dropped ? ' · ' + fmtCount(s.dropped) + ' dropped' : '') }));
    if (running && s.state === 'running') item.append(el('button', { type: 'button', class: 'small', textContent: 'Stop source', 'data-act': 'stop', 'data-i': i, title: 'Stop capturing from ' + s.name + '; the other sources go on' }));
    if (running && s.state === 'failed') {
      item.append(el('button', { type: 'button', class: 'small', textContent: 'Reconnect', 'data-act': 'reconnect', 'data-i': i }),
        el('button', { type: 'button', class: 'small', textContent: 'Give up', 'data-act': 'stop', 'data-i': i }));
    }
    if (s.error) item.append(el('span', { class: 'source-err', textContent: s.error }));
    bar.append(item);
  });
}
