// Cartera's small progressive enhancements; every page works without it.
document.addEventListener("submit", function (ev) {
  var f = ev.target;
  if (f instanceof HTMLFormElement && f.dataset.confirm && !window.confirm(f.dataset.confirm)) {
    ev.preventDefault();
  }
}, true);
