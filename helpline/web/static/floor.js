/* Helpline console: the supervisors' floor view — counts, who holds what, active blocks. */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var $ = ui.$;
  var TICK_MS = 15000;
  var FLOOR_EVENTS = {
    "conversation.opened": 1, "conversation.claimed": 1, "conversation.transferred": 1,
    "conversation.closed": 1, "message.added": 1, "contact.left": 1, "staff.changed": 1, "risk.raised": 1
  };

  var pageError = $("page-error");
  var longest = null; // {seconds, at}: the longest wait is counted on locally between events

  function renderCounts(floor) {
    ui.setText($("count-waiting"), String(floor.waiting || 0));
    ui.setText($("count-active"), String(floor.active || 0));
    ui.setText($("count-available"), String(floor.volunteers_available || 0));
    longest = floor.waiting ? { seconds: Number(floor.longest_wait_seconds) || 0, at: Date.now() } : null;
    renderLongest();
  }

  function renderLongest() {
    ui.setText($("count-longest"), longest ? ui.duration(longest.seconds + (Date.now() - longest.at) / 1000) : "—");
  }

  function renderStaff(staff) {
    var rows = $("staff-rows");
    // Rows are rebuilt on every change; keep a keyboard user's place on the same link.
    var focused = rows.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
    rows.replaceChildren();
    (Array.isArray(staff) ? staff : []).forEach(function (member) {
      var holding = ui.el("td");
      var items = Array.isArray(member.holding) ? member.holding : [];
      if (!items.length) holding.textContent = "Nothing";
      else {
        var list = ui.el("ul", { class: "plain-list" });
        items.forEach(function (c) {
          list.appendChild(ui.el("li", null, ui.el("a", {
            href: H.api.conversationPage(c.id),
            text: ui.channelLabel(c.channel) + " · " + ui.priorityLabel(c.priority)
          })));
        });
        holding.appendChild(list);
      }
      rows.appendChild(ui.el("tr", null, [
        ui.el("th", { scope: "row" }, ui.el("bdi", { text: String(member.username) })),
        ui.el("td", { text: (Array.isArray(member.roles) ? member.roles : []).join(", ") }),
        ui.el("td", {
          class: "availability-" + (member.available ? "available" : member.availability === "available" ? "away" : String(member.availability)),
          text: ui.availabilityLabel(member.availability) + (member.present ? "" : " — no console open")
        }),
        holding
      ]));
    });
    $("staff-table").hidden = !rows.firstChild;
    $("staff-empty").hidden = !!rows.firstChild;
    if (focused !== null) {
      var same = Array.prototype.filter.call(rows.querySelectorAll("a"), function (a) {
        return a.getAttribute("href") === focused;
      })[0];
      (same || $("staff-heading")).focus();
    }
  }

  function renderBlocks(blocks) {
    var rows = $("blocks-rows");
    var hadFocus = rows.contains(document.activeElement);
    rows.replaceChildren();
    (Array.isArray(blocks) ? blocks : []).forEach(function (block) {
      var lift = ui.confirmButton("Lift", "Lift block", function () {
        ui.clear($("blocks-error"));
        return H.api.post("/api/blocks/" + H.api.enc(block.id) + "/lift", {}).then(function () {
          $("blocks-done").textContent = "Block lifted.";
          $("blocks-heading").focus();
          return reload();
        }, function (err) {
          ui.showError($("blocks-error"), err);
          throw err;
        });
      });
      rows.appendChild(ui.el("tr", null, [
        ui.el("td", { dir: "auto", text: String(block.reason || "") }),
        ui.el("td", { text: block.created_by ? String(block.created_by) : "—" }),
        ui.el("td", null, ui.timeElement(block.created_at)),
        ui.el("td", null, ui.timeElement(block.expires_at)),
        ui.el("td", { class: "col-action" }, lift)
      ]));
    });
    $("blocks-table").hidden = !rows.firstChild;
    $("blocks-empty").hidden = !!rows.firstChild;
    if (hadFocus && !rows.contains(document.activeElement)) $("blocks-heading").focus();
  }

  var reload = ui.serial(function () {
    return Promise.all([H.api.get("/api/floor"), H.api.get("/api/blocks")]).then(function (answers) {
      ui.clear(pageError);
      renderCounts(answers[0]);
      renderStaff(answers[0].staff);
      renderBlocks(answers[1].blocks);
    }, function (err) {
      if (!err.redirecting) ui.showError(pageError, new Error("Could not load the floor: " + err.message));
      throw err;
    });
  });

  H.page.start(function () {
    if (!H.page.isSupervisor()) {
      pageError.textContent = "The floor view is for supervisors.";
      return;
    }
    reload().catch(function () {});
    H.page.live({
      reload: reload,
      apply: function (frames) {
        if (frames.some(function (f) { return FLOOR_EVENTS[f.event]; })) reload().catch(function () {});
      }
    });
    window.setInterval(renderLongest, TICK_MS);
  });
})();
