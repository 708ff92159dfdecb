/* Helpline console: the queue page (waiting conversations + the ones I hold). */
"use strict";

(function () {
  var H = window.Helpline;
  var REFRESH_MS = 5000;

  var pageError = document.getElementById("page-error");
  var pollStatus = document.getElementById("poll-status");
  var waitingHeading = document.getElementById("waiting-heading");
  var waitingSummary = document.getElementById("waiting-summary");
  var waitingTable = document.getElementById("waiting-table");
  var waitingRows = document.getElementById("waiting-rows");
  var mineList = document.getElementById("mine-list");
  var mineEmpty = document.getElementById("mine-empty");

  var waitingCache = new Map(); // id -> row entry
  var mineCache = new Map(); // id -> list entry
  var loading = null; // the in-flight refresh, if any
  var claiming = false;

  waitingHeading.tabIndex = -1; // focus target when a focused row disappears

  /**
   * Keep container's children in the order of items, reusing the DOM node
   * of each id so that focus and screen-reader position survive a refresh.
   */
  function reconcile(container, items, cache, create, update) {
    var seen = new Set();
    var lostFocus = false;
    items.forEach(function (item, index) {
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

  function createWaitingRow(item) {
    var entry = { id: item.id, root: document.createElement("tr") };
    entry.channel = document.createElement("td");
    entry.waiting = document.createElement("td");
    entry.priority = document.createElement("td");
    var actionCell = document.createElement("td");
    entry.button = document.createElement("button");
    entry.button.type = "button";
    entry.button.className = "claim-button";
    entry.buttonText = document.createElement("span");
    entry.buttonText.textContent = "Claim";
    entry.buttonHint = document.createElement("span");
    entry.buttonHint.className = "visually-hidden";
    entry.button.appendChild(entry.buttonText);
    entry.button.appendChild(entry.buttonHint);
    entry.button.addEventListener("click", function () { claim(entry); });
    actionCell.appendChild(entry.button);
    entry.root.appendChild(entry.channel);
    entry.root.appendChild(entry.waiting);
    entry.root.appendChild(entry.priority);
    entry.root.appendChild(actionCell);
    return entry;
  }

  function updateWaitingRow(entry, item) {
    entry.id = item.id;
    var channel = H.ui.channelLabel(item.channel);
    H.ui.setText(entry.channel, channel);
    var text = H.ui.waitingFor(item.waiting_since);
    if (entry.waitingSince !== item.waiting_since) {
      entry.waitingSince = item.waiting_since;
      entry.waiting.replaceChildren(H.ui.timeElement(item.waiting_since, text));
    } else {
      H.ui.setText(entry.waiting.firstChild, text);
    }
    H.ui.setText(entry.priority, item.priority === null || item.priority === undefined ? "—" : String(item.priority));
    H.ui.setText(entry.buttonHint, " " + channel + " conversation");
  }

  function createMineItem(item) {
    var entry = { root: document.createElement("li") };
    entry.link = document.createElement("a");
    entry.link.className = "mine-link";
    entry.label = document.createElement("span");
    entry.label.className = "mine-channel";
    entry.since = document.createElement("span");
    entry.since.className = "mine-since";
    entry.link.appendChild(entry.label);
    entry.link.appendChild(entry.since);
    entry.root.appendChild(entry.link);
    return entry;
  }

  function updateMineItem(entry, item) {
    entry.link.href = "/console/conversations/" + encodeURIComponent(String(item.id));
    H.ui.setText(entry.label, H.ui.channelLabel(item.channel) + " conversation");
    if (item.waiting_since && !entry.since.firstChild) {
      entry.since.append(" · started ", H.ui.timeElement(item.waiting_since));
    }
  }

  function render(data) {
    var conversations = (data && Array.isArray(data.conversations)) ? data.conversations : [];
    var waiting = conversations.filter(function (c) { return c.status === "waiting"; });
    var mine = conversations.filter(function (c) { return c.status === "active"; });

    var lostFocus = reconcile(waitingRows, waiting, waitingCache, createWaitingRow, updateWaitingRow);
    waitingTable.hidden = waiting.length === 0;
    H.ui.setText(waitingSummary,
      waiting.length === 0 ? "No one is waiting." :
      waiting.length === 1 ? "1 conversation waiting." :
      waiting.length + " conversations waiting.");
    document.title = (waiting.length ? "(" + waiting.length + ") " : "") + "Queue — Helpline console";

    if (reconcile(mineList, mine, mineCache, createMineItem, updateMineItem)) lostFocus = true;
    mineEmpty.hidden = mine.length !== 0;

    if (lostFocus) waitingHeading.focus();
  }

  /**
   * Fetch the queue and render it. This is the single refresh entry point
   * (polling today; a WebSocket push can call render() or this instead).
   */
  function refreshQueue() {
    if (loading) return loading;
    loading = H.api.get("/api/queue").then(function (data) {
      render(data);
      H.ui.setText(pollStatus, "");
    }, function (err) {
      if (!err.redirecting) H.ui.setText(pollStatus, "Could not refresh the queue: " + err.message + " Retrying…");
    }).then(function () {
      loading = null;
    });
    return loading;
  }

  function claim(entry) {
    if (claiming) return;
    claiming = true;
    H.ui.clear(pageError);
    var button = entry.button;
    // aria-disabled rather than disabled, so keyboard focus stays on the button.
    button.setAttribute("aria-disabled", "true");
    entry.buttonText.textContent = "Claiming…";
    var id = entry.id;
    H.api.post(H.api.conversationPath(id) + "/claim", {}).then(function () {
      window.location.assign("/console/conversations/" + encodeURIComponent(String(id)));
    }, function (err) {
      claiming = false;
      button.removeAttribute("aria-disabled");
      entry.buttonText.textContent = "Claim";
      H.ui.showError(pageError, err);
      if (err.status === 409) refreshQueue();
    });
  }

  function init() {
    H.api.session().then(function (session) {
      H.ui.clear(pageError);
      H.ui.initHeader(session, pageError);
      return refreshQueue().then(function () {
        H.poll(refreshQueue, REFRESH_MS);
      });
    }, function (err) {
      if (err.redirecting) return;
      H.ui.showError(pageError, err);
      window.setTimeout(init, REFRESH_MS);
    });
  }

  init();
})();
