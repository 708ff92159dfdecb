/*
 * Helpline console: safeguarding on the conversation page.
 *
 *   Helpline.convSafeguarding.create({conversationId, path, reloadConversation, focusReply, session})
 *     -> {render(conv), apply(frames), reload(), joined(), hide()}
 *
 * - Flag: the volunteer holding the conversation (or a supervisor) raises a
 *   safeguarding flag — category, level, note — and sees its state.
 *   Supervisors see every escalation of the conversation from the API;
 *   volunteers may not read escalations (403), so their page lists the flags
 *   raised while it is open and follows them through the live
 *   escalation.* events.
 * - Oversight: a supervisor reading a conversation someone else holds sees
 *   "Monitoring — read-only", can join (the reply box then works for them)
 *   and whisper to the volunteer. Whispers are shown in their own
 *   "Supervisor whispers" area, never in the transcript.
 * - Break-glass: with an escalation at significant harm or above, a
 *   supervisor can ask for the contact's address, with a reason; once a
 *   second supervisor approves, "Show address once" reveals it in a marked
 *   box. The address is only ever in that box's text: it is not kept in a
 *   variable or in storage, and leaving the page removes it.
 */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var S = H.safeguarding;
  var $ = ui.$;

  var SERIOUS = { significant_harm: 1, immediate_danger: 1 };
  var VOLUNTEER_STATES = {
    raised: "Waiting for a supervisor to acknowledge it",
    acknowledged: "A supervisor has acknowledged it",
    decided: "A supervisor has decided what to do",
    closed: "Closed"
  };
  var ADDRESS_KINDS = { sms: "Phone number", email: "Email address", webchat: "Web chat address" };

  function own(map, key) {
    return Object.prototype.hasOwnProperty.call(map, key);
  }

  /** What raising a flag actually did: the supervisors online alerted, the on-call one notified (when and how). */
  function whoWasAlerted(alerted, level) {
    var n = Number(alerted.supervisors_online) || 0;
    var online = n === 0 ? "No supervisor is online." : n === 1 ? "1 supervisor online was alerted."
      : n + " supervisors online were alerted.";
    var session = H.page.session() || {};
    var channel = alerted.oncall_channel === "email" ? "by email" : "by text message";
    var minutes = Math.max(1, Math.round((Number(session.ack_seconds) || 120) / 60));
    var oncall = !alerted.oncall_channel ? (n ? " No on-call supervisor is set up." : "")
      : level === "immediate_danger" ? " The on-call supervisor is being notified " + channel + " now."
      : " The on-call supervisor is notified " + channel + " if nobody acknowledges it within " + minutes + " min.";
    return online + oncall;
  }

  function create(opts) {
    var conversationId = opts.conversationId;
    var conv = null;
    var hidden = false;
    var joinedHere = false; // the server keeps who joined, but does not say: known for this page only
    var volunteerFlags = new Map(); // volunteers: escalation id -> {id, level, category, state}
    var escalations = null; // supervisors: this conversation's escalations, from the API
    var loadedForHolder = false;
    var disclosures = []; // supervisors: requests for this conversation not yet shown
    var mine = new Map(); // my disclosure requests seen here: id -> last known state
    var whisperEntries = new Map();
    var flagsShown = null; // what the flag list shows, to rebuild it only when that changes
    var disclosuresShown = null; // likewise for the disclosure requests
    var revealing = false;

    var section = $("safeguard-section");
    var errorBox = $("safeguard-error");
    var flagStatus = $("flag-status");
    var oncallHint = $("flag-oncall-hint");
    var settings = H.page.session() || {};
    if (oncallHint) {
      oncallHint.textContent = settings.oncall_channel
        ? "The on-call supervisor is notified at once."
        : "No on-call supervisor is set up on this helpline: only supervisors online are alerted.";
    }
    var flagList = $("flag-list");
    var flagEmpty = $("flag-empty");
    var flagToggle = $("flag-toggle");
    var flagForm = $("flag-form");
    var flagError = $("flag-error");
    var flagCategory = $("flag-category");
    var flagNote = $("flag-note");
    var flagSubmit = $("flag-submit");
    var discBox = $("disclosure-box");
    var discError = $("disclosure-error");
    var discStatus = $("disclosure-status");
    var discList = $("disclosure-list");
    var discToggle = $("disclosure-toggle");
    var discForm = $("disclosure-form");
    var discReason = $("disclosure-reason");
    var discSubmit = $("disclosure-submit");
    var addressSlot = $("address-slot");
    var monitor = $("monitor-banner");
    var joinButton = $("join-button");
    var joinError = $("join-error");
    var whispersSection = $("whispers-section");
    var whisperForm = $("whisper-form");
    var whisperBody = $("whisper-body");
    var whisperSubmit = $("whisper-submit");
    var whisperError = $("whisper-error");

    ui.vocab(opts.session.safeguarding_categories).forEach(function (c) {
      flagCategory.appendChild(ui.el("option", { value: c.code, text: c.label }));
    });

    function me() {
      return H.page.username();
    }

    function supervisor() {
      return H.page.isSupervisor();
    }

    /** The volunteer holding it sees its flags too, who acknowledged them and the decision. */
    function holder() {
      return !!conv && conv.status !== "closed" && conv.assignee === me();
    }

    function seesFlags() {
      return supervisor() || holder();
    }

    function monitoring() {
      return !!conv && supervisor() && conv.status === "active" && !!conv.assignee && conv.assignee !== me();
    }

    /* ---------- flags ---------- */

    function flagItem(level, category, parts, link) {
      return ui.el("li", { class: "flag-item flag-item--" + S.levelClass(level) }, [
        ui.el("span", { class: "level-badge level-badge--" + S.levelClass(level), text: S.levelLabel(level) }),
        category ? " " + S.categoryLabel(category) : "",
        ui.el("span", { class: "flag-state" }, parts),
        link || null
      ]);
    }

    function renderFlags() {
      var key = JSON.stringify([seesFlags(), escalations, Array.from(volunteerFlags.values()), canFlag()]);
      if (key === flagsShown) return;
      flagsShown = key;
      var items = [];
      if (seesFlags() && escalations !== null) {
        (escalations || []).forEach(function (e) {
          var state = supervisor() || !own(VOLUNTEER_STATES, e.state) ? S.stateLabel(e.state) : VOLUNTEER_STATES[e.state];
          var parts = [" · raised by ", ui.el("bdi", { text: e.raised_by ? String(e.raised_by) : "unknown" }), " at ",
            ui.timeElement(e.raised_at), " · " + state];
          if (e.acknowledged_by) parts.push(" · acknowledged by ", ui.el("bdi", { text: String(e.acknowledged_by) }));
          if (e.decision) {
            parts.push(" · decision: " + S.decisionLabel(e.decision));
            if (e.decided_by) parts.push(" by ", ui.el("bdi", { text: String(e.decided_by) }));
          }
          var link = e.state === "closed" || !supervisor() ? null : ui.el("a", {
            class: "flag-link", href: S.escalationPage(e.id), text: "Open this escalation"
          });
          items.push(flagItem(e.level, e.category, parts, link));
        });
        flagEmpty.textContent = "No safeguarding flag has been raised on this conversation.";
      } else {
        volunteerFlags.forEach(function (f) {
          var state = own(VOLUNTEER_STATES, f.state) ? VOLUNTEER_STATES[f.state] : S.stateLabel(f.state);
          items.push(flagItem(f.level, f.category, [" · " + state + "."]));
        });
        flagEmpty.textContent = "No flag raised from this page yet.";
      }
      var hadFocus = flagList.contains(document.activeElement);
      flagList.replaceChildren.apply(flagList, items);
      flagList.hidden = !items.length;
      flagEmpty.hidden = !!items.length || (!supervisor() && !canFlag());
      $("escalations-link").hidden = !supervisor();
      if (hadFocus) $("safeguard-heading").focus();
    }

    function canFlag() {
      if (!conv || conv.status === "closed" || H.api.hasEnded()) return false;
      return supervisor() || (conv.status === "active" && conv.assignee === me());
    }

    function setFlagFormOpen(open) {
      flagForm.hidden = !open;
      flagToggle.setAttribute("aria-expanded", String(open));
    }

    flagToggle.addEventListener("click", function () {
      var open = flagForm.hidden;
      setFlagFormOpen(open);
      if (open) {
        ui.clear(flagStatus);
        flagCategory.focus();
      }
    });
    $("flag-cancel").addEventListener("click", function () {
      setFlagFormOpen(false);
      ui.clear(flagError);
      flagToggle.focus();
    });

    flagForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ui.isBusy(flagSubmit)) return;
      ui.clear(flagError);
      flagCategory.removeAttribute("aria-invalid");
      var checked = flagForm.querySelector("input[name='level']:checked");
      if (!flagCategory.value) {
        flagCategory.setAttribute("aria-invalid", "true");
        flagError.textContent = "Choose a category.";
        flagCategory.focus();
        return;
      }
      if (!checked) {
        flagError.textContent = "Choose how serious it is.";
        flagForm.querySelector("input[name='level']").focus();
        return;
      }
      var body = { category: flagCategory.value, level: checked.value, note: flagNote.value };
      var restore = ui.busy(flagSubmit, "Raising…");
      H.api.post(opts.path("/flag"), body).then(function (data) {
        restore();
        var id = String(data.escalation_id);
        var known = volunteerFlags.get(id);
        volunteerFlags.set(id, {
          id: id, level: body.level, category: body.category, state: known ? known.state : "raised"
        });
        flagForm.reset();
        setFlagFormOpen(false);
        flagStatus.textContent = "Flag raised: " + S.levelLabel(body.level) + ", " + S.categoryLabel(body.category) +
          ". " + whoWasAlerted(data.alerted || {}, body.level);
        var nobody = $("flag-nobody");
        if (nobody) {
          var instruction = data.alerted && data.alerted.emergency_instruction;
          nobody.hidden = !instruction;
          nobody.textContent = instruction
            ? "Nobody could be alerted: no supervisor is online and no on-call supervisor is set up. " + instruction
            : "";
        }
        renderFlags();
        flagStatus.focus();
        reload().catch(function () {});
      }, function (err) {
        restore();
        ui.showError(flagError, err);
        if (err.status === 409 || err.status === 403 || err.status === 404) opts.reloadConversation().catch(function () {});
      });
    });

    /* ---------- oversight: monitoring, joining, whispers ---------- */

    function renderMonitor() {
      var on = monitoring();
      monitor.hidden = !on;
      if (!on) return;
      var who = String(conv.assignee);
      ui.setText($("monitor-title"), joinedHere ? "You have joined this conversation." : "Monitoring — read-only.");
      ui.setText($("monitor-detail"), joinedHere
        ? "Your replies go to the contact; " + who + " still holds the conversation."
        : who + " holds this conversation. Join it to write to the contact, or whisper to " + who + " below.");
      joinButton.hidden = joinedHere;
    }

    joinButton.addEventListener("click", function () {
      if (ui.isBusy(joinButton)) return;
      ui.clear(joinError);
      var restore = ui.busy(joinButton, "Joining…");
      H.api.post(opts.path("/join"), {}).then(function () {
        restore();
        joinedHere = true;
        return opts.reloadConversation().then(opts.focusReply, function () {});
      }, function (err) {
        restore();
        ui.showError(joinError, err);
        opts.reloadConversation().catch(function () {});
      });
    });

    function renderWhispers(list) {
      var items = Array.isArray(list) ? list : [];
      var seen = new Set();
      var listEl = $("whispers-list");
      items.forEach(function (w) {
        var key = String(w.id);
        seen.add(key);
        if (whisperEntries.has(key)) return;
        var li = ui.el("li", { class: "whisper" }, [
          ui.el("p", { class: "msg-meta" }, [
            "Whisper from ", ui.el("bdi", { class: "msg-who", text: w.author ? String(w.author) : "a supervisor" }),
            " · ", ui.timeElement(w.created_at)
          ]),
          ui.el("p", { class: "note-body", dir: "auto", text: String(w.body || "") })
        ]);
        whisperEntries.set(key, li);
        listEl.appendChild(li);
      });
      whisperEntries.forEach(function (li, key) {
        if (!seen.has(key)) {
          li.remove();
          whisperEntries.delete(key);
        }
      });
      var canWhisper = monitoring() && !H.api.hasEnded();
      whisperForm.hidden = !canWhisper;
      if (canWhisper) ui.setText($("whisper-label"), "Whisper to " + conv.assignee);
      $("whispers-empty").hidden = whisperEntries.size !== 0;
      whispersSection.hidden = whisperEntries.size === 0 && !canWhisper;
    }

    whisperForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ui.isBusy(whisperSubmit)) return;
      ui.clear(whisperError);
      var text = whisperBody.value;
      if (!text.trim()) {
        whisperError.textContent = "Write the whisper first.";
        whisperBody.focus();
        return;
      }
      var restore = ui.busy(whisperSubmit, "Sending…");
      H.api.post(opts.path("/whisper"), { body: text }).then(function () {
        if (whisperBody.value === text) whisperBody.value = "";
        return opts.reloadConversation().catch(function () {});
      }, function (err) {
        ui.showError(whisperError, err);
      }).then(function () {
        restore();
        whisperBody.focus();
      });
    });

    /* ---------- break-glass disclosure ---------- */

    function serious() {
      return (escalations || []).some(function (e) { return own(SERIOUS, e.level); });
    }

    function revealButton(d) {
      var button = ui.el("button", { type: "button", class: "button-danger button-small", "data-id": String(d.id), text: "Show address once" });
      button.addEventListener("click", function () {
        if (ui.isBusy(button)) return;
        ui.clear(discError);
        ui.clear(discStatus);
        var restore = ui.busy(button, "Opening…");
        revealing = true; // the list is not rebuilt under the button meanwhile
        H.api.post("/api/disclosures/" + H.api.enc(d.id) + "/reveal", {}).then(function (revealed) {
          revealing = false;
          mine.set(String(d.id), "shown");
          button.remove();
          showAddress(revealed);
          reload().catch(function () {});
        }, function (err) {
          revealing = false;
          restore();
          ui.showError(discError, err);
          reload().catch(function () {});
        });
      });
      return button;
    }

    /** The address, in a marked box, once. Nothing else on the page holds it. */
    function showAddress(revealed) {
      var hide = ui.el("button", { type: "button", class: "button-secondary button-small", text: "Hide the address" });
      var kind = own(ADDRESS_KINDS, revealed.channel) ? ADDRESS_KINDS[revealed.channel] : "Address";
      var box = ui.el("div", {
        id: "address-box", class: "address-box", role: "region", tabindex: "-1", "aria-labelledby": "address-heading"
      }, [
        ui.el("h4", { id: "address-heading", text: "Contact's address — shown once" }),
        ui.el("p", { class: "address-warning" }, [
          ui.el("strong", { text: "Warning: " }),
          "pass this to emergency services now. It will not be shown again, and this page does not keep it: " +
          "hiding it, leaving or reloading the page removes it."
        ]),
        ui.el("p", { class: "address-line" }, [
          kind + " (" + ui.channelLabel(revealed.channel) + "): ",
          ui.el("strong", { class: "secret address-value", dir: "ltr", text: String(revealed.address) })
        ]),
        hide
      ]);
      hide.addEventListener("click", function () {
        addressSlot.replaceChildren();
        discStatus.textContent = "The address is hidden. It cannot be shown again.";
        $("disclosure-heading").focus();
      });
      addressSlot.replaceChildren(box);
      box.focus();
    }

    function renderDisclosures() {
      var on = supervisor() && !hidden && serious();
      discBox.hidden = !on;
      if (!on) return;
      var key = JSON.stringify([disclosures, me()]);
      if (key === disclosuresShown || revealing) return;
      disclosuresShown = key;
      var focusedId = discList.contains(document.activeElement) ? document.activeElement.getAttribute("data-id") : null;
      var items = disclosures.map(function (d) {
        var asked = [ui.timeElement(d.requested_at)];
        if (d.requested_by === me()) {
          if (d.state === "approved") {
            return ui.el("li", { class: "flag-item" }, [
              "Your request (asked at ", asked[0], ") was approved. ", revealButton(d)
            ]);
          }
          return ui.el("li", { class: "flag-item" }, [
            "You asked at ", asked[0], ". Waiting for a second supervisor to approve: until then the address " +
            "cannot be shown."
          ]);
        }
        return ui.el("li", { class: "flag-item" }, [
          ui.el("bdi", { text: String(d.requested_by || "A supervisor") }), " asked at ", asked[0],
          d.state === "approved" ? ": approved." : ": another supervisor can approve or refuse it on the ",
          d.state === "approved" ? null : ui.el("a", { href: "/console/escalations", text: "Escalations page" }),
          d.state === "approved" ? null : "."
        ]);
      });
      discList.replaceChildren.apply(discList, items);
      discList.hidden = !items.length;
      if (focusedId !== null) {
        var again = discList.querySelector("button[data-id]");
        if (again && again.getAttribute("data-id") === focusedId) again.focus();
        else $("disclosure-heading").focus();
      }
    }

    function setDiscFormOpen(open) {
      discForm.hidden = !open;
      discToggle.setAttribute("aria-expanded", String(open));
    }

    discToggle.addEventListener("click", function () {
      var open = discForm.hidden;
      setDiscFormOpen(open);
      if (open) discReason.focus();
    });
    $("disclosure-cancel").addEventListener("click", function () {
      setDiscFormOpen(false);
      discToggle.focus();
    });

    discForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ui.isBusy(discSubmit)) return;
      ui.clear(discError);
      ui.clear(discStatus);
      discReason.removeAttribute("aria-invalid");
      if (!discReason.value.trim()) {
        discReason.setAttribute("aria-invalid", "true");
        discError.textContent = "Write the reason: emergency services need the address because…";
        discReason.focus();
        return;
      }
      var restore = ui.busy(discSubmit, "Sending…");
      H.api.post(opts.path("/disclosures"), { reason: discReason.value }).then(function (d) {
        restore();
        mine.set(String(d.id), d.state);
        discReason.value = "";
        setDiscFormOpen(false);
        discStatus.textContent = d.state === "approved"
          ? "Request recorded. You can show the address once."
          : "Request sent. A second supervisor must approve it before you can see the address.";
        return reload().catch(function () {}).then(function () { $("disclosure-heading").focus(); });
      }, function (err) {
        restore();
        if (err.status === 400) discReason.setAttribute("aria-invalid", "true");
        // A 409 says why, in the server's words: the address no longer exists, or no serious escalation.
        ui.showError(discError, err);
        discReason.focus();
      });
    });

    window.addEventListener("pagehide", function () {
      addressSlot.replaceChildren();
    });

    /* ---------- loading and live updates ---------- */

    var reload = ui.serial(function () {
      if (hidden) return null;
      if (!supervisor()) {
        if (conv && !holder()) return null;
        return H.api.get(opts.path("/escalations")).then(function (data) {
          escalations = Array.isArray(data.escalations) ? data.escalations : [];
          if (conv) render(conv);
        }, function (err) {
          if (err.status !== 403 && !err.redirecting) ui.showError(errorBox, new Error("Could not load the flags: " + err.message));
        });
      }
      return Promise.all([
        H.api.get(opts.path("/escalations")),
        H.api.get("/api/disclosures")
      ]).then(function (answers) {
        ui.clear(errorBox);
        escalations = Array.isArray(answers[0].escalations) ? answers[0].escalations : [];
        disclosures = (Array.isArray(answers[1].disclosures) ? answers[1].disclosures : []).filter(function (d) {
          return d && d.conversation_id === conversationId;
        });
        disclosures.forEach(function (d) {
          if (d.requested_by === me()) mine.set(String(d.id), d.state);
        });
        renderFlags();
        renderDisclosures();
      }, function (err) {
        if (!err.redirecting) ui.showError(errorBox, new Error("Could not load the escalations: " + err.message));
        throw err;
      });
    });

    function disclosureNews(frame) {
      var id = String(frame.disclosure_id);
      if (!mine.has(id) || mine.get(id) === frame.state) return;
      mine.set(id, frame.state);
      if (frame.state === "approved") {
        discStatus.textContent = "A second supervisor approved your request: you can show the address once.";
      } else if (frame.state === "refused") {
        discStatus.textContent = "A second supervisor refused your request for the address.";
      }
    }

    function apply(frames) {
      var changed = false;
      frames.forEach(function (frame) {
        if (frame.conversation_id !== conversationId) return;
        if (frame.event === "disclosure.changed") {
          disclosureNews(frame);
          changed = true;
          return;
        }
        if (!own(S.EVENTS, frame.event)) return;
        changed = true;
        var id = String(frame.escalation_id);
        var known = volunteerFlags.get(id);
        if (frame.event === "escalation.raised" && !known) {
          volunteerFlags.set(id, { id: id, level: frame.level, category: null, state: "raised" });
        } else if (frame.event === "escalation.changed" && known && frame.state) {
          known.state = String(frame.state);
        }
      });
      if (!changed) return;
      if (seesFlags()) reload().catch(function () {});
      else renderFlags();
    }

    function render(next) {
      conv = next;
      if (hidden) return;
      var flaggable = canFlag();
      section.hidden = !(supervisor() || flaggable || volunteerFlags.size || (escalations && escalations.length));
      if (holder() && escalations === null && !loadedForHolder) {
        loadedForHolder = true; // after a transfer: the new holder's first look at the flags
        reload().catch(function () {});
      }
      flagToggle.hidden = !flaggable;
      if (!flaggable) setFlagFormOpen(false);
      renderFlags();
      renderMonitor();
      renderWhispers(conv.whispers);
      renderDisclosures();
    }

    return {
      render: render,
      apply: apply,
      reload: reload,
      joined: function () { return joinedHere && monitoring(); },
      hide: function () {
        hidden = true;
        [section, monitor, whispersSection].forEach(function (node) { node.hidden = true; });
        addressSlot.replaceChildren();
      }
    };
  }

  H.convSafeguarding = { create: create };
})();
