/*
 * Helpline console: what staff do to a conversation besides replying —
 * private notes, transfer with a handover note, and blocking the sender.
 *
 *   Helpline.actions.notes(post) -> {render(notes)}
 *   Helpline.actions.transfer(post, onDone) -> {load(), setVisible(on)}
 *   Helpline.actions.block(post, onDone) -> {setVisible(on)}
 *
 * post(suffix, body) posts to the conversation's API path and returns a promise.
 */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;

  function notes(post) {
    var list = ui.$("notes-list");
    var empty = ui.$("notes-empty");
    var form = ui.$("note-form");
    var body = ui.$("note-body");
    var button = ui.$("note-submit");
    var errorBox = ui.$("note-error");
    var entries = new Map();

    function render(items) {
      var seen = new Set();
      (Array.isArray(items) ? items : []).forEach(function (note) {
        var key = String(note.id);
        seen.add(key);
        if (entries.has(key)) return;
        var kind = note.kind === "handover" ? "Handover note" : "Note";
        var li = ui.el("li", { class: "note-item" + (note.kind === "handover" ? " note-item--handover" : "") }, [
          ui.el("p", { class: "msg-meta" }, [
            kind + " by ", ui.el("bdi", { class: "msg-who", text: note.author ? String(note.author) : "staff" }),
            " · ", ui.timeElement(note.created_at)
          ]),
          ui.el("p", { class: "note-body", dir: "auto", text: String(note.body || "") })
        ]);
        entries.set(key, li);
        list.appendChild(li);
      });
      entries.forEach(function (li, key) {
        if (!seen.has(key)) {
          li.remove();
          entries.delete(key);
        }
      });
      empty.hidden = entries.size !== 0;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ui.isBusy(button)) return;
      ui.clear(errorBox);
      var text = body.value;
      if (!text.trim()) {
        errorBox.textContent = "Write the note first.";
        body.focus();
        return;
      }
      var restore = ui.busy(button, "Adding…");
      post("/notes", { body: text }).then(function () {
        if (body.value === text) body.value = "";
      }, function (err) {
        ui.showError(errorBox, err);
      }).then(function () {
        restore();
        body.focus();
      });
    });

    return { render: render };
  }

  function transfer(post, onDone) {
    var section = ui.$("transfer-section");
    var form = ui.$("transfer-form");
    var select = ui.$("transfer-to");
    var refresh = ui.$("transfer-refresh");
    var note = ui.$("transfer-note");
    var button = ui.$("transfer-submit");
    var errorBox = ui.$("transfer-error");

    var load = ui.serial(function () {
      return H.api.get("/api/staff/available").then(function (data) {
        var me = H.page.username();
        var chosen = select.value;
        while (select.options.length > 1) select.remove(1);
        (Array.isArray(data.volunteers) ? data.volunteers : []).forEach(function (v) {
          if (!v || v.username === me) return;
          var holding = typeof v.holding === "number" ? " (holding " + v.holding + ")" : "";
          select.appendChild(ui.el("option", { value: String(v.username), text: String(v.username) + holding }));
        });
        select.value = chosen;
        if (select.value !== chosen) select.value = "";
      }, function (err) {
        ui.showError(errorBox, new Error("Could not load who is available: " + err.message));
      });
    });

    refresh.addEventListener("click", function () {
      ui.clear(errorBox);
      load();
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ui.isBusy(button)) return;
      ui.clear(errorBox);
      note.removeAttribute("aria-invalid");
      if (!note.value.trim()) {
        note.setAttribute("aria-invalid", "true");
        errorBox.textContent = "Write a handover note for whoever takes this next.";
        note.focus();
        return;
      }
      var to = select.value || null;
      var restore = ui.busy(button, "Transferring…");
      post("/transfer", { to: to, note: note.value }).then(function () {
        onDone(to);
      }, function (err) {
        restore();
        ui.showError(errorBox, err);
        if (err.status === 409) load();
      });
    });

    return {
      load: load,
      setVisible: function (on) {
        var wasHidden = section.hidden;
        section.hidden = !on;
        if (on && wasHidden) load();
      },
      isVisible: function () { return !section.hidden; }
    };
  }

  function block(post, onDone) {
    var section = ui.$("block-section");
    var form = ui.$("block-form");
    var reason = ui.$("block-reason");
    var days = ui.$("block-days");
    var button = ui.$("block-submit");
    var errorBox = ui.$("block-error");
    var done = ui.$("block-done");

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ui.isBusy(button)) return;
      ui.clear(errorBox);
      reason.removeAttribute("aria-invalid");
      days.removeAttribute("aria-invalid");
      if (!reason.value.trim()) {
        reason.setAttribute("aria-invalid", "true");
        errorBox.textContent = "Give a reason for the block.";
        reason.focus();
        return;
      }
      var n = Number(days.value);
      if (!Number.isInteger(n) || n < 1 || n > 365) {
        days.setAttribute("aria-invalid", "true");
        errorBox.textContent = "Block for a whole number of days, from 1 to 365.";
        days.focus();
        return;
      }
      var restore = ui.busy(button, "Blocking…");
      post("/block", { reason: reason.value.trim(), days: n }).then(function () {
        restore();
        form.hidden = true;
        done.textContent = "Sender blocked for " + n + (n === 1 ? " day" : " days") + ". Their messages are now dropped.";
        onDone();
      }, function (err) {
        restore();
        ui.showError(errorBox, err);
      });
    });

    return {
      // Once this page blocked the sender, the confirmation stays in view.
      setVisible: function (on) { section.hidden = !on && !done.textContent; }
    };
  }

  H.actions = { notes: notes, transfer: transfer, block: block };
})();
