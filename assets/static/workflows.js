// Workflow rule editor: show only the inputs that the chosen trigger and
// each action's type use. Without JavaScript every input shows and the
// server ignores the ones that do not apply.
(function () {
  function update(sel) {
    var key = sel.getAttribute('data-wf-switch');
    var scope = sel.closest('[data-wf-group]') || document;
    scope.querySelectorAll('[data-wf-show="' + key + '"]').forEach(function (el) {
      var vals = (el.getAttribute('data-wf-values') || '').split(' ');
      el.hidden = vals.indexOf(sel.value) < 0;
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-wf-switch]').forEach(function (sel) {
      update(sel);
      sel.addEventListener('change', function () { update(sel); });
    });
  });
})();
