// How numbers, sizes, spans and times are written on the page.

/** fmtCount writes a count with thousands separators. */
export function fmtCount(n) { return Number(n).toLocaleString('en-US'); }

/**
 * fmtBytes writes a size in binary units, as the server and the command
 * line do (--max-live 1GiB is "1 GiB", not "1.1 GB"): one decimal, none
 * when it is 0.
 */
export function fmtBytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while ((n >= 1024 || (i && +n.toFixed(1) >= 1024)) && i < u.length - 1) { n /= 1024; i++; }
  return (i ? String(+n.toFixed(1)) : n) + ' ' + u[i];
}

/** fmtSpan writes a duration in seconds. */
export function fmtSpan(s) {
  if (s < 60) return s.toFixed(3) + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.floor(s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}

/**
 * TIME_FORMATS are the time display formats, by the value the page stores:
 * the column header's name and Wireshark's (View › Time Display Format).
 */
export const TIME_FORMATS = {
  'datetime-local': ['Time (date, local)', 'Date and time of day'],
  'tod-local': ['Time (local)', 'Time of day'],
  'datetime-utc': ['Time (date, UTC)', 'UTC date and time of day'],
  absolute: ['Time (UTC)', 'UTC time of day'],
  epoch: ['Time (epoch)', 'Seconds since the epoch (1970-01-01 UTC)'],
  relative: ['Time (relative)', 'Seconds since the first packet, or the latest time reference (Ctrl+T)'],
  delta: ['Time (delta displayed)', 'Seconds since the previous displayed packet'],
  'delta-captured': ['Time (delta captured)', 'Seconds since the previous captured packet'],
};

/** TIME_PRECISIONS are the digits after the second a time may show. */
export const TIME_PRECISIONS = [0, 1, 2, 3, 6, 9];

const pad = (n, w) => String(n).padStart(w, '0');

// frac writes nsec (0..1e9) as digits after the decimal point, cut (not
// rounded, as a clock reads) to prec digits.
function frac(nsec, prec) { return prec ? '.' + pad(nsec, 9).slice(0, prec) : ''; }

/** span writes the duration sec s + nsec ns (any signs) in seconds, with prec digits after the second. */
export function span(s, ns, prec) {
  let total = s + Math.trunc(ns / 1e9);
  let rest = ns % 1e9;
  if (total > 0 && rest < 0) { total--; rest += 1e9; }
  if (total < 0 && rest > 0) { total++; rest -= 1e9; }
  const neg = total < 0 || rest < 0;
  return (neg ? '-' : '') + Math.abs(total) + frac(Math.abs(rest), prec);
}

// clock writes an instant as date and/or time of day, local or UTC.
function clock(sec, nsec, prec, utc, date) {
  const d = new Date(sec * 1000);
  const g = (f) => d[(utc ? 'getUTC' : 'get') + f]();
  let t = pad(g('Hours'), 2) + ':' + pad(g('Minutes'), 2) + ':' + pad(g('Seconds'), 2) + frac(nsec, prec);
  if (date) t = g('FullYear') + '-' + pad(g('Month') + 1, 2) + '-' + pad(g('Date'), 2) + ' ' + t;
  return t;
}

/**
 * fmtTime writes a row's time in format mode (a TIME_FORMATS key) with prec
 * digits after the second: c is the open capture (for its first packet).
 * The deltas are in ns: row.delta to the previous displayed packet (as the
 * server gives it), captured to the previous captured one (undefined while
 * not known).
 */
export function fmtTime(row, mode, c, prec, captured) {
  if (row.noTime) return 'no timestamp'; // a pcapng Simple Packet Block
  switch (mode) {
    case 'datetime-local': return clock(row.sec, row.nsec, prec, false, true);
    case 'tod-local': return clock(row.sec, row.nsec, prec, false, false);
    case 'datetime-utc': return clock(row.sec, row.nsec, prec, true, true);
    case 'absolute': return clock(row.sec, row.nsec, prec, true, false);
    case 'epoch': return span(row.sec, row.nsec, prec);
    case 'delta': return span(0, row.delta || 0, prec);
    case 'delta-captured': return captured === undefined ? '…' : span(0, captured, prec);
    default: return span(row.sec - c.firstSec, row.nsec - c.firstNsec, prec);
  }
}
