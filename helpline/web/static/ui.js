/*
 * Helpline console: DOM building and formatting shared by the pages.
 *
 * Everything shown from the API is built with createElement and textContent:
 * message text and names may be hostile. el() refuses event-handler and
 * style attributes, and links only to paths on this site.
 */
"use strict";

(function () {
  var H = (window.Helpline = window.Helpline || {});

  var CHANNELS = { sms: "SMS", webchat: "Web chat", email: "Email" };
  var STATUSES = { waiting: "Waiting", active: "Active", closed: "Closed" };
  var AVAILABILITY = { available: "Available", away: "Away", offline: "Offline" };
  var PRIORITIES = ["Routine", "Raised", "High", "Urgent"];

  var timeFormat, dateTimeFormat, fullFormat, dayFormat;

  /** Times are shown in the helpline's locale and time zone (helpline.locale, hours.timezone), not the browser's. */
  function setLocale(locale, timeZone) {
    var base = {};
    if (timeZone) base.timeZone = timeZone;
    var tag = locale || undefined;
    try {
      new Intl.DateTimeFormat(tag, base);
    } catch (e) {
      tag = undefined;
      base = {};
    }
    timeFormat = new Intl.DateTimeFormat(tag, Object.assign({ hour: "2-digit", minute: "2-digit" }, base));
    dateTimeFormat = new Intl.DateTimeFormat(tag, Object.assign({
      day: "numeric", month: "short", hour: "2-digit", minute: "2-digit"
    }, base));
    fullFormat = new Intl.DateTimeFormat(tag, Object.assign({ dateStyle: "full", timeStyle: "medium" }, base));
    dayFormat = new Intl.DateTimeFormat("en-CA", Object.assign({ year: "numeric", month: "2-digit", day: "2-digit" }, base));
  }
  setLocale(undefined, undefined);

  function own(map, key) {
    return Object.prototype.hasOwnProperty.call(map, key);
  }

  function parseDate(iso) {
    if (!iso) return null;
    var d = new Date(iso);
    return isNaN(d.getTime()) ? null : d;
  }

  function isLocalPath(value) {
    return typeof value === "string" && value.charAt(0) === "/" && value.charAt(1) !== "/" && value.charAt(1) !== "\\";
  }

  /**
   * el("p", {class: "x", text: "hello", "aria-live": "polite"}, [child, "text"])
   * Keys: text, class, or an attribute name. on*, style and srcdoc are refused;
   * href/src must be a path on this site.
   */
  function el(tag, props, children) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (key) {
        var value = props[key];
        if (value === undefined || value === null || value === false) return;
        var lower = key.toLowerCase();
        if (lower.indexOf("on") === 0 || lower === "style" || lower === "srcdoc") {
          throw new Error("el(): refused attribute " + key);
        }
        if (key === "text") node.textContent = String(value);
        else if (key === "class") node.className = String(value);
        else if (lower === "href" || lower === "src" || lower === "action") {
          if (!isLocalPath(value)) throw new Error("el(): only local paths for " + key);
          node.setAttribute(lower, value);
        } else if (value === true) node.setAttribute(key, "");
        else node.setAttribute(key, String(value));
      });
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    if (children === undefined || children === null) return node;
    (Array.isArray(children) ? children : [children]).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /** Label of a vocabulary entry that is either "code" or {code, label}. */
  function vocab(list) {
    return (Array.isArray(list) ? list : []).map(function (item) {
      if (item && typeof item === "object") {
        return { code: String(item.code), label: String(item.label || item.code) };
      }
      var code = String(item);
      return { code: code, label: code.charAt(0).toUpperCase() + code.slice(1).replace(/_/g, " ") };
    });
  }

  H.ui = {
    el: el,
    append: append,
    setLocale: setLocale,
    vocab: vocab,
    $: function (id) { return document.getElementById(id); },

    channelLabel: function (channel) {
      return own(CHANNELS, channel) ? CHANNELS[channel] : String(channel);
    },
    statusLabel: function (status) {
      return own(STATUSES, status) ? STATUSES[status] : String(status);
    },
    availabilityLabel: function (value) {
      return own(AVAILABILITY, value) ? AVAILABILITY[value] : String(value);
    },
    priorityLabel: function (band) {
      var n = Number(band);
      if (band === null || band === undefined || isNaN(n)) return "—";
      return (PRIORITIES[n] || "Band " + n) + " (" + n + ")";
    },

    /** "under 1 min", "3 min", "2 h 5 min", "1 d 4 h" for a number of seconds. */
    duration: function (seconds) {
      var minutes = Math.max(0, Math.floor(Number(seconds) / 60));
      if (isNaN(minutes)) return "unknown";
      if (minutes < 1) return "under 1 min";
      if (minutes < 60) return minutes + " min";
      var hours = Math.floor(minutes / 60);
      if (hours < 24) return hours + " h " + (minutes % 60) + " min";
      return Math.floor(hours / 24) + " d " + (hours % 24) + " h";
    },
    waitingFor: function (iso) {
      var d = parseDate(iso);
      return d ? H.ui.duration((Date.now() - d.getTime()) / 1000) : "unknown";
    },

    /** A <time datetime> showing a local time (the date too when not today). */
    timeElement: function (iso, text) {
      var node = document.createElement("time");
      var d = parseDate(iso);
      if (!d) {
        node.textContent = text || "";
        return node;
      }
      node.dateTime = d.toISOString();
      node.title = fullFormat.format(d);
      if (text !== undefined) node.textContent = text;
      else {
        var sameDay = dayFormat.format(d) === dayFormat.format(new Date());
        node.textContent = (sameDay ? timeFormat : dateTimeFormat).format(d);
      }
      return node;
    },
    fullDate: function (iso) {
      var d = parseDate(iso);
      return d ? fullFormat.format(d) : "";
    },

    showError: function (node, err) {
      if (err && err.redirecting) return;
      node.textContent = err && err.message ? err.message : String(err || "Something went wrong.");
    },
    clear: function (node) { node.textContent = ""; },
    /** Set textContent only when it changed (avoids repeated screen-reader announcements). */
    setText: function (node, text) {
      if (node.textContent !== text) node.textContent = text;
    },
    /** Replace a button's label while it works; returns a function that restores it. */
    busy: function (button, text) {
      var before = button.textContent;
      button.setAttribute("aria-disabled", "true");
      button.textContent = text;
      return function () {
        button.removeAttribute("aria-disabled");
        button.textContent = before;
      };
    },
    isBusy: function (button) { return button.getAttribute("aria-disabled") === "true"; },

    /**
     * Wrap load() so calls never overlap: a call made while one runs waits
     * for it and then runs once more (many such calls share that one run).
     */
    serial: function (load) {
      var running = null;
      var again = null;
      function run() {
        if (running) {
          if (!again) {
            var next = function () { again = null; return run(); };
            again = running.then(next, next);
          }
          return again;
        }
        running = Promise.resolve().then(load).then(
          function (value) { running = null; return value; },
          function (err) { running = null; throw err; }
        );
        return running;
      }
      return run;
    },

    /**
     * A destructive button that asks once more in place: the first press
     * turns it into "Confirm …" plus Cancel; the second runs action().
     */
    confirmButton: function (label, confirmLabel, action) {
      var wrap = el("span", { class: "confirm-wrap" });
      var button = el("button", { type: "button", class: "button-secondary button-small", text: label });
      var yes = el("button", { type: "button", class: "button-danger button-small", text: confirmLabel, hidden: true });
      var no = el("button", { type: "button", class: "button-secondary button-small", text: "Cancel", hidden: true });
      function reset() {
        button.hidden = false;
        yes.hidden = true;
        no.hidden = true;
      }
      button.addEventListener("click", function () {
        button.hidden = true;
        yes.hidden = false;
        no.hidden = false;
        yes.focus();
      });
      no.addEventListener("click", function () {
        reset();
        button.focus();
      });
      yes.addEventListener("click", function () {
        if (H.ui.isBusy(yes)) return;
        var restore = H.ui.busy(yes, "Working…");
        Promise.resolve().then(action).then(function () {
          restore();
          reset();
        }, function () {
          restore();
          reset();
          if (button.isConnected) button.focus();
        });
      });
      append(wrap, [button, " ", yes, " ", no]);
      return wrap;
    }
  };
})();
