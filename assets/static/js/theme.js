// The theme toggle: follow the OS ("auto"), light or dark. The choice is
// data-theme on the root, which the CSS's light-dark() colours obey; it is
// remembered by the browser and applied before the page is drawn by
// theme-init.js.
import { pref, setPref } from './prefs.js';
import { $ } from './ui.js';

const THEMES = ['auto', 'light', 'dark'];
const LABELS = { auto: '◐ Auto', light: '☀ Light', dark: '☾ Dark' };
const TITLES = {
  auto: 'Theme: follows the operating system (click for light)',
  light: 'Theme: light (click for dark)',
  dark: 'Theme: dark (click to follow the operating system)',
};

/** theme returns the chosen theme: 'auto', 'light' or 'dark'. */
export function theme() {
  const t = pref('theme', 'auto');
  return THEMES.includes(t) ? t : 'auto';
}

/** setTheme applies and remembers a theme. */
export function setTheme(t) {
  if (!THEMES.includes(t)) t = 'auto';
  setPref('theme', t);
  if (t === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
  const b = $('theme-button');
  b.dataset.theme = t;
  b.textContent = LABELS[t];
  b.title = TITLES[t];
  document.dispatchEvent(new CustomEvent('pkttap:prefs'));
}

/** initTheme wires the toggle. */
export function initTheme() {
  setTheme(theme());
  $('theme-button').addEventListener('click', () => setTheme(THEMES[(THEMES.indexOf(theme()) + 1) % THEMES.length]));
}
