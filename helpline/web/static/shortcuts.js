/*
 * Helpline console: keyboard shortcuts on every console page, listed on a help overlay.
 *
 *   Alt+N   take the next conversation from the queue (as the queue's Take next)
 *   Alt+R   go to the reply box (on a conversation page)
 *   Alt+J   open the next conversation I hold: the one waiting longest for my answer, not this one
 *   ?       show the list (not while typing in a field)
 *
 * Keys are read by their position (event.code), so they work whatever the keyboard layout types.
 */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;

  function typing(target) {
    return !!target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function help() {
    var dialog = ui.$("shortcuts-help");
    if (dialog && !dialog.open) dialog.showModal();
  }

  function takeNext() {
    return H.api.post("/api/queue/take", {}).then(function (summary) {
      window.location.assign(H.api.conversationPage(summary.id));
    }, function (err) {
      var box = ui.$("page-error");
      if (box) ui.showError(box, err.status === 404 && !err.data.error ? new Error("No one is waiting.") : err);
    });
  }

  function currentConversation() {
    var match = /^\/console\/conversations\/([^/]+)$/.exec(window.location.pathname);
    return match ? decodeURIComponent(match[1]) : null;
  }

  function nextHeld() {
    var me = H.page.username();
    var here = currentConversation();
    return H.api.get("/api/queue").then(function (data) {
      var held = (Array.isArray(data.conversations) ? data.conversations : []).filter(function (c) {
        return c.status === "active" && c.assignee === me && String(c.id) !== here;
      });
      if (held.length) window.location.assign(H.api.conversationPage(held[0].id));
    }, function () { /* the page shows its own errors */ });
  }

  function focusReply() {
    var box = ui.$("reply-body");
    if (box && !box.disabled) box.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (!H.page.user() || H.api.hasEnded()) return;
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      var action = { KeyN: takeNext, KeyR: focusReply, KeyJ: nextHeld }[event.code];
      if (!action) return;
      event.preventDefault();
      action();
    } else if (event.key === "?" && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target)) {
      event.preventDefault();
      help();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var open = ui.$("shortcuts-open");
    var close = ui.$("shortcuts-close");
    if (open) open.addEventListener("click", help);
    if (close) close.addEventListener("click", function () { ui.$("shortcuts-help").close(); });
  });
})();
