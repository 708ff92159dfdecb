/*
 * Helpline console: the supervisors' escalations page.
 *
 * Open escalations, most urgent first (the server's order), each with its
 * level, category, who raised it and when, the note and its state, and the
 * one step that comes next: Acknowledge → Decide (decision and note) →
 * Close. Below, requests to disclose a contact's address: a supervisor other
 * than the one who asked approves or refuses them here.
 *
 * Rendering is keyed by id: a live update changes what changed and leaves
 * a half-written decision note, and the keyboard focus, where they were.
 */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var S = H.safeguarding;
  var $ = ui.$;
  var TICK_MS = 30000;
  var EVENTS = {
    "escalation.raised": 1, "escalation.alert": 1, "escalation.changed": 1, "disclosure.changed": 1,
    "conversation.closed": 1
  };

  var pageError = $("page-error");
  var done = $("esc-done");
  var escError = $("esc-error");
  var discError = $("disc-error");
  var escList = $("esc-list");
  var discList = $("disc-list");
  var escEntries = new Map(); // escalation id -> entry
  var discEntries = new Map(); // disclosure id -> entry
  var lastEscalations = [];
  var counter = 0;
  var targetDone = false;

  function say(text) {
    done.textContent = text;
  }

  function escalationPath(id, action) {
    return "/api/escalations/" + H.api.enc(id) + "/" + action;
  }

  /* ---------- escalations ---------- */

  function facts(esc) {
    var rows = [
      ["State", S.stateLabel(esc.state)],
      ["Raised by", ui.el("bdi", { text: esc.raised_by ? String(esc.raised_by) : "Unknown" })],
      ["Raised", [ui.timeElement(esc.raised_at), " (" + ui.waitingFor(esc.raised_at) + " ago)"]],
      ["Alerts", String(Number(esc.alerts) || 1) + (esc.oncall_notified ? " · on-call supervisor notified" : "")]
    ];
    if (esc.acknowledged_at) rows.push(["Acknowledged", ui.timeElement(esc.acknowledged_at)]);
    if (esc.decision) {
      rows.push(["Decision", [S.decisionLabel(esc.decision), esc.decided_at ? " · " : "",
        esc.decided_at ? ui.timeElement(esc.decided_at) : null]]);
    }
    if (esc.decision_note) rows.push(["Decision note", ui.el("span", { class: "pre", dir: "auto", text: String(esc.decision_note) })]);
    return rows.map(function (row) {
      return ui.el("div", null, [ui.el("dt", { text: row[0] }), ui.el("dd", null, row[1])]);
    });
  }

  /** The next step for an escalation in this state. */
  function actionsFor(esc, entry) {
    var n = ++counter;
    if (esc.state === "raised") {
      var ack = ui.el("button", { type: "button", class: "esc-ack", text: "Acknowledge" });
      ack.addEventListener("click", function () {
        if (ui.isBusy(ack)) return;
        ui.clear(escError);
        var restore = ui.busy(ack, "Acknowledging…");
        H.api.post(escalationPath(esc.id, "acknowledge"), {}).then(function () {
          say("Escalation acknowledged. Record a decision when you have one.");
          entry.focusNext = true;
          return reload();
        }, function (err) {
          restore();
          ui.showError(escError, err);
          return reload();
        }).catch(function () {});
      });
      return [ack];
    }
    if (esc.state === "acknowledged") {
      var selectId = "esc-decision-" + n;
      var noteId = "esc-note-" + n;
      var select = ui.el("select", { id: selectId, name: "decision" }, [ui.el("option", { value: "", text: "Choose a decision…" })]);
      S.DECISIONS.forEach(function (d) {
        select.appendChild(ui.el("option", { value: d.code, text: d.label }));
      });
      var note = ui.el("textarea", { id: noteId, name: "note", rows: "3", maxlength: "4000" });
      var submit = ui.el("button", { type: "submit", text: "Record decision" });
      var form = ui.el("form", { class: "esc-decide", novalidate: true }, [
        ui.el("label", { for: selectId, text: "Decision" }), select,
        ui.el("label", { for: noteId, text: "Decision note" }), note,
        ui.el("div", { class: "form-actions" }, submit)
      ]);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (ui.isBusy(submit)) return;
        ui.clear(escError);
        select.removeAttribute("aria-invalid");
        if (!select.value) {
          select.setAttribute("aria-invalid", "true");
          escError.textContent = "Choose a decision.";
          select.focus();
          return;
        }
        var restore = ui.busy(submit, "Saving…");
        H.api.post(escalationPath(esc.id, "decide"), { decision: select.value, note: note.value }).then(function () {
          say("Decision recorded. Close the escalation when nothing more is needed.");
          entry.focusNext = true;
          return reload();
        }, function (err) {
          restore();
          ui.showError(escError, err);
          return reload();
        }).catch(function () {});
      });
      entry.focusTarget = select;
      return [form];
    }
    if (esc.state === "decided") {
      var close = ui.confirmButton("Close escalation", "Confirm close", function () {
        ui.clear(escError);
        return H.api.post(escalationPath(esc.id, "close"), {}).then(function () {
          say("Escalation closed.");
          $("open-heading").focus();
          return reload();
        }, function (err) {
          ui.showError(escError, err);
          reload().catch(function () {});
          throw err;
        });
      });
      entry.focusTarget = close.querySelector("button");
      return [close];
    }
    return [];
  }

  function createEntry(esc) {
    var id = String(esc.id);
    var headingId = "esc-heading-" + (++counter);
    var entry = {
      state: null,
      heading: ui.el("h3", { id: headingId, class: "esc-heading" }),
      facts: ui.el("dl", { class: "esc-facts" }),
      note: ui.el("div", { class: "esc-note" }),
      actions: ui.el("div", { class: "esc-actions" }),
      focusTarget: null,
      focusNext: false
    };
    entry.root = ui.el("li", {
      id: "escalation-" + id, class: "esc-card", tabindex: "-1", "aria-labelledby": headingId
    }, [
      entry.heading, entry.facts, entry.note,
      ui.el("p", { class: "esc-link" }, ui.el("a", {
        href: H.api.conversationPage(esc.conversation_id), text: "Open the conversation"
      })),
      entry.actions
    ]);
    return entry;
  }

  function updateEntry(entry, esc) {
    var level = S.levelClass(esc.level);
    entry.root.className = "esc-card esc-card--" + level;
    entry.heading.replaceChildren(
      ui.el("span", { class: "level-badge level-badge--" + level, text: S.levelLabel(esc.level) }),
      " " + S.categoryLabel(esc.category)
    );
    entry.facts.replaceChildren.apply(entry.facts, facts(esc));
    var noteText = esc.note ? String(esc.note) : "";
    entry.note.replaceChildren(
      ui.el("p", { class: "esc-note-label", text: "Note from " + (esc.raised_by ? String(esc.raised_by) : "the volunteer") }),
      noteText ? ui.el("p", { class: "pre", dir: "auto", text: noteText }) : ui.el("p", { class: "summary", text: "No note." })
    );
    if (entry.state !== esc.state) {
      var hadFocus = entry.actions.contains(document.activeElement);
      entry.state = esc.state;
      entry.focusTarget = null;
      entry.actions.replaceChildren.apply(entry.actions, actionsFor(esc, entry));
      if ((hadFocus || entry.focusNext) && entry.focusTarget) entry.focusTarget.focus();
      else if (hadFocus) entry.root.focus();
      entry.focusNext = false;
    }
  }

  function renderEscalations(list) {
    lastEscalations = list;
    var seen = new Set();
    var lostFocus = false;
    list.forEach(function (esc, index) {
      var id = String(esc.id);
      seen.add(id);
      var entry = escEntries.get(id);
      if (!entry) {
        entry = createEntry(esc);
        escEntries.set(id, entry);
      }
      // Keep the server's order (most urgent first) without moving nodes that are already in place.
      if (escList.children[index] !== entry.root) escList.insertBefore(entry.root, escList.children[index] || null);
      updateEntry(entry, esc);
    });
    escEntries.forEach(function (entry, id) {
      if (seen.has(id)) return;
      if (entry.root.contains(document.activeElement)) lostFocus = true;
      entry.root.remove();
      escEntries.delete(id);
    });
    $("esc-loading").hidden = true;
    $("esc-empty").hidden = list.length !== 0;
    if (lostFocus) $("open-heading").focus();
    focusTarget();
  }

  /** A banner's link points at one escalation: bring it into view once. */
  function focusTarget() {
    if (targetDone) return;
    targetDone = true;
    var hash = window.location.hash;
    if (hash.indexOf("#escalation-") !== 0) return;
    var id;
    try { id = decodeURIComponent(hash.slice("#escalation-".length)); } catch (e) { return; }
    var entry = escEntries.get(id);
    if (entry) entry.root.focus();
    else say("That escalation is no longer open.");
  }

  /* ---------- disclosure requests ---------- */

  /** Approve or refuse a request: a confirmButton action. */
  function decideDisclosure(d, action, message) {
    return function () {
      ui.clear(discError);
      return H.api.post("/api/disclosures/" + H.api.enc(d.id) + "/" + action, {}).then(function () {
        say(message);
        $("disclosures-heading").focus();
        return reload();
      }, function (err) {
        ui.showError(discError, err);
        reload().catch(function () {});
        throw err;
      });
    };
  }

  function discActions(d) {
    if (d.state === "requested" && d.requested_by !== H.page.username()) {
      var wrap = ui.el("div", { class: "actions" });
      ui.append(wrap, [
        ui.confirmButton("Approve", "Confirm approval", decideDisclosure(d, "approve",
          "Approved: " + d.requested_by + " can now see the address once.")),
        ui.confirmButton("Refuse", "Confirm refusal", decideDisclosure(d, "refuse", "Request refused."))
      ]);
      return wrap;
    }
    if (d.state === "requested") {
      return ui.el("p", { class: "summary", text: "You asked for this. Another supervisor must approve or refuse it: " +
        "one whose account existed before your request and was not created by you." });
    }
    if (d.state === "approved") {
      return ui.el("p", { class: "summary" }, [
        "Approved. ",
        ui.el("bdi", { text: String(d.requested_by) }),
        d.requested_by === H.page.username()
          ? ": you can show the address once on the conversation page."
          : " can now see the address once, on the conversation page."
      ]);
    }
    return null;
  }

  function renderDisclosures(list) {
    var seen = new Set();
    var lostFocus = false;
    list.forEach(function (d, index) {
      var id = String(d.id);
      seen.add(id);
      var entry = discEntries.get(id);
      if (entry && entry.state !== d.state) {
        if (entry.root.contains(document.activeElement)) lostFocus = true;
        entry.root.remove();
        entry = null;
      }
      if (!entry) {
        var headingId = "disc-heading-" + (++counter);
        entry = {
          state: d.state,
          root: ui.el("li", { id: "disclosure-" + id, class: "esc-card disc-card", tabindex: "-1", "aria-labelledby": headingId }, [
            ui.el("h3", { id: headingId, class: "esc-heading" }, [
              ui.el("bdi", { text: String(d.requested_by || "A supervisor") }),
              " asks for a contact's address"
            ]),
            ui.el("dl", { class: "esc-facts" }, [
              ui.el("div", null, [ui.el("dt", { text: "Asked" }), ui.el("dd", null, ui.timeElement(d.requested_at))]),
              ui.el("div", null, [ui.el("dt", { text: "State" }), ui.el("dd", {
                text: d.state === "approved" ? "Approved" : "Waiting for a second supervisor"
              })])
            ]),
            ui.el("p", { class: "esc-note-label", text: "Reason" }),
            ui.el("p", { class: "pre", dir: "auto", text: String(d.reason || "") }),
            ui.el("p", { class: "esc-link" }, ui.el("a", {
              href: H.api.conversationPage(d.conversation_id), text: "Open the conversation"
            })),
            discActions(d)
          ])
        };
        discEntries.set(id, entry);
      }
      if (discList.children[index] !== entry.root) discList.insertBefore(entry.root, discList.children[index] || null);
    });
    discEntries.forEach(function (entry, id) {
      if (seen.has(id)) return;
      if (entry.root.contains(document.activeElement)) lostFocus = true;
      entry.root.remove();
      discEntries.delete(id);
    });
    $("disc-empty").hidden = list.length !== 0;
    if (lostFocus) $("disclosures-heading").focus();
  }

  var reload = ui.serial(function () {
    return Promise.all([H.api.get("/api/escalations"), H.api.get("/api/disclosures")]).then(function (answers) {
      ui.clear(pageError);
      renderEscalations(Array.isArray(answers[0].escalations) ? answers[0].escalations : []);
      renderDisclosures(Array.isArray(answers[1].disclosures) ? answers[1].disclosures : []);
    }, function (err) {
      if (!err.redirecting) ui.showError(pageError, new Error("Could not load the escalations: " + err.message));
      throw err;
    });
  });

  H.page.start(function () {
    if (!H.page.isSupervisor()) {
      $("esc-loading").hidden = true;
      pageError.textContent = "The escalations page is for supervisors.";
      return;
    }
    reload().catch(function () {});
    H.page.live({
      reload: reload,
      apply: function (frames) {
        if (frames.some(function (f) { return EVENTS[f.event]; })) reload().catch(function () {});
      }
    });
    window.setInterval(function () {
      // "How long ago" moves on between events.
      escEntries.forEach(function (entry, id) {
        var esc = lastEscalations.filter(function (e) { return String(e.id) === id; })[0];
        if (esc && !entry.facts.contains(document.activeElement)) {
          entry.facts.replaceChildren.apply(entry.facts, facts(esc));
        }
      });
    }, TICK_MS);
  });
})();
