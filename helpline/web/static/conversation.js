/*
 * Helpline console: one conversation — handover note, safeguarding (flags,
 * oversight, whispers, break-glass: conv-safeguarding.js), transcript, reply,
 * notes, transfer, block and the closing form, kept current by live events.
 *
 * A stale tab recovers on its own: when the conversation this volunteer held
 * (or was about to claim) is taken by someone else, the page says so on the
 * queue page it goes back to.
 */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var $ = ui.$;

  var pageError = $("page-error");
  var notice = $("conv-notice");
  var title = $("conv-title");
  var channelEl = $("conv-channel");
  var statusEl = $("conv-status");
  var assigneeEl = $("conv-assignee");
  var priorityEl = $("conv-priority");
  var outcomeRow = $("conv-outcome-row");
  var outcomeEl = $("conv-outcome");
  var leftEl = $("conv-left");
  var blockedEl = $("conv-blocked");
  var recordEl = $("conv-record");
  var recordLink = $("conv-record-link");
  var handoverSection = $("handover-section");
  var replyNote = $("reply-note");
  var replyError = $("reply-error");
  var claimBox = $("claim-box");
  var claimButton = $("claim-button");
  var closeSection = $("close-section");
  var closeForm = $("close-form");
  var closedNext = $("closed-next");

  var conversationId = null;
  var conversation = null;
  var outcomes = [];
  var wasMine = false; // this volunteer held it at some point while the page was open
  var watchingWaiting = false; // opened while waiting: someone else claiming it means it is gone
  var leaving = false;
  var focusedOnOpen = false;
  var actedBy = null; // {event, by}: a colleague closed or moved this conversation
  var gone = false;
  var live = null;

  var transcript = H.transcript.create($("transcript"), $("transcript-list"), $("transcript-empty"));
  var reply = null;
  var closer = null;
  var notes = null;
  var transfer = null;
  var block = null;
  var safeguard = null;

  function readIdFromPath() {
    var match = /^\/console\/conversations\/([^\/]+)\/?$/.exec(window.location.pathname);
    if (!match) return null;
    try { return decodeURIComponent(match[1]); } catch (e) { return null; }
  }

  function path(suffix) {
    return H.api.conversationPath(conversationId) + (suffix || "");
  }

  /** POST to this conversation, then refetch it (live events may be paused). */
  function post(suffix, body) {
    return H.api.post(path(suffix), body).then(function (data) {
      reload().catch(function () {});
      return data;
    }, function (err) {
      if (err.status === 409 || err.status === 404 || err.status === 403) reload().catch(function () {});
      throw err;
    });
  }

  function leave(reason) {
    if (leaving) return;
    leaving = true;
    if (live) live.stop();
    var by = actedBy && actedBy.event === "conversation.transferred" ? "&by=" + encodeURIComponent(actedBy.by) : "";
    window.location.assign("/console?notice=" + encodeURIComponent(reason) + by);
  }

  function outcomeLabel(code) {
    for (var i = 0; i < outcomes.length; i++) {
      if (outcomes[i].code === code) return outcomes[i].label;
    }
    return String(code);
  }

  function renderHandover(handover) {
    handoverSection.hidden = !handover;
    if (!handover) return;
    var meta = $("handover-meta");
    meta.replaceChildren("From ", ui.el("bdi", { text: handover.from ? String(handover.from) : "a colleague" }));
    if (handover.at) ui.append(meta, [" · ", ui.timeElement(handover.at)]);
    ui.setText($("handover-body"), String(handover.note || ""));
  }

  function render(conv) {
    var me = H.page.username();
    var supervisor = H.page.isSupervisor();
    var mine = conv.status === "active" && conv.assignee === me;

    if (conv.status !== "closed" && conv.assignee !== me && !supervisor &&
        (wasMine || (watchingWaiting && conv.status === "active"))) {
      leave(conv.status === "waiting" ? "requeued" : "taken");
      return;
    }
    if (mine) wasMine = true;
    if (conversation === null && conv.status === "waiting") watchingWaiting = true;
    conversation = conv;

    var channel = ui.channelLabel(conv.channel);
    ui.setText(title, channel + " conversation");
    H.page.title(channel + " conversation — Helpline console");
    ui.setText(channelEl, channel);
    ui.setText(statusEl, ui.statusLabel(conv.status));
    statusEl.className = "status status--" + String(conv.status).replace(/[^a-z]/g, "");
    ui.setText(assigneeEl, conv.assignee ? String(conv.assignee) : "Nobody yet");
    ui.setText(priorityEl, ui.priorityLabel(conv.priority));
    outcomeRow.hidden = !conv.outcome;
    ui.setText(outcomeEl, conv.outcome ? outcomeLabel(conv.outcome) : "");

    leftEl.hidden = !conv.contact_left;
    var left = conv.contact_left_detail;
    ui.setText(leftEl, left && typeof left.text === "string" ? left.text : "The contact has left the conversation.");
    blockedEl.hidden = !conv.blocked;
    recordEl.hidden = !conv.record_id;
    if (conv.record_id) recordLink.setAttribute("href", H.api.recordPage(conv.record_id));

    renderHandover(conv.handover);
    transcript.render(conv.messages);
    notes.render(conv.notes);

    var note = "";
    if (conv.status === "closed") note = "This conversation is closed, so replies are turned off.";
    else if (conv.status === "waiting") note = "This conversation is waiting in the queue. Claim it to reply.";
    else if (!mine) note = (conv.assignee ? conv.assignee + " is" : "Someone else is") + " handling this conversation, so you cannot reply.";
    ui.setText(replyNote, note);
    claimBox.hidden = conv.status !== "waiting";
    reply.setEnabled(mine && !H.api.hasEnded());
    // Opening a conversation one holds puts the cursor in the reply box, ready to answer.
    if (mine && !focusedOnOpen && !H.api.hasEnded()) {
      focusedOnOpen = true;
      reply.focus();
    }

    safeguard.render(conv);
    var joined = safeguard.joined();
    if (joined) {
      ui.setText(replyNote, "You have joined this conversation: your replies go to the contact.");
      reply.setEnabled(!H.api.hasEnded());
    }

    // Monitoring is read-only: a supervisor acts on someone else's conversation only after joining it.
    var canManage = mine || (supervisor && joined && conv.status === "active");
    transfer.setVisible(canManage);
    block.setVisible(!conv.blocked && (mine || (supervisor && joined)) && conv.status !== "closed");
    if (conv.status === "closed" && actedBy && actedBy.event === "conversation.closed") {
      ui.setText(notice, actedBy.by + " closed this conversation.");
    }
    closeForm.hidden = conv.status === "closed";
    closedNext.hidden = conv.status !== "closed";
    closer.setEnabled(canManage && !H.api.hasEnded());
    closer.needReason(Number(conv.priority) >= 2 && !(conv.escalations || []).length && conv.status !== "closed");
    syncJumpLinks();
  }

  /** Offer only the jump links whose section is shown. */
  function syncJumpLinks() {
    Array.prototype.forEach.call(document.querySelectorAll("#conv-jump a"), function (link) {
      var target = $(link.getAttribute("href").slice(1));
      var section = target ? target.closest("section") : null;
      link.parentNode.hidden = !!(section && section.hidden);
    });
  }

  function showGone(err) {
    gone = true;
    ui.showError(pageError, err);
    if (safeguard) safeguard.hide();
    ["handover-section", "transcript-section", "reply-section", "notes-section", "transfer-section",
      "block-section", "close-section", "conv-jump"].forEach(function (id) { $(id).hidden = true; });
    [statusEl, channelEl, assigneeEl, priorityEl].forEach(function (node) { ui.setText(node, "—"); });
    if (live) live.stop();
  }

  var reload = ui.serial(function () {
    if (gone || leaving) return null;
    return H.api.get(path()).then(function (conv) {
      ui.clear(pageError);
      render(conv);
    }, function (err) {
      if (err.redirecting) throw err;
      if (err.status === 403 || err.status === 404) {
        if ((wasMine || watchingWaiting) && !H.page.isSupervisor()) leave("taken");
        else showGone(err);
        return;
      }
      ui.showError(pageError, new Error("Could not load the conversation: " + err.message));
      throw err;
    });
  });

  // Events that change what this page shows (typing and other signals do not need a refetch).
  var CONVERSATION_EVENTS = {
    "message.added": 1, "conversation.claimed": 1, "conversation.transferred": 1, "conversation.closed": 1,
    "delivery.changed": 1, "note.added": 1, "contact.left": 1, "whisper.added": 1, "escalation.raised": 1,
    "risk.raised": 1
  };

  function apply(frames) {
    var relevant = false;
    var staff = false;
    frames.forEach(function (frame) {
      if (frame.conversation_id === conversationId && frame.event === "contact.typing") {
        ui.setText($("contact-typing"), frame.active ? "The contact is typing…" : "");
      }
      if (frame.conversation_id === conversationId && CONVERSATION_EVENTS[frame.event]) relevant = true;
      // Whoever closed or moved it (a supervisor who joined), so that the holder is told who did.
      if (frame.conversation_id === conversationId && frame.by && frame.by !== H.page.username() &&
          (frame.event === "conversation.closed" || frame.event === "conversation.transferred")) {
        actedBy = { event: frame.event, by: String(frame.by) };
      }
      if (frame.event === "staff.changed") staff = true;
    });
    if (relevant) reload().catch(function () {});
    if (staff && transfer.isVisible()) transfer.load();
    safeguard.apply(frames);
  }

  /** What a live (re)connection reloads: the conversation, and for supervisors its escalations. */
  function reloadAll() {
    safeguard.reload().catch(function () { /* shown in the safeguarding section */ });
    return reload();
  }

  function loadCanned() {
    return H.api.get("/api/canned").then(function (data) {
      reply.setCanned(data.canned);
    }, function () { /* the reply box works without them */ });
  }

  function claim() {
    if (ui.isBusy(claimButton)) return;
    ui.clear(replyError);
    var restore = ui.busy(claimButton, "Claiming…");
    watchingWaiting = false; // our own claim must not read as someone else's
    H.api.post(path("/claim"), {}).then(function () {
      wasMine = true;
      return reload();
    }, function (err) {
      ui.showError(replyError, err);
      return reload();
    }).then(function () {
      restore();
      if (conversation && conversation.assignee === H.page.username()) reply.focus();
    }, restore);
  }

  function closeConversation(body) {
    return H.api.post(path("/close"), body).then(function () {
      ui.setText(notice, "Conversation closed.");
      wasMine = false;
      return reload().catch(function () {});
    }).then(function () {
      statusEl.focus();
    });
  }

  function init(session) {
    outcomes = ui.vocab(session.outcomes);
    reply = H.reply.create({
      form: $("reply-form"),
      textarea: $("reply-body"),
      button: $("reply-send"),
      error: replyError,
      status: $("canned-status"),
      picker: $("canned-picker"),
      list: $("canned-list"),
      empty: $("canned-empty"),
      typing: function (active) {
        if (!conversation || conversation.channel !== "webchat") return;
        H.api.post(path("/typing"), { active: active }).catch(function () { /* a hint only */ });
      },
      send: function (body) {
        return H.api.post(path("/messages"), { body: body }).then(function () {
          // Sent: a failed refresh must not read as a failed send.
          reload().then(transcript.scrollToEnd, function () {});
        }, function (err) {
          if (err.status === 409 || err.status === 404 || err.status === 403) reload().catch(function () {});
          throw err;
        });
      }
    });
    closer = H.closing.create(session, closeConversation);
    notes = H.actions.notes(post);
    transfer = H.actions.transfer(post, function (to) { leave(to ? "transferred" : "returned"); });
    block = H.actions.block(post, function () {});
    safeguard = H.convSafeguarding.create({
      conversationId: conversationId,
      session: session,
      path: path,
      reloadConversation: reload,
      focusReply: function () { reply.focus(); }
    });
    claimButton.addEventListener("click", claim);
    $("canned-picker").addEventListener("toggle", function () {
      if ($("canned-picker").open) loadCanned();
    });
    document.addEventListener("helpline:session-ended", function () {
      reply.setEnabled(false);
      closer.setEnabled(false);
    });

    loadCanned();
    return reload().then(function () {
      if (!gone && !leaving) live = H.page.live({ reload: reloadAll, apply: apply });
    }, function () {
      if (!gone && !leaving) live = H.page.live({ reload: reloadAll, apply: apply });
    });
  }

  conversationId = readIdFromPath();
  if (conversationId === null) {
    showGone(new Error("This is not a conversation address. Go back to the queue."));
    return;
  }
  H.page.start(init);
})();
