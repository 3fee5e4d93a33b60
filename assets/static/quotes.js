// Quote form: choosing a product fills its line (description, price, tax
// rate, unit) where still empty, and "add lines" adds a blank row here
// instead of asking the server. Without JavaScript the form has spare
// rows and the same button asks the server for more.
(function () {
  function fill(sel) {
    var opt = sel.options[sel.selectedIndex];
    var row = sel.closest('[data-quote-line]');
    if (!opt || !opt.value || !row) { return; }
    function set(suffix, v) {
      var el = row.querySelector('[name$=".' + suffix + '"]');
      if (el && v !== null && (suffix === 'tax_rate' || el.value === '' || el.dataset.filled === '1')) {
        el.value = v;
        el.dataset.filled = '1';
      }
    }
    var cents = parseInt(opt.getAttribute('data-price') || '0', 10);
    var bp = parseInt(opt.getAttribute('data-rate') || '0', 10);
    set('description', opt.getAttribute('data-name'));
    set('unit_price', (cents / 100).toFixed(2));
    set('tax_rate', String(bp / 100));
    set('unit', opt.getAttribute('data-unit'));
  }
  function addRow(body) {
    var rows = body.querySelectorAll('[data-quote-line]');
    var last = rows[rows.length - 1];
    if (!last) { return; }
    var next = rows.length;
    var copy = last.cloneNode(true);
    copy.querySelectorAll('[name]').forEach(function (el) {
      el.name = el.name.replace(/^lines\.\d+\./, 'lines.' + next + '.');
      if (el.tagName === 'SELECT') {
        el.selectedIndex = el.name.slice(-8) === 'tax_rate' ? last.querySelector('[name$=".tax_rate"]').selectedIndex : 0;
      } else {
        el.value = el.name.slice(-8) === 'quantity' ? '1' : '';
      }
      delete el.dataset.filled;
    });
    copy.querySelectorAll('.error').forEach(function (el) { el.remove(); });
    body.appendChild(copy);
  }
  document.addEventListener('DOMContentLoaded', function () {
    var body = document.querySelector('[data-quote-lines]');
    if (!body) { return; }
    body.addEventListener('change', function (e) {
      if (e.target.matches('[data-quote-product]')) { fill(e.target); }
    });
    var add = document.querySelector('[data-quote-add]');
    if (add) {
      add.addEventListener('click', function (e) {
        e.preventDefault();
        addRow(body);
      });
    }
  });
})();
