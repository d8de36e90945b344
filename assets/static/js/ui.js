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

/**
 * el makes an element: props set its properties (or, for names it has no
 * property of, attributes; "class" is its class name), kids are appended.
 */
export function el(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...kids);
  return e;
}
