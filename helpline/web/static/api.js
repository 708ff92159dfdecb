/*
 * Helpline volunteer console: shared code.
 *
 *   Helpline.api   a tiny fetch wrapper for the JSON API (CSRF token kept in
 *                  memory only, JSON errors turned into Error objects,
 *                  redirect to /login on 401).
 *   Helpline.poll  run a refresh function every N ms, never overlapping
 *                  another request.
 *   Helpline.ui    small DOM and formatting helpers shared by the pages.
 *
 * No dependencies. Everything built from server data uses textContent /
 * createElement only: message text comes from the public and is hostile.
 */
"use strict";

(function () {
  var Helpline = (window.Helpline = window.Helpline || {});

  var REQUEST_TIMEOUT_MS = 15000;
  var csrfToken = null; // memory only, never persisted
  var pending = 0; // requests in flight on this page

  function onLoginPage() {
    return window.location.pathname === "/login";
  }

  function goToLogin() {
    window.location.assign("/login");
  }

  function defaultMessage(status) {
    if (status === 401) return "Your session has ended. Please sign in again.";
    if (status === 403) return "You are not allowed to do that.";
    if (status === 404) return "Not found.";
    if (status === 409) return "That could not be done because something changed. Please try again.";
    if (status === 429) return "Too many attempts. Please wait a moment and try again.";
    if (status >= 500) return "The server had a problem. Please try again.";
    return "Something went wrong (error " + status + "). Please try again.";
  }

  /** Error carrying the server's message, the HTTP status and request id. */
  function ApiError(message, status, requestId) {
    var err = new Error(message);
    err.name = "ApiError";
    err.status = status;
    err.requestId = requestId || null;
    err.redirecting = false;
    return err;
  }

  function request(method, path, body) {
    var headers = { Accept: "application/json" };
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var opts = {
      method: method,
      headers: headers,
      credentials: "same-origin",
      cache: "no-store"
    };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
      opts.body = JSON.stringify(body || {});
    }
    var timer = null;
    if (controller) {
      opts.signal = controller.signal;
      timer = window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    }

    pending += 1;
    function done() {
      pending -= 1;
      if (timer !== null) window.clearTimeout(timer);
    }

    return window.fetch(path, opts).then(
      function (response) {
        return response.text().then(
          function (text) {
            done();
            var data = null;
            if (text) {
              try { data = JSON.parse(text); } catch (e) { data = null; }
            }
            if (data && typeof data.csrf_token === "string") csrfToken = data.csrf_token;
            if (response.ok) {
              if (text && data === null) {
                throw ApiError("The server sent an unexpected answer. Please reload the page.", response.status);
              }
              return data;
            }

            var message = data && typeof data.error === "string" && data.error
              ? data.error
              : defaultMessage(response.status);
            var err = ApiError(message, response.status, data && data.request_id);
            if (response.status === 401 && !onLoginPage()) {
              err.redirecting = true;
              goToLogin();
            }
            throw err;
          },
          function () {
            done();
            throw ApiError("The server's answer could not be read. Please try again.", 0);
          }
        );
      },
      function () {
        done();
        throw ApiError("Cannot reach the server. Check your connection and try again.", 0);
      }
    );
  }

  Helpline.api = {
    get: function (path) { return request("GET", path); },
    post: function (path, body) { return request("POST", path, body); },
    /** Number of API requests currently in flight. */
    pending: function () { return pending; },

    session: function () { return request("GET", "/api/session"); },
    login: function (username, password) {
      return request("POST", "/api/login", { username: username, password: password });
    },
    logout: function () {
      return request("POST", "/api/logout", {}).then(function () {
        csrfToken = null;
        goToLogin();
      });
    },
    conversationPath: function (id) {
      return "/api/conversations/" + encodeURIComponent(String(id));
    }
  };

  /**
   * Call refresh() every intervalMs. A tick is skipped while any API request
   * is in flight; the next tick is only scheduled once the previous refresh
   * has finished, so refreshes never overlap. Returns {stop: fn}.
   */
  Helpline.poll = function (refresh, intervalMs) {
    var timer = null;
    var stopped = false;
    function schedule() {
      if (!stopped) timer = window.setTimeout(tick, intervalMs);
    }
    function tick() {
      timer = null;
      if (stopped) return;
      if (pending > 0) { schedule(); return; }
      Promise.resolve()
        .then(refresh)
        .catch(function () { /* refresh() reports its own errors */ })
        .then(schedule);
    }
    schedule();
    return {
      stop: function () {
        stopped = true;
        if (timer !== null) window.clearTimeout(timer);
      }
    };
  };

  var CHANNELS = { sms: "SMS", webchat: "Web chat", email: "Email" };
  var STATUSES = { waiting: "Waiting", active: "Active", closed: "Closed" };

  var timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  var dateTimeFormat = new Intl.DateTimeFormat(undefined, {
    day: "numeric", month: "short", hour: "2-digit", minute: "2-digit"
  });
  var fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });

  function parseDate(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? null : d;
  }

  Helpline.ui = {
    channelLabel: function (channel) {
      return Object.prototype.hasOwnProperty.call(CHANNELS, channel) ? CHANNELS[channel] : String(channel);
    },
    statusLabel: function (status) {
      return Object.prototype.hasOwnProperty.call(STATUSES, status) ? STATUSES[status] : String(status);
    },

    /** "under 1 min", "3 min", "2 h 5 min", "1 d 4 h" since iso (UTC). */
    waitingFor: function (iso, now) {
      var d = parseDate(iso);
      if (!d) return "unknown";
      var minutes = Math.max(0, Math.floor(((now || Date.now()) - d.getTime()) / 60000));
      if (minutes < 1) return "under 1 min";
      if (minutes < 60) return minutes + " min";
      var hours = Math.floor(minutes / 60);
      if (hours < 24) return hours + " h " + (minutes % 60) + " min";
      return Math.floor(hours / 24) + " d " + (hours % 24) + " h";
    },

    /** A <time datetime> element showing a local time (date too if not today). */
    timeElement: function (iso, text) {
      var el = document.createElement("time");
      var d = parseDate(iso);
      if (!d) {
        el.textContent = text || "";
        return el;
      }
      el.dateTime = d.toISOString();
      el.title = fullFormat.format(d);
      if (text !== undefined) {
        el.textContent = text;
      } else {
        var sameDay = d.toDateString() === new Date().toDateString();
        el.textContent = (sameDay ? timeFormat : dateTimeFormat).format(d);
      }
      return el;
    },

    /** Show an error's message in an alert element (ignored while redirecting). */
    showError: function (el, err) {
      if (err && err.redirecting) return;
      var message = err && err.message ? err.message : String(err || "Something went wrong.");
      el.textContent = message;
    },
    clear: function (el) {
      el.textContent = "";
    },
    /** Set textContent only when it changed (avoids repeated screen-reader announcements). */
    setText: function (el, text) {
      if (el.textContent !== text) el.textContent = text;
    },

    /** Fill the page header (user + role) and wire up the Sign out button. */
    initHeader: function (session, errorEl) {
      var user = (session && session.user) || {};
      var nameEl = document.getElementById("user-name");
      var roleEl = document.getElementById("user-role");
      if (nameEl) nameEl.textContent = user.username || "";
      if (roleEl) roleEl.textContent = user.role ? "(" + user.role + ")" : "";
      var button = document.getElementById("sign-out");
      if (!button) return;
      button.disabled = false;
      button.addEventListener("click", function () {
        button.disabled = true;
        Helpline.api.logout().catch(function (err) {
          button.disabled = false;
          if (errorEl) Helpline.ui.showError(errorEl, err);
        });
      });
    }
  };
})();
