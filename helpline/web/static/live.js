/*
 * Helpline console: live updates over the /console/ws WebSocket.
 *
 *   Helpline.live.start({reload, apply, onState}) -> {stop}
 *
 * reload() fetches everything the page shows from the API and returns a
 * promise; it must start a fresh request (not reuse one already in flight).
 * apply(frames) applies event frames, in seq order; it must be idempotent
 * (the page refetches what the ids point at and renders keyed by id).
 *
 * The catch-up protocol, on every (re)connect:
 *   1. open the socket, with ?last=<id> once the page has seen an event; the
 *      server answers {"type":"hello","seq":n,"last":id};
 *   2. if the hello says "resumed": the server sends exactly the events after
 *      the page's last id ("replay" frames first, then numbered ones): apply
 *      them, reload nothing, and go on live;
 *   3. otherwise keep every event frame that arrives from then on, reload from
 *      the API, apply the kept frames, then apply new frames as they come.
 * Frames are numbered n+1, n+2, …: one already seen is dropped, a gap (or a
 * {"type":"resync"} frame) starts again with a reload. Frames kept before a
 * reload starts are covered by that reload and are dropped. Each event frame
 * carries its event's id; the page remembers the last one it applied (or the
 * hello's, after a reload), so another socket — at this server or another —
 * resumes after it.
 *
 * A lost socket is reopened with exponential backoff and jitter (1 s up to
 * 30 s); a socket that stays silent past a ping is treated as lost. The
 * page's state is mirrored on <html data-live="…"> (connecting, syncing,
 * live, reconnecting, stopped) and reported through onState.
 */
"use strict";

