// Applies the theme chosen with the theme toggle (js/theme.js) before the
// page is drawn, so a dark choice does not flash light. A classic script,
// loaded without defer in <head>, for that reason alone.
(function () {
  var t = null;
  try { t = localStorage.getItem('pkttap.theme'); } catch (e) { /* storage off */ }
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
})();
