/*
 * Helpline console: what every signed-in page does.
 *
 *   Helpline.page.start(init)   fetch the session (a 401 goes to sign-in; an
 *                               account that must enrol a second factor goes
 *                               to /console/totp), fill the header, then call
 *                               init(session).
 *   Helpline.page.live(opts)    start live updates (live.js) and show their
 *                               state in the header.
 *   Helpline.page.addLive(part) let a part shared by every page (the
 *                               safeguarding alerts) ride on the page's live
 *                               updates: part = {reload, apply, wanted}. Its
 *                               reload runs with the page's, its apply sees
 *                               every frame; when the page itself starts no
 *                               live updates and part.wanted() is true, one
 *                               socket is opened for the parts alone.
 *
 * The header holds: who is signed in, links for the role, the availability
 * switch (available / away / offline), the live-update state and Sign out.
 */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var RETRY_MS = 5000;

  var LIVE_TEXT = {
    connecting: "Connecting…",
    syncing: "Updating…",
    live: "Live",
    reconnecting: "Reconnecting…",
    stopped: "Not updating"
  };

  var current = null;
  var baseTitle = document.title;
  var unreadCount = 0;
  var parts = []; // shared parts riding on the live updates (see addLive)
  var pageLive = false; // the page started its own live updates
  var partsOnly = null; // the connection opened for the parts alone

  /** The user's roles: held explicitly, none implies another (an admin alone reads no conversation). */
  function roles(user) {
    return user && Array.isArray(user.roles) ? user.roles : [];
  }

  function holdsAny(user, wanted) {
    var held = roles(user);
    return wanted.split(/\s+/).some(function (role) { return held.indexOf(role) >= 0; });
  }

  function renderAvailability(user) {
    var group = ui.$("availability");
    // An admin alone answers no one, so has no availability to set.
    if (!group || !holdsAny(user, "volunteer supervisor")) return;
    group.hidden = false;
    Array.prototype.forEach.call(group.querySelectorAll("button[data-value]"), function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-value") === user.availability));
    });
  }

  function setUser(user) {
    if (!current || !user) return;
    current.user = user;
    renderAvailability(user);
    document.dispatchEvent(new CustomEvent("helpline:user", { detail: user }));
  }

  function initAvailability(errorBox) {
    var group = ui.$("availability");
    if (!group) return;
    Array.prototype.forEach.call(group.querySelectorAll("button[data-value]"), function (button) {
      button.addEventListener("click", function () {
        var value = button.getAttribute("data-value");
        if (ui.isBusy(button) || (current.user && current.user.availability === value)) return;
        button.setAttribute("aria-disabled", "true");
        if (errorBox) ui.clear(errorBox);
        H.api.post("/api/me/availability", { availability: value }).then(function (data) {
          setUser(data.user || Object.assign({}, current.user, { availability: value }));
        }, function (err) {
          if (errorBox) ui.showError(errorBox, err);
        }).then(function () {
          button.removeAttribute("aria-disabled");
        });
      });
    });
  }

  function initHeader(session, errorBox) {
    var user = session.user || {};
    var nameEl = ui.$("user-name");
    var roleEl = ui.$("user-role");
    if (nameEl) nameEl.textContent = user.username || "";
    if (roleEl) roleEl.textContent = roles(user).length ? "(" + roles(user).join(" and ") + ")" : "";
    // A link shows for an account holding any of the roles its data-roles names.
    Array.prototype.forEach.call(document.querySelectorAll("[data-roles]"), function (node) {
      node.hidden = !holdsAny(user, node.getAttribute("data-roles"));
    });
    // Until a required second factor is set up, nothing else can be used.
    var enrolling = !!user.must_enrol_totp;
    var nav = document.querySelector(".site-nav");
    if (nav) nav.hidden = enrolling;
    if (!enrolling) {
      renderAvailability(user);
      initAvailability(errorBox);
    }

    var button = ui.$("sign-out");
    if (button) {
      button.disabled = false;
      button.addEventListener("click", function () {
        if (ui.isBusy(button)) return;
        // Signing out while holding conversations asks first: they go back to the queue.
        H.api.get("/api/queue").then(function (data) {
          var held = typeof data.holding === "number" ? data.holding : 0;
          if (held > 0) askSignOut(held, button, errorBox);
          else signOut(button, errorBox);
        }, function () { signOut(button, errorBox); });
      });
    }
  }

  function signOut(button, errorBox) {
    var restore = ui.busy(button, "Signing out…");
    H.api.logout().catch(function (err) {
      restore();
      if (err.status === 401) window.location.assign("/login");
      else if (errorBox) ui.showError(errorBox, err);
    });
  }

  function askSignOut(held, button, errorBox) {
    var box = ui.$("sign-out-confirm");
    if (!box) return signOut(button, errorBox);
    ui.setText(ui.$("sign-out-question"), held === 1
      ? "You are holding 1 conversation. If you sign out, it goes back to the front of the queue with its notes."
      : "You are holding " + held + " conversations. If you sign out, they go back to the front of the queue with their notes.");
    if (!box.getAttribute("data-ready")) {
      box.setAttribute("data-ready", "1");
      ui.$("sign-out-return").addEventListener("click", function () {
        box.hidden = true;
        signOut(button, errorBox);
      });
      ui.$("sign-out-stay").addEventListener("click", function () {
        box.hidden = true;
        button.focus();
      });
    }
    box.hidden = false;
    ui.$("sign-out-return").focus();
  }

  function applyTitle() {
    document.title = (unreadCount ? "(" + unreadCount + " new) " : "") + baseTitle;
  }

  document.addEventListener("helpline:session-ended", function () {
    var banner = ui.$("session-ended");
    if (!banner) return;
    var link = ui.$("session-ended-link");
    if (link) link.setAttribute("href", H.api.loginUrl());
    banner.hidden = false;
    var status = ui.$("live-status");
    if (status) status.textContent = "";
  });

  function start(init, options) {
    var errorBox = ui.$("page-error");
    var allowEnrol = options && options.enrolPage;
    H.api.session().then(function (session) {
      if (session.user && session.user.must_enrol_totp && !allowEnrol) {
        window.location.replace("/console/totp");
        return;
      }
      current = session;
      ui.setLocale(session.locale, session.timezone);
      H.api.started();
      if (errorBox) ui.clear(errorBox);
      initHeader(session, errorBox);
      var result = init(session);
      // Pages that start live updates do so while init runs (or before its promise settles).
      Promise.resolve(result).then(liveForParts, liveForParts);
      return result;
    }, function (err) {
      if (err.redirecting) return;
      if (errorBox) ui.showError(errorBox, err);
      window.setTimeout(function () { start(init, options); }, RETRY_MS);
    });
  }

  function startLive(opts) {
    var statusEl = ui.$("live-status");
    return H.live.start({
      reload: function () {
        var own = Promise.resolve().then(opts.reload);
        // A shared part that cannot load says so itself; it never holds the page back.
        parts.forEach(function (part) {
          Promise.resolve().then(part.reload).catch(function () { /* shown by the part */ });
        });
        return own;
      },
      apply: function (frames) {
        parts.forEach(function (part) {
          try { part.apply(frames); } catch (e) { /* the part reloads on its next event */ }
        });
        opts.apply(frames);
      },
      onState: function (state) {
        if (!statusEl) return;
        statusEl.className = "live-status live-status--" + state;
        // Only changes worth telling a screen-reader user are put into words.
        ui.setText(statusEl, H.api.hasEnded() ? "" : (LIVE_TEXT[state] || ""));
      }
    });
  }

  function live(opts) {
    pageLive = true;
    if (partsOnly) {
      partsOnly.stop();
      partsOnly = null;
    }
    return startLive(opts);
  }

  function liveForParts() {
    if (pageLive || partsOnly || H.api.hasEnded()) return;
    if (!parts.some(function (part) { return part.wanted(); })) return;
    partsOnly = startLive({ reload: function () { return null; }, apply: function () {} });
  }

  function addLive(part) {
    parts.push(part);
  }

  H.page = {
    start: start,
    live: live,
    addLive: addLive,
    session: function () { return current; },
    user: function () { return current ? current.user : null; },
    username: function () { return current && current.user ? current.user.username : null; },
    isSupervisor: function () { return !!current && holdsAny(current.user, "supervisor"); },
    isAdmin: function () { return !!current && holdsAny(current.user, "admin"); },
    readsConversations: function () { return !!current && holdsAny(current.user, "volunteer supervisor"); },
    setUser: setUser,
    /** The page's own title; a count of new contact messages is put in front of it. */
    title: function (text) {
      baseTitle = String(text);
      applyTitle();
    },
    unread: function (count) {
      unreadCount = Number(count) || 0;
      applyTitle();
    }
  };
})();
