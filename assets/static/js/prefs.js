// What the browser remembers between visits, in localStorage under
// "pkttap.<key>". Nothing here is sent to the server.

/** pref returns a remembered string, or dflt. */
export function pref(key, dflt = '') {
  const v = localStorage.getItem('pkttap.' + key);
  return v === null ? dflt : v;
}
/** setPref remembers a string. */
export function setPref(key, v) { localStorage.setItem('pkttap.' + key, v); }

/** prefJSON returns a remembered value, or dflt when there is none or it is unreadable. */
export function prefJSON(key, dflt) {
  try {
    const v = JSON.parse(localStorage.getItem('pkttap.' + key));
    return v === null ? dflt : v;
  } catch (e) {
    return dflt;
  }
}
/** setPrefJSON remembers a value as JSON. */
export function setPrefJSON(key, v) { localStorage.setItem('pkttap.' + key, JSON.stringify(v)); }
