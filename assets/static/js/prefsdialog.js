// The preferences dialog: theme, time display format and precision,
// checksum verification, name resolution. Each choice applies at once and is kept by the
// browser (js/prefs.js); the server stores nothing.
import { TIME_FORMATS, TIME_PRECISIONS } from './format.js';
import { setChecksums, setNames, setTimeFormat } from './list.js';
import { S } from './state.js';
import { setTheme, theme } from './theme.js';
import { $ } from './ui.js';

const dialog = $('prefs-dialog');

function fill() {
  $('pref-theme').value = theme();
  $('pref-time-format').value = S.timeMode;
  $('pref-time-precision').value = String(S.timePrec);
  $('pref-checksums').checked = S.checksums;
  $('pref-names-mac').checked = S.names.includes('m');
  $('pref-names-ports').checked = S.names.includes('t');
}

/** openPrefs shows the dialog. */
export function openPrefs() {
  fill();
  dialog.showModal();
  $('pref-theme').focus();
}

/** initPrefsDialog fills in the choices and wires them. */
export function initPrefsDialog() {
  for (const [value, [, long]] of Object.entries(TIME_FORMATS)) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = long;
    $('pref-time-format').append(o);
  }
  for (const p of TIME_PRECISIONS) {
    const o = document.createElement('option');
    o.value = String(p);
    o.textContent = p === 0 ? 'Seconds' : p + ' digits (' + ['', 'tenths', 'hundredths', 'ms', '', '', 'µs', '', '', 'ns'][p] + ')';
    $('pref-time-precision').append(o);
  }
  $('prefs-button').addEventListener('click', openPrefs);
  $('pref-theme').addEventListener('change', (ev) => setTheme(ev.target.value));
  $('pref-time-format').addEventListener('change', (ev) => setTimeFormat(ev.target.value, S.timePrec));
  $('pref-time-precision').addEventListener('change', (ev) => setTimeFormat(S.timeMode, +ev.target.value));
  $('pref-checksums').addEventListener('change', (ev) => setChecksums(ev.target.checked));
  const names = () => setNames($('pref-names-mac').checked, $('pref-names-ports').checked);
  $('pref-names-mac').addEventListener('change', names);
  $('pref-names-ports').addEventListener('change', names);
  $('prefs-reset').addEventListener('click', () => {
    setTheme('auto');
    setTimeFormat('relative', 6);
    setChecksums(false);
    setNames(false, false);
    fill();
  });
  // The header's time menu and the theme toggle change the same
  // preferences: keep an open dialog in step.
  document.addEventListener('pkttap:prefs', () => { if (dialog.open) fill(); });
}
