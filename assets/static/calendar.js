// Calendar: drag a task or appointment to another day to reschedule it
// (same time of day). The agenda view's Move forms do the same without a
// mouse or without JavaScript; this script only adds dragging.
(function () {
  var table = document.querySelector("table.calendar[data-move]");
  if (!table) return;
  var dragged = null;
  table.querySelectorAll(".cal-item[draggable=true]").forEach(function (item) {
    item.addEventListener("dragstart", function (ev) {
      dragged = item;
      ev.dataTransfer.effectAllowed = "move";
      ev.dataTransfer.setData("text/plain", item.dataset.id);
    });
  });
  table.querySelectorAll("td[data-date]").forEach(function (cell) {
    cell.addEventListener("dragover", function (ev) {
      if (dragged) { ev.preventDefault(); cell.classList.add("cal-drop"); }
    });
    cell.addEventListener("dragleave", function () { cell.classList.remove("cal-drop"); });
    cell.addEventListener("drop", function (ev) {
      ev.preventDefault();
      cell.classList.remove("cal-drop");
      if (!dragged) return;
      var item = dragged;
      dragged = null;
      var body = new URLSearchParams({
        entity: item.dataset.entity, id: item.dataset.id,
        version: item.dataset.version, date: cell.dataset.date
      });
      fetch(table.dataset.move, {
        method: "POST",
        headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
        body: body,
        credentials: "same-origin"
      }).then(function (resp) {
        return resp.json().then(function (data) {
          if (!resp.ok || !data.ok) throw new Error(data.message || table.dataset.error);
          item.dataset.version = data.version;
          cell.querySelector("ul").appendChild(item);
        });
      }).catch(function (err) {
        window.alert(err.message || table.dataset.error);
        window.location.reload();
      });
    });
  });
})();
