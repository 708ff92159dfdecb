/* Helpline console: the queue page (capacity, Take next, waiting conversations, the ones I hold). */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var TICK_MS = 30000; // waiting times are redrawn locally; the server is only asked on events

  // Messages the conversation page can leave for this page (?notice=…): fixed text only.
  var NOTICES = {
    taken: "That conversation was taken by someone else, so you are back at the queue.",
    requeued: "Someone else put that conversation back in the queue, so you are back here too.",
    transferred: "The conversation was transferred with your handover note.",
    returned: "The conversation is back in the queue with your handover note.",
    gone: "That conversation no longer exists, or you cannot see it."
  };
  var QUEUE_EVENTS = {
    "conversation.opened": 1, "conversation.claimed": 1, "conversation.transferred": 1,
    "conversation.closed": 1, "message.added": 1, "contact.left": 1, "staff.changed": 1,
    "conversation.returned": 1, "risk.raised": 1
  };

  var pageError = ui.$("page-error");
  var notice = ui.$("notice");
  var capacity = ui.$("capacity");
  var takeHint = ui.$("take-hint");
  var takeError = ui.$("take-error");
  var takeButton = ui.$("take-next");
  var waitingHeading = ui.$("waiting-heading");
  var waitingSummary = ui.$("waiting-summary");
  var waitingTable = ui.$("waiting-table");
  var waitingRows = ui.$("waiting-rows");
  var mineList = ui.$("mine-list");
  var mineEmpty = ui.$("mine-empty");

  var waitingCache = new Map(); // id -> row entry
  var mineCache = new Map(); // id -> list entry
  var leftList = ui.$("left-list");
  var leftSection = ui.$("left-section");
  var leftCache = new Map(); // id -> list entry
  var lastQueue = null;
  var busy = false; // a claim or take is under way

  /**
   * Keep container's children in the order of items, reusing the DOM node of
   * each id so that focus and screen-reader position survive a refresh.
   * Returns true when the focused element was removed.
   */
  function reconcile(container, items, cache, create, update) {
    var seen = new Set();
    var lostFocus = false;
    items.forEach(function (item) {
      var key = String(item.id);
      if (seen.has(key)) return;
      seen.add(key);
      var entry = cache.get(key);
      if (!entry) {
        entry = create(item);
        cache.set(key, entry);
      }
      update(entry, item);
      var current = container.children[seen.size - 1];
      if (current !== entry.root) container.insertBefore(entry.root, current || null);
    });
    cache.forEach(function (entry, key) {
      if (seen.has(key)) return;
      if (entry.root.contains(document.activeElement)) lostFocus = true;
      entry.root.remove();
      cache.delete(key);
    });
    return lostFocus;
  }

  /** Why it is urgent, in the lexicon's words: "Suicide: Talks about killing themself" (never the contact's words). */
  function riskWhy(item) {
    var risk = item.risk;
    if (!risk || typeof risk !== "object") return "";
    return ui.vocab([String(risk.category)])[0].label + ": " + String(risk.reason || "");
  }

  function createWaitingRow(item) {
    var entry = { id: item.id, root: ui.el("tr", { "data-id": item.id }) };
    entry.channel = ui.el("td");
    entry.waiting = ui.el("td");
    entry.priority = ui.el("td");
    entry.buttonText = ui.el("span", { text: "Claim" });
    entry.buttonHint = ui.el("span", { class: "visually-hidden" });
    entry.button = ui.el("button", { type: "button", class: "claim-button" }, [entry.buttonText, entry.buttonHint]);
    entry.button.addEventListener("click", function () { claim(entry); });
    ui.append(entry.root, [entry.channel, entry.waiting, entry.priority, ui.el("td", { class: "col-action" }, entry.button)]);
    return entry;
  }

  function updateWaitingRow(entry, item) {
    entry.id = item.id;
    var channel = ui.channelLabel(item.channel);
    entry.channel.replaceChildren(channel);
    if (item.returning) entry.channel.appendChild(ui.el("span", { class: "badge", text: "Returning" }));
    var text = ui.waitingFor(item.waiting_since);
    if (entry.waitingSince !== item.waiting_since) {
      entry.waitingSince = item.waiting_since;
      entry.waiting.replaceChildren(ui.timeElement(item.waiting_since, text));
    } else {
      ui.setText(entry.waiting.firstChild, text);
    }
    var why = riskWhy(item);
    entry.priority.replaceChildren(ui.priorityLabel(item.priority));
    if (why) entry.priority.appendChild(ui.el("span", { class: "risk-why", text: why }));
    entry.priority.className = "priority priority--" + (Number(item.priority) || 0);
    ui.setText(entry.buttonHint, " " + channel + " conversation waiting " + text);
  }

  function createMineItem() {
    var entry = { root: ui.el("li") };
    entry.label = ui.el("span", { class: "mine-channel" });
    entry.unread = ui.el("span", { class: "unread-badge", hidden: true });
    entry.risk = ui.el("span", { class: "mine-risk" });
    entry.since = ui.el("span", { class: "mine-since" });
    entry.link = ui.el("a", { class: "mine-link" }, [entry.label, entry.unread, entry.risk, entry.since]);
    entry.root.appendChild(entry.link);
    return entry;
  }

  function updateMineItem(entry, item) {
    entry.link.setAttribute("href", H.api.conversationPage(item.id));
    entry.root.setAttribute("data-id", item.id);
    ui.setText(entry.label, ui.channelLabel(item.channel) + " conversation" + (item.returning ? " (returning contact)" : ""));
    var unread = Number(item.unread) || 0;
    entry.unread.hidden = unread === 0;
    ui.setText(entry.unread, unread === 1 ? "1 new message" : unread + " new messages");
    var why = riskWhy(item);
    ui.setText(entry.risk, " · " + ui.priorityLabel(item.priority) + (why ? " — " + why : ""));
    entry.risk.className = "mine-risk priority--" + (Number(item.priority) || 0);
    var since = item.oldest_unanswered || null;
    if (entry.sinceValue !== since || !entry.since.firstChild) {
      entry.sinceValue = since;
      entry.since.replaceChildren();
      if (since) ui.append(entry.since, [" · waiting for your answer since ", ui.timeElement(since)]);
      else if (item.waiting_since) ui.append(entry.since, [" · answered; contact since ", ui.timeElement(item.waiting_since)]);
    }
  }

  function createLeftItem(item) {
    var entry = { id: item.id, root: ui.el("li", { "data-id": item.id }) };
    entry.label = ui.el("span");
    entry.button = ui.el("button", { type: "button", class: "button-secondary button-small", text: "Close: left before an answer" });
    entry.button.addEventListener("click", function () { closeLeft(entry); });
    ui.append(entry.root, [entry.label, " ", entry.button]);
    return entry;
  }

  function updateLeftItem(entry, item) {
    entry.id = item.id;
    entry.label.replaceChildren(ui.channelLabel(item.channel) + " conversation, waiting since ", ui.timeElement(item.waiting_since), ": the contact left.");
  }

  function closeLeft(entry) {
    if (ui.isBusy(entry.button)) return;
    var restore = ui.busy(entry.button, "Closing…");
    ui.clear(pageError);
    H.api.post(H.api.conversationPath(entry.id) + "/close", { outcome: "left_before_answer", consent: false }).then(function () {
      notice.textContent = "Closed: the contact left before an answer.";
      return reload();
    }, function (err) {
      restore();
      ui.showError(pageError, err);
    });
  }

  function renderCapacity() {
    var data = lastQueue || {};
    var user = H.page.user() || {};
    var max = typeof data.max_concurrent === "number" ? data.max_concurrent
      : (H.page.session() || {}).max_concurrent;
    var holding = typeof data.holding === "number" ? data.holding : mineCache.size;
    ui.setText(capacity, typeof max === "number"
      ? "You are holding " + holding + " of " + max + " conversations."
      : "You are holding " + holding + " conversations.");
    var hint = "";
    if (user.availability !== "available") hint = "Set your status to Available to take conversations.";
    else if (typeof max === "number" && holding >= max) hint = "You are at capacity: close or transfer one first.";
    ui.setText(takeHint, hint);
  }

  function render(data) {
    lastQueue = data || {};
    var me = H.page.username();
    var conversations = Array.isArray(lastQueue.conversations) ? lastQueue.conversations : [];
    var waiting = conversations.filter(function (c) { return c.status === "waiting" && !c.contact_left; });
    var left = conversations.filter(function (c) { return c.status === "waiting" && c.contact_left; });
    var mine = conversations.filter(function (c) { return c.status === "active" && c.assignee === me; });

    var lostFocus = reconcile(waitingRows, waiting, waitingCache, createWaitingRow, updateWaitingRow);
    waitingTable.hidden = waiting.length === 0;
    ui.setText(waitingSummary,
      waiting.length === 0 ? "No one is waiting." :
      waiting.length === 1 ? "1 conversation waiting." :
      waiting.length + " conversations waiting.");
    H.page.title((waiting.length ? "(" + waiting.length + " waiting) " : "") + "Queue — Helpline console");
    reconcile(leftList, left, leftCache, createLeftItem, updateLeftItem);
    leftSection.hidden = left.length === 0;

    if (reconcile(mineList, mine, mineCache, createMineItem, updateMineItem)) lostFocus = true;
    mineEmpty.hidden = mine.length !== 0;
    renderCapacity();

    if (lostFocus) waitingHeading.focus();
  }

  var reload = ui.serial(function () {
    return H.api.get("/api/queue").then(function (data) {
      ui.clear(pageError);
      render(data);
    }, function (err) {
      if (!err.redirecting) ui.showError(pageError, new Error("Could not load the queue: " + err.message));
      throw err;
    });
  });

  function apply(frames) {
    if (frames.some(function (f) { return QUEUE_EVENTS[f.event]; })) reload().catch(function () {});
  }

  function open(id) {
    window.location.assign(H.api.conversationPage(id));
  }

  function claim(entry) {
    if (busy) return;
    busy = true;
    ui.clear(pageError);
    ui.clear(notice);
    entry.button.setAttribute("aria-disabled", "true");
    entry.buttonText.textContent = "Claiming…";
    var id = entry.id;
    H.api.post(H.api.conversationPath(id) + "/claim", {}).then(function () {
      open(id);
    }, function (err) {
      busy = false;
      entry.button.removeAttribute("aria-disabled");
      entry.buttonText.textContent = "Claim";
      ui.showError(pageError, err);
      if (err.status === 409 || err.status === 404) reload().catch(function () {});
    });
  }

  function takeNext() {
    if (busy) return;
    busy = true;
    ui.clear(takeError);
    ui.clear(notice);
    var restore = ui.busy(takeButton, "Taking…");
    H.api.post("/api/queue/take", {}).then(function (summary) {
      open(summary.id);
    }, function (err) {
      busy = false;
      restore();
      ui.showError(takeError, err.status === 404 && !err.data.error ? new Error("No one is waiting.") : err);
      reload().catch(function () {});
    });
  }

  function showNotice() {
    var params = new URLSearchParams(window.location.search);
    var key = params.get("notice");
    if (key && Object.prototype.hasOwnProperty.call(NOTICES, key)) notice.textContent = NOTICES[key];
    var by = params.get("by");
    if (by && (key === "taken" || key === "requeued")) {
      notice.textContent = by.slice(0, 64) + (key === "requeued" ? " put that conversation back in the queue" :
        " moved that conversation to someone else") + ", so you are back at the queue.";
    }
    if (key !== null && window.history.replaceState) window.history.replaceState(null, "", "/console");
  }

  takeButton.addEventListener("click", takeNext);
  document.addEventListener("helpline:user", renderCapacity);
  document.addEventListener("helpline:session-ended", function () {
    takeButton.disabled = true;
    waitingCache.forEach(function (entry) { entry.button.disabled = true; });
  });

  showNotice();
  H.page.start(function () {
    // An admin alone reads no conversation: its console is the admin page.
    if (!H.page.readsConversations()) {
      window.location.replace(H.page.isAdmin() ? "/console/admin" : "/console/totp");
      return;
    }
    renderCapacity();
    reload().catch(function () {});
    H.page.live({ reload: reload, apply: apply });
    window.setInterval(function () {
      if (lastQueue) render(lastQueue);
    }, TICK_MS);
  });
})();
