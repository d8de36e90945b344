// Sizes and limits of the page. The CSS is the one source of every size it
// draws: a list row is --row-h tall, a row of the bytes pane --hex-row-h,
// and the code reads them from there (cssPx) instead of repeating them.

/** Rows fetched from the server at once. */
export const CHUNK = 200;
/** The bytes pane shows at most this many bytes (its rows stay under browsers' height cap). */
export const MAX_HEX_BYTES = 1 << 20;
/** Rows of the bytes pane drawn above and below the view. */
export const HEX_MARGIN = 8;

// cssPx reads a length in px from a custom property of the root element.
function cssPx(name) {
  const v = parseFloat(getComputedStyle(document.documentElement).getPropertyValue(name));
  if (!(v > 0)) throw new Error('pkttap: the stylesheet defines no ' + name);
  return v;
}

let rowH = 0;
let hexRowH = 0;
/** rowHeight is the height of a packet list row in px (CSS --row-h). */
export function rowHeight() { return rowH || (rowH = cssPx('--row-h')); }
/** hexRowHeight is the height of a bytes pane row in px (CSS --hex-row-h). */
export function hexRowHeight() { return hexRowH || (hexRowH = cssPx('--hex-row-h')); }
/** remeasure forgets the sizes read from the CSS (after a resize or a theme change). */
export function remeasure() { rowH = hexRowH = 0; }

// Tunables. Each has a default and may be lowered by a data- attribute of
// the root element (<html data-max-spacer="2000">), which is how the
// browser tests reach the modes that otherwise need millions of rows or
// long waits. These are the page's only such hooks:
//   data-max-spacer      lists taller than this many px are scaled into it
//                        (browsers cap element heights near 16-33 million px)
//   data-keep-filter-ms  how often the page asks about the filter it shows
//                        while that filter's job runs (README: filter jobs)
const tunables = { maxSpacer: 8e6, keepFilterMs: 5000 };

/** tunable returns the value of a tunable, from its data- attribute if set. */
export function tunable(name) {
  const v = Number(document.documentElement.dataset[name]);
  return v > 0 ? v : tunables[name];
}
