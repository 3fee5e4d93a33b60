// Pipeline board: drag a card to another stage column to move the
// opportunity. The select-and-Move form on each card does the same without
// a mouse; this script only adds dragging on top of it.
(function () {
  if (typeof Sortable === "undefined") return;
  document.querySelectorAll(".board .cards").forEach(function (list) {
    Sortable.create(list, {
      group: "board",
      animation: 150,
      onAdd: function (evt) {
        var card = evt.item;
        var stage = evt.to.dataset.stage;
        var body = new URLSearchParams({ stage: stage });
        fetch("/opportunities/" + card.dataset.id + "/stage", {
          method: "POST",
          headers: { "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
          body: body,
          credentials: "same-origin"
        }).then(function (resp) {
          // Reload so counts and totals are right, or the card goes back.
          window.location.reload();
        }, function () { window.location.reload(); });
      }
    });
  });
})();
