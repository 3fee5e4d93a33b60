// Cartera's small progressive enhancements; every page works without it.
document.addEventListener("submit", function (ev) {
  var f = ev.target;
  if (f instanceof HTMLFormElement && f.dataset.confirm && !window.confirm(f.dataset.confirm)) {
    ev.preventDefault();
  }
}, true);

// Mobile menu (a CSS-only checkbox drawer): Escape or a click outside closes
// it, and a page restored from the back/forward cache comes back closed.
(function () {
  var t = document.getElementById("navtoggle");
  if (!t) return;
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && t.checked) { t.checked = false; t.focus(); }
  });
  document.addEventListener("click", function (ev) {
    if (t.checked && !ev.target.closest(".sidenav, .navtoggle-label, .navtoggle")) t.checked = false;
  });
  window.addEventListener("pageshow", function () { t.checked = false; });
})();
