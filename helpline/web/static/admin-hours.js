/* Helpline console, admin page: opening hours per weekday and the out-of-hours message. */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var $ = ui.$;

  var DAYS = [
    ["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"],
    ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]
  ];
  var RANGE = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$/;

  function create() {
    var form = $("hours-form");
    var container = $("hours-days");
    var message = $("hours-message");
    var chatMessage = $("hours-chat-message");
    var submit = $("hours-submit");
    var errorBox = $("hours-error");
    var doneBox = $("hours-done");
    var inputs = {};

    DAYS.forEach(function (day) {
      var id = "hours-" + day[0];
      inputs[day[0]] = ui.el("input", {
        id: id, name: day[0], type: "text", autocomplete: "off", spellcheck: "false", "aria-describedby": "hours-hint"
      });
      container.appendChild(ui.el("div", { class: "hours-day" }, [
        ui.el("label", { for: id, text: day[1] }),
        inputs[day[0]]
      ]));
    });

    function render(data) {
      var days = data.days || {};
      DAYS.forEach(function (day) {
        inputs[day[0]].value = (Array.isArray(days[day[0]]) ? days[day[0]] : []).join(", ");
      });
      message.value = typeof data.closed_message === "string" ? data.closed_message : "";
      chatMessage.value = typeof data.chat_closed_message === "string" ? data.chat_closed_message : "";
      var zone = data.timezone ? "Times are in " + data.timezone + ". " : "";
      ui.setText($("hours-state"), zone + (data.open_now ? "The helpline is open now." : "The helpline is closed now."));
    }

    var load = ui.serial(function () {
      return H.api.get("/api/admin/hours").then(render, function (err) {
        ui.showError(errorBox, err);
      });
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ui.isBusy(submit)) return;
      ui.clear(errorBox);
      ui.clear(doneBox);
      var days = {};
      var bad = null;
      DAYS.forEach(function (day) {
        var input = inputs[day[0]];
        input.removeAttribute("aria-invalid");
        var ranges = input.value.split(/[,;\s]+/).filter(Boolean).map(function (r) { return r.replace(/[–—]/g, "-"); });
        if (!bad && ranges.some(function (r) { return !RANGE.test(r); })) {
          bad = day;
          input.setAttribute("aria-invalid", "true");
        }
        days[day[0]] = ranges;
      });
      if (bad) {
        errorBox.textContent = bad[1] + ": write times like 09:00-17:30, separated by commas.";
        inputs[bad[0]].focus();
        return;
      }
      var restore = ui.busy(submit, "Saving…");
      H.api.post("/api/admin/hours", { days: days, closed_message: message.value, chat_closed_message: chatMessage.value }).then(function () {
        restore();
        doneBox.textContent = "Opening hours saved.";
        load();
      }, function (err) {
        restore();
        ui.showError(errorBox, err);
      });
    });

    return { load: load };
  }

  H.adminHours = { create: create };
})();
