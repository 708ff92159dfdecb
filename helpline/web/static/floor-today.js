/* Helpline console: the floor's figures for today — answered, waiting, longest wait, left before an answer —
   reloaded on every change the live socket reports, with the longest wait counted on between changes. */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var $ = ui.$;
  var TICK_MS = 15000;
  var EVENTS = {
    "conversation.opened": 1, "conversation.claimed": 1, "conversation.transferred": 1,
    "conversation.closed": 1, "message.added": 1, "contact.left": 1
  };
  // {longest, waiting, at}: today's longest wait so far, and the current longest-waiting one's wait at `at`.
  var figures = null;

  function renderLongest() {
    if (!figures) return;
    var growing = figures.waiting ? figures.waitingLongest + (Date.now() - figures.at) / 1000 : 0;
    var longest = Math.max(figures.longest, growing);
    ui.setText($("today-longest"), longest > 0 ? ui.duration(longest) : "—");
  }

  function render(today) {
    ui.clear($("today-error"));
    ui.setText($("today-answered"), String(today.answered || 0));
    ui.setText($("today-waiting"), String(today.waiting || 0));
    ui.setText($("today-left"), String(today.left_before_answer || 0));
    figures = {
      longest: Number(today.longest_wait_seconds) || 0,
      waitingLongest: Number(today.waiting_longest_seconds) || 0,
      waiting: Number(today.waiting) || 0,
      at: Date.now()
    };
    renderLongest();
  }

  var reload = ui.serial(function () {
    return H.api.get("/api/floor/today").then(render, function (err) {
      if (!err.redirecting) ui.showError($("today-error"), new Error("Could not load today's figures: " + err.message));
      throw err;
    });
  });

  H.page.addLive({
    reload: reload,
    apply: function (frames) {
      if (frames.some(function (f) { return EVENTS[f.event]; })) reload().catch(function () {});
    },
    wanted: function () { return H.page.isSupervisor(); }
  });
  window.setInterval(renderLongest, TICK_MS);
})();
