// Small helpers for the page's elements.

/** $ returns the element with the given id. */
export const $ = (id) => document.getElementById(id);

/** showError shows msg in the error banner ('' hides it). */
export function showError(msg) {
  const b = $('error-banner');
  b.textContent = msg;
  b.hidden = !msg;
}

/** placeholder replaces el's content with one line of text of class cls. */
export function placeholder(el, cls, text) {
  el.textContent = '';
  const d = document.createElement('div');
  d.className = cls;
  d.textContent = text;
  el.append(d);
}

/** saveURL lets a link stream the file at url to disk (a download). */
export function saveURL(url) {
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  document.body.append(a);
  a.click();
  a.remove();
}
