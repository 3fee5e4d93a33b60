// Drag and drop and upload progress for a record's files. Without this
// script the section is a plain multipart form that uploads every chosen
// file at once; with it, each file is sent on its own (so each gets a
// progress bar and its own answer) and the page reloads when all are done.
(function () {
  document.querySelectorAll("form[data-attachments]").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var list = form.querySelector(".att-progress");
    var max = parseInt(form.dataset.max, 10) || 0;

    function row(name) {
      var li = document.createElement("li");
      var label = document.createElement("span");
      label.textContent = name;
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      var note = document.createElement("span");
      li.append(label, bar, note);
      list.append(li);
      return { bar: bar, note: note };
    }

    function fail(r, msg) {
      r.bar.remove();
      r.note.className = "att-error";
      r.note.textContent = msg;
    }

    function send(file) {
      return new Promise(function (resolve) {
        var r = row(file.name);
        if (max && file.size > max) {
          fail(r, form.dataset.tooLarge);
          resolve(false);
          return;
        }
        var body = new FormData();
        body.append("file", file, file.name);
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.upload.onprogress = function (ev) {
          if (ev.lengthComputable) r.bar.value = Math.round(ev.loaded * 100 / ev.total);
        };
        xhr.onload = function () {
          if (xhr.status === 201) {
            r.bar.value = 100;
            r.note.textContent = form.dataset.done;
            resolve(true);
            return;
          }
          var msg = form.dataset.failed;
          try { msg = JSON.parse(xhr.responseText).error.message || msg; } catch (e) { /* not JSON */ }
          fail(r, msg);
          resolve(false);
        };
        xhr.onerror = function () { fail(r, form.dataset.failed); resolve(false); };
        xhr.send(body);
      });
    }

    function sendAll(files) {
      var okCount = 0, failed = 0;
      var chain = Promise.resolve();
      Array.prototype.forEach.call(files, function (f) {
        chain = chain.then(function () { return send(f); }).then(function (ok) { if (ok) okCount++; else failed++; });
      });
      chain.then(function () {
        input.value = "";
        // Show the new files; keep the page when something failed, so the
        // messages stay readable.
        if (okCount > 0 && failed === 0) window.location.reload();
      });
    }

    form.addEventListener("submit", function (ev) {
      if (!input.files || input.files.length === 0) return;
      ev.preventDefault();
      sendAll(input.files);
    });
    ["dragenter", "dragover"].forEach(function (t) {
      form.addEventListener(t, function (ev) { ev.preventDefault(); form.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      form.addEventListener(t, function (ev) { ev.preventDefault(); form.classList.remove("dragging"); });
    });
    form.addEventListener("drop", function (ev) {
      if (ev.dataTransfer && ev.dataTransfer.files.length) sendAll(ev.dataTransfer.files);
    });
  });
})();