(function () {
  var H = (window.Helpline = window.Helpline || {});

  var PING_MS = 25000;
  var PONG_TIMEOUT_MS = 10000;
  var BACKOFF_MIN_MS = 1000;
  var BACKOFF_MAX_MS = 30000;
  var RELOAD_RETRY_MS = 5000;
  var SESSION_ENDED = 4401;

  function socketUrl(lastId) {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var query = lastId ? "?last=" + encodeURIComponent(lastId) : "";
    return scheme + "//" + window.location.host + "/console/ws" + query;
  }

  function start(options) {
    var socket = null;
    var lastSeq = null;
    var lastId = null; // the id of the last event the page has (applied, or covered by a reload)
    var seenId = null; // the id of the last event the socket has told of (a reload started now covers it)
    var syncing = false;
    var kept = [];
    var generation = 0;
    var attempt = 0;
    var stopped = false;
    var retryTimer = null;
    var pingTimer = null;
    var pongTimer = null;

    function setState(state) {
      document.documentElement.setAttribute("data-live", state);
      if (options.onState) options.onState(state);
    }

    function clearTimers() {
      if (pingTimer !== null) window.clearInterval(pingTimer);
      if (pongTimer !== null) window.clearTimeout(pongTimer);
      pingTimer = pongTimer = null;
    }

    function connect() {
      retryTimer = null;
      if (stopped) return;
      setState(attempt === 0 ? "connecting" : "reconnecting");
      var ws;
      try {
        ws = new WebSocket(socketUrl(lastId));
      } catch (e) {
        lost(null, false);
        return;
      }
      var opened = false;
      socket = ws;
      lastSeq = null;
      kept = [];
      syncing = true;
      generation += 1; // a reload still running for an older socket no longer counts
      ws.onopen = function () { opened = true; };
      ws.onmessage = function (event) {
        if (ws === socket) receive(event.data);
      };
      ws.onclose = function (event) {
        // 4401: the server closed the socket because the session ended.
        if (ws === socket) lost(ws, opened && event.code !== SESSION_ENDED);
      };
      ws.onerror = function () { /* a close event follows */ };
    }

    function lost(ws, opened) {
      clearTimers();
      socket = null;
      if (ws) {
        ws.onmessage = ws.onclose = null;
        try { ws.close(); } catch (e) { /* already closed */ }
      }
      if (stopped) return;
      setState("reconnecting");
      // A socket refused before opening (or closed with 4401) may mean the
      // session ended: asking the API lets api.js notice the 401 and say so.
      if (!opened && H.api) H.api.session().catch(function () { /* reported by api.js */ });
      var delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempt));
      attempt = Math.min(attempt + 1, 10);
      retryTimer = window.setTimeout(connect, delay / 2 + Math.random() * delay / 2);
    }

    function receive(text) {
      var frame;
      try { frame = JSON.parse(text); } catch (e) { return; }
      if (!frame || typeof frame !== "object") return;
      if (frame.type === "hello" && typeof frame.seq === "number") {
        lastSeq = frame.seq;
        seenId = typeof frame.last === "string" ? frame.last : null;
        attempt = 0;
        startPing();
        if (frame.resumed === true) {
          generation += 1; // nothing to reload: what was missed follows
          syncing = false;
          kept = [];
          setState("live");
        } else {
          resync();
        }
      } else if (frame.type === "event" && frame.replay === true && lastSeq !== null && !syncing) {
        if (typeof frame.id === "string") seenId = frame.id;
        deliver([frame]);
      } else if (frame.type === "pong") {
        if (pongTimer !== null) window.clearTimeout(pongTimer);
        pongTimer = null;
      } else if (frame.type === "resync") {
        resync();
      } else if (frame.type === "event" && typeof frame.seq === "number" && lastSeq !== null) {
        if (frame.seq <= lastSeq) return; // seen already
        if (typeof frame.id === "string") seenId = frame.id;
        var gap = frame.seq !== lastSeq + 1;
        lastSeq = frame.seq;
        if (gap) resync();
        else if (syncing) kept.push(frame);
        else deliver([frame]);
      }
    }

    function resync() {
      var mine = ++generation;
      var covered = seenId; // the reload has at least every event told of so far
      syncing = true;
      kept = [];
      setState("syncing");
      Promise.resolve().then(options.reload).then(function () {
        if (mine !== generation || stopped) return;
        var frames = kept;
        kept = [];
        syncing = false;
        if (covered !== null) lastId = covered;
        setState("live");
        if (frames.length) deliver(frames);
      }, function () {
        if (mine !== generation || stopped || H.api.hasEnded()) return;
        window.setTimeout(function () {
          if (mine === generation && !stopped) resync();
        }, RELOAD_RETRY_MS);
      });
    }

    function deliver(frames) {
      try {
        options.apply(frames);
      } catch (e) {
        resync(); // could not apply: the API is the source of truth
        return;
      }
      for (var i = 0; i < frames.length; i++) {
        if (typeof frames[i].id === "string") lastId = frames[i].id;
      }
    }

    function startPing() {
      clearTimers();
      pingTimer = window.setInterval(function () {
        var ws = socket;
        if (!ws || ws.readyState !== WebSocket.OPEN) return;
        ws.send(JSON.stringify({ type: "ping" }));
        if (pongTimer === null) {
          pongTimer = window.setTimeout(function () {
            pongTimer = null;
            if (ws === socket) lost(ws, true);
          }, PONG_TIMEOUT_MS);
        }
      }, PING_MS);
    }

    function stop() {
      if (stopped) return;
      stopped = true;
      generation += 1;
      if (retryTimer !== null) window.clearTimeout(retryTimer);
      clearTimers();
      if (socket) {
        var ws = socket;
        socket = null;
        ws.onmessage = ws.onclose = null;
        try { ws.close(); } catch (e) { /* already closed */ }
      }
      setState("stopped");
    }

    window.addEventListener("online", function () {
      if (retryTimer !== null && !stopped) {
        window.clearTimeout(retryTimer);
        connect();
      }
    });
    document.addEventListener("helpline:session-ended", stop);

    connect();
    return { stop: stop };
  }

  H.live = { start: start };
})();
