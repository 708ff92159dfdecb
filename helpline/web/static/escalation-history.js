/* Helpline console: closed escalations on the escalations page, for handing over a shift. */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var S = H.safeguarding;

  function who(name, at) {
    if (!at) return "—";
    return ui.el("span", null, [ui.el("bdi", { text: name ? String(name) : "someone" }), " at ", ui.timeElement(at)]);
  }

  function row(e) {
    var decision = e.decision
      ? ui.el("span", null, [S.decisionLabel(e.decision) + " — ", who(e.decided_by, e.decided_at)])
      : "No decision recorded";
    return ui.el("tr", { "data-id": String(e.id) }, [
      ui.el("th", { scope: "row" }, [
        ui.el("span", { class: "level-badge level-badge--" + S.levelClass(e.level), text: S.levelLabel(e.level) }),
        " " + S.categoryLabel(e.category)
      ]),
      ui.el("td", null, who(e.raised_by, e.raised_at)),
      ui.el("td", null, who(e.acknowledged_by, e.acknowledged_at)),
      ui.el("td", null, decision),
      ui.el("td", null, e.closed_at ? ui.timeElement(e.closed_at) : "—")
    ]);
  }

  function load() {
    var days = ui.$("history-days").value;
    return H.api.get("/api/escalations?closed=" + encodeURIComponent(days)).then(function (data) {
      var list = Array.isArray(data.escalations) ? data.escalations : [];
      ui.clear(ui.$("history-error"));
      ui.$("history-rows").replaceChildren.apply(ui.$("history-rows"), list.map(row));
      ui.$("history-table").hidden = !list.length;
      ui.$("history-empty").hidden = !!list.length;
    }, function (err) {
      ui.showError(ui.$("history-error"), err);
    });
  }

  var reload = ui.serial(load);
  H.page.addLive({
    reload: function () { return H.page.isSupervisor() ? reload() : null; },
    apply: function (frames) {
      if (!H.page.isSupervisor()) return;
      if (frames.some(function (f) { return f.event === "escalation.changed" && f.state === "closed"; })) {
        reload().catch(function () {});
      }
    },
    wanted: function () { return H.page.isSupervisor(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    ui.$("history-days").addEventListener("change", function () { reload().catch(function () {}); });
  });
})();
