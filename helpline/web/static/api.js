/*
 * Helpline console: the JSON API client.
 *
 *   Helpline.api   fetch wrapper: the CSRF token is kept in memory only, JSON
 *                  errors become ApiError objects carrying the server's
 *                  sentence, status and body.
 *
 * A 401 before the page has started sends the browser to the sign-in page;
 * a 401 afterwards (the session expired while the tab was open) dispatches a
 * "helpline:session-ended" event instead, so the page can say so and keep
 * whatever the volunteer was typing.
 */
"use strict";

(function () {
  var Helpline = (window.Helpline = window.Helpline || {});

  var REQUEST_TIMEOUT_MS = 15000;
  var csrfToken = null; // memory only, never persisted
  var started = false; // set once the page has its session
  var ended = false;

  // Only console pages may be a sign-in destination (no open redirect).
  var NEXT_PATH = /^\/console(?:\/[A-Za-z0-9_-]+)*\/?$/;

  function onLoginPage() {
    return window.location.pathname === "/login";
  }

  function loginUrl() {
    var here = window.location.pathname;
    return NEXT_PATH.test(here) && here !== "/console" ? "/login?next=" + encodeURIComponent(here) : "/login";
  }

  function sessionEnded() {
    if (ended) return;
    ended = true;
    csrfToken = null;
    document.dispatchEvent(new CustomEvent("helpline:session-ended"));
  }

  function defaultMessage(status) {
    if (status === 401) return "Your session has ended. Please sign in again.";
    if (status === 403) return "You are not allowed to do that.";
    if (status === 404) return "Not found.";
    if (status === 409) return "That could not be done because something changed. Please try again.";
    if (status === 423) return "This account is locked for a while after too many failed sign-ins. An admin can unlock it sooner.";
    if (status === 429) return "Too many attempts. Please wait a moment and try again.";
    if (status >= 500) return "The server had a problem. Please try again.";
    return "Something went wrong (error " + status + "). Please try again.";
  }

  /** An Error carrying the server's sentence, the HTTP status, the request id and the JSON body. */
  function ApiError(message, status, data) {
    var err = new Error(message);
    err.name = "ApiError";
    err.status = status;
    err.data = data || {};
    err.requestId = (data && typeof data.request_id === "string") ? data.request_id : null;
    err.redirecting = false;
    return err;
  }

  function request(method, path, body) {
    var headers = { Accept: "application/json" };
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var opts = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
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
    function done() {
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
              return data || {};
            }
            var message = data && typeof data.error === "string" && data.error
              ? data.error
              : defaultMessage(response.status);
            var err = ApiError(message, response.status, data);
            if (response.status === 401 && !onLoginPage()) {
              err.redirecting = true;
              if (started) sessionEnded();
              else window.location.assign(loginUrl());
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

  function enc(value) {
    return encodeURIComponent(String(value));
  }

  Helpline.api = {
    get: function (path) { return request("GET", path); },
    post: function (path, body) { return request("POST", path, body); },

    /** Mark the page as started: from now on a 401 means the session ended under an open tab. */
    started: function () { started = true; },
    hasEnded: function () { return ended; },
    loginUrl: loginUrl,
    isNextPath: function (path) { return typeof path === "string" && NEXT_PATH.test(path); },

    session: function () { return request("GET", "/api/session"); },
    login: function (username, password, totp) {
      var body = { username: username, password: password };
      if (totp) body.totp = totp;
      return request("POST", "/api/login", body);
    },
    logout: function () {
      return request("POST", "/api/logout", {}).then(function () {
        csrfToken = null;
        window.location.assign("/login");
      });
    },

    conversationPath: function (id) { return "/api/conversations/" + enc(id); },
    conversationPage: function (id) { return "/console/conversations/" + enc(id); },
    recordPath: function (id) { return "/api/records/" + enc(id); },
    recordPage: function (id) { return "/console/records/" + enc(id); },
    enc: enc
  };
})();
