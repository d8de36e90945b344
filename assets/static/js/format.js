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

/** fmtTime writes a row's time in mode ('relative' to capture c's first packet, 'absolute' or 'delta'). */
export function fmtTime(row, mode, c) {
  if (row.noTime) return 'no timestamp'; // a pcapng Simple Packet Block
  if (mode === 'absolute') {
    const d = new Date(row.sec * 1000);
    const iso = d.toISOString();
    return iso.slice(11, 19) + '.' + String(row.nsec).padStart(9, '0').slice(0, 6);
  }
  if (mode === 'delta') return (row.delta / 1e9).toFixed(6);
  const rel = (row.sec - c.firstSec) + (row.nsec - c.firstNsec) / 1e9;
  return rel.toFixed(6);
}
