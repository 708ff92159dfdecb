/* Helpline console: one conversation (transcript, reply, close). */
"use strict";

(function () {
  var H = window.Helpline;
  var REFRESH_MS = 3000;

  var DELIVERY = {
    queued: { text: "Queued", tone: "pending" },
    sending: { text: "Sending…", tone: "pending" },
    sent: { text: "Sent", tone: "pending" },
    delivered: { text: "Delivered", tone: "ok" },
    failed: { text: "Failed", tone: "bad" },
    undelivered: { text: "Not delivered", tone: "bad" },
    unknown: { text: "Delivery status unknown", tone: "pending" }
  };

  function $(id) { return document.getElementById(id); }

  var pageError = $("page-error");
  var pollStatus = $("poll-status");
  var title = $("conv-title");
  var channelEl = $("conv-channel");
  var statusEl = $("conv-status");
  var assigneeEl = $("conv-assignee");
  var outcomeRow = $("conv-outcome-row");
  var outcomeEl = $("conv-outcome");
  var transcript = $("transcript");
  var transcriptEmpty = $("transcript-empty");
  var replySection = $("reply-section");
  var replyForm = $("reply-form");
  var replyBody = $("reply-body");
  var replySend = $("reply-send");
  var replyNote = $("reply-note");
  var replyError = $("reply-error");
  var closeSection = $("close-section");
  var closeForm = $("close-form");
  var closeOutcome = $("close-outcome");
  var closeSubmit = $("close-submit");
  var closeError = $("close-error");

  var conversationId = null;
  var me = null;
  var outcomes = [];
  var conversation = null;
  var messages = new Map(); // message id -> {root, delivery, state}
  var loading = null;
  var sending = false;
  var closing = false;
  var poller = null;
  var stickToBottom = true;

  function readIdFromPath() {
    var match = /^\/console\/conversations\/([^\/]+)\/?$/.exec(window.location.pathname);
    if (!match) return null;
    try { return decodeURIComponent(match[1]); } catch (e) { return null; }
  }

  function path(suffix) {
    return H.api.conversationPath(conversationId) + (suffix || "");
  }

  function outcomeLabel(code) {
    for (var i = 0; i < outcomes.length; i++) {
      if (outcomes[i].code === code) return outcomes[i].label;
    }
    return String(code);
  }

  /* ---------- transcript ---------- */

  function deliveryState(msg) {
    if (msg.direction !== "out") return null;
    if (msg.delivery_error) {
      return { text: "Not delivered: " + msg.delivery_error, tone: "bad" };
    }
    var known = Object.prototype.hasOwnProperty.call(DELIVERY, msg.delivery) ? DELIVERY[msg.delivery] : null;
    if (known) return known;
    return { text: msg.delivery ? "Status: " + msg.delivery : "Delivery status unknown", tone: "pending" };
  }

  function setDelivery(entry, state) {
    var key = state ? state.tone + "|" + state.text : "";
    if (entry.state === key) return;
    entry.state = key;
    entry.delivery.hidden = !state;
    entry.delivery.className = "msg-delivery" + (state ? " msg-delivery--" + state.tone : "");
    entry.delivery.textContent = state ? state.text : "";
  }

  function createMessage(msg) {
    var outgoing = msg.direction === "out";
    var li = document.createElement("li");
    li.className = "msg " + (outgoing ? "msg-out" : "msg-in");

    var meta = document.createElement("p");
    meta.className = "msg-meta";
    var who = document.createElement("bdi");
    who.className = "msg-who";
    who.textContent = outgoing ? (msg.author ? String(msg.author) : "Volunteer") : "Contact";
    meta.appendChild(who);
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(H.ui.timeElement(msg.created_at));

    // Hostile text from the public: textContent only, isolated direction.
    var body = document.createElement("p");
    body.className = "msg-body";
    body.dir = "auto";
    if (msg.body === null || msg.body === undefined || msg.body === "") {
      body.classList.add("msg-body--empty");
      body.textContent = "(empty message)";
    } else {
      body.textContent = String(msg.body);
    }

    li.appendChild(meta);
    li.appendChild(body);

    var entry = { root: li, delivery: document.createElement("p"), state: null };
    li.appendChild(entry.delivery);
    setDelivery(entry, deliveryState(msg));
    return entry;
  }

  function renderMessages(list) {
    var nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 48;
    var added = false;
    var seen = new Set();
    list.forEach(function (msg) {
      var key = String(msg.id);
      if (seen.has(key)) return;
      seen.add(key);
      var entry = messages.get(key);
      if (entry) {
        setDelivery(entry, deliveryState(msg));
      } else {
        entry = createMessage(msg);
        messages.set(key, entry);
        transcript.appendChild(entry.root);
        added = true;
      }
    });
    messages.forEach(function (entry, key) {
      if (!seen.has(key)) {
        entry.root.remove();
        messages.delete(key);
      }
    });
    transcriptEmpty.hidden = messages.size !== 0;
    if (added && (nearBottom || stickToBottom)) transcript.scrollTop = transcript.scrollHeight;
    stickToBottom = false;
  }

  /* ---------- header + forms ---------- */

  function setEnabled(control, enabled) {
    if (control.disabled === !enabled) return;
    control.disabled = !enabled;
  }

  function renderConversation(conv) {
    conversation = conv;
    var channel = H.ui.channelLabel(conv.channel);
    H.ui.setText(title, channel + " conversation");
    document.title = channel + " conversation — Helpline console";
    H.ui.setText(channelEl, channel);
    H.ui.setText(statusEl, H.ui.statusLabel(conv.status));
    statusEl.className = "status status--" + String(conv.status).replace(/[^a-z]/g, "");
    H.ui.setText(assigneeEl, conv.assignee ? String(conv.assignee) : "Nobody yet");
    outcomeRow.hidden = !conv.outcome;
    H.ui.setText(outcomeEl, conv.outcome ? outcomeLabel(conv.outcome) : "");

    renderMessages(Array.isArray(conv.messages) ? conv.messages : []);

    var mine = conv.status === "active" && me !== null && conv.assignee === me;
    var note = "";
    if (conv.status === "closed") note = "This conversation is closed, so replies are turned off.";
    else if (conv.status === "waiting") note = "This conversation is waiting in the queue. Claim it from the queue to reply.";
    else if (!mine) note = (conv.assignee ? conv.assignee + " is" : "Someone else is") + " handling this conversation, so you cannot reply.";
    H.ui.setText(replyNote, note);

    setEnabled(replyBody, mine);
    setEnabled(replySend, mine && !sending);
    closeSection.hidden = conv.status === "closed";
    setEnabled(closeOutcome, mine && outcomes.length > 0);
    setEnabled(closeSubmit, mine && outcomes.length > 0 && !closing);
  }

  function showGone(err) {
    // 403/404: nothing to show or do here.
    H.ui.showError(pageError, err);
    $("transcript-section").hidden = true;
    replySection.hidden = true;
    closeSection.hidden = true;
    H.ui.setText(statusEl, "—");
    H.ui.setText(channelEl, "—");
    H.ui.setText(assigneeEl, "—");
    if (poller) poller.stop();
  }

  /**
   * Fetch the conversation and render it. The single refresh entry point
   * (polling today; a WebSocket push can call this instead). With force,
   * a refresh already in flight is followed by a fresh one.
   */
  function refreshConversation(force) {
    if (loading) {
      return force ? loading.then(function () { return refreshConversation(); }) : loading;
    }
    loading = H.api.get(path()).then(function (conv) {
      H.ui.setText(pollStatus, "");
      renderConversation(conv || {});
    }, function (err) {
      if (err.redirecting) return;
      if (err.status === 403 || err.status === 404) showGone(err);
      else H.ui.setText(pollStatus, "Could not refresh the conversation: " + err.message + " Retrying…");
    }).then(function () {
      loading = null;
    });
    return loading;
  }

  function send() {
    if (sending || replyBody.disabled) return;
    var body = replyBody.value;
    H.ui.clear(replyError);
    if (!body.trim()) {
      replyError.textContent = "Write a message before sending.";
      replyBody.focus();
      return;
    }
    sending = true;
    replyBody.readOnly = true;
    replySend.disabled = true;
    replySend.textContent = "Sending…";
    H.api.post(path("/messages"), { body: body }).then(function () {
      replyBody.value = "";
      stickToBottom = true;
    }, function (err) {
      H.ui.showError(replyError, err); // the text stays in the box
    }).then(function () {
      sending = false;
      replyBody.readOnly = false;
      replySend.textContent = "Send";
      return refreshConversation(true);
    }).then(function () {
      if (conversation) renderConversation(conversation);
      if (!replyBody.disabled) replyBody.focus();
    });
  }

  function closeConversation() {
    if (closing) return;
    var outcome = closeOutcome.value;
    H.ui.clear(closeError);
    if (!outcome) {
      closeError.textContent = "Choose an outcome before closing.";
      closeOutcome.focus();
      return;
    }
    var failed = false;
    closing = true;
    closeSubmit.disabled = true;
    closeSubmit.textContent = "Closing…";
    H.api.post(path("/close"), { outcome: outcome }).then(function () {
      H.ui.setText(replyNote, "Conversation closed. Replies are turned off.");
      replyBody.disabled = true;
      replySend.disabled = true;
    }, function (err) {
      H.ui.showError(closeError, err);
      failed = true;
    }).then(function () {
      closing = false;
      closeSubmit.textContent = "Close conversation";
      return refreshConversation(true);
    }).then(function () {
      if (conversation) renderConversation(conversation);
      if (conversation && conversation.status === "closed") statusEl.focus();
      else if (failed && !closeOutcome.disabled) closeOutcome.focus();
    });
  }

  replyForm.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });
  replyBody.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      send();
    }
  });
  closeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    closeConversation();
  });
  statusEl.tabIndex = -1; // focus target after closing

  function fillOutcomes(list) {
    outcomes = Array.isArray(list) ? list : [];
    outcomes.forEach(function (o) {
      var option = document.createElement("option");
      option.value = String(o.code);
      option.textContent = String(o.label);
      closeOutcome.appendChild(option);
    });
  }

  function init() {
    conversationId = readIdFromPath();
    if (conversationId === null) {
      showGone(new Error("This is not a conversation address. Go back to the queue."));
      return;
    }
    H.api.session().then(function (session) {
      H.ui.clear(pageError);
      me = session && session.user ? session.user.username : null;
      H.ui.initHeader(session, pageError);
      fillOutcomes(session && session.outcomes);
      return refreshConversation().then(function () {
        if (!$("transcript-section").hidden) poller = H.poll(refreshConversation, REFRESH_MS);
      });
    }, function (err) {
      if (err.redirecting) return;
      H.ui.showError(pageError, err);
      window.setTimeout(init, REFRESH_MS);
    });
  }

  init();
})();
