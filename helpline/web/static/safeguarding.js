/*
 * Helpline console: safeguarding on every page.
 *
 *   Helpline.safeguarding   words for levels, states and decisions, shared by
 *                           the escalations and conversation pages.
 *
 * For supervisors and admins, on every console page:
 *   - the header's "Escalations" link shows how many escalations are open;
 *   - every escalation nobody has acknowledged yet has a banner
 *     (role="alert") saying its level and linking to it, until someone
 *     acknowledges it;
 *   - a live escalation.raised or escalation.alert (a re-alert of one still
 *     unacknowledged) puts its banner up afresh, so it is announced again,
 *     and plays a short tone made with the Web Audio API (no audio file, no
 *     network).
 * Browsers keep a page silent until the user has interacted with it: the
 * first click or key press anywhere unlocks the sound, and while it is still
 * locked the alerts offer a "Turn on alert sound" button.
 *
 * Live frames come through page.js (Helpline.page.addLive), on the page's
 * own socket; the details are fetched from GET /api/escalations.
 */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;

  var LEVELS = {
    concern: { label: "Concern", rank: 1 },
    significant_harm: { label: "Significant harm", rank: 2 },
    immediate_danger: { label: "Immediate danger", rank: 3 }
  };
  var STATES = {
    raised: "Raised — not acknowledged yet",
    acknowledged: "Acknowledged",
    decided: "Decided",
    closed: "Closed"
  };
  var DECISIONS = [
    { code: "advice_given", label: "Advice given" },
    { code: "referred", label: "Referred" },
    { code: "emergency_services", label: "Emergency services contacted" },
    { code: "no_further_action", label: "No further action" }
  ];

  function own(map, key) {
    return Object.prototype.hasOwnProperty.call(map, key);
  }

  function levelLabel(level) {
    return own(LEVELS, level) ? LEVELS[level].label : String(level || "Unknown level");
  }

  function levelRank(level) {
    return own(LEVELS, level) ? LEVELS[level].rank : 0;
  }

  /** A CSS-safe modifier for a level ("concern", "significant_harm", "immediate_danger" or "unknown"). */
  function levelClass(level) {
    return own(LEVELS, level) ? level : "unknown";
  }

  function stateLabel(state) {
    return own(STATES, state) ? STATES[state] : String(state || "Unknown");
  }

  function decisionLabel(code) {
    for (var i = 0; i < DECISIONS.length; i++) {
      if (DECISIONS[i].code === code) return DECISIONS[i].label;
    }
    return String(code || "");
  }

  function categoryLabel(code) {
    var session = H.page && H.page.session();
    var found = ui.vocab(session ? session.safeguarding_categories : []).filter(function (c) {
      return c.code === code;
    })[0];
    return found ? found.label : ui.vocab([String(code || "other")])[0].label;
  }

  function escalationPage(id) {
    return "/console/escalations#escalation-" + H.api.enc(id);
  }

  H.safeguarding = {
    LEVELS: LEVELS,
    DECISIONS: DECISIONS,
    levelLabel: levelLabel,
    levelRank: levelRank,
    levelClass: levelClass,
    stateLabel: stateLabel,
    decisionLabel: decisionLabel,
    categoryLabel: categoryLabel,
    escalationPage: escalationPage,
    playTone: function (rank) { playTone(rank); },
    EVENTS: { "escalation.raised": 1, "escalation.alert": 1, "escalation.changed": 1, "disclosure.changed": 1 }
  };

  /* ---------- the tone ---------- */

  var audio = null;

  function audioContext() {
    if (audio) return audio;
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    try { audio = new Context(); } catch (e) { audio = null; }
    return audio;
  }

  function soundLocked() {
    return !audio || audio.state !== "running";
  }

  /** Short beeps: two for a concern or significant harm, three, higher, for immediate danger. */
  function playTone(rank) {
    var ctx = audioContext();
    if (!ctx) return;
    if (ctx.state === "suspended") ctx.resume().then(syncSoundButton, function () {});
    var start = ctx.currentTime + 0.02;
    var beeps = rank >= 3 ? 3 : 2;
    var pitch = rank >= 3 ? 988 : 784;
    for (var i = 0; i < beeps; i++) {
      var at = start + i * 0.28;
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.setValueAtTime(pitch, at);
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.35, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.22);
    }
  }

  /* ---------- banners and the header count ---------- */

  var container = null;
  var soundBox = null;
  var banners = new Map(); // escalation id -> banner element
  var toAlert = new Map(); // escalation id -> level, from live frames not yet shown
  var active = false;

  function wanted() {
    var user = H.page.user();
    return H.page.isSupervisor() && !!user && !user.must_enrol_totp;
  }

  function syncSoundButton() {
    if (!soundBox) return;
    soundBox.hidden = !((banners.size || (discBanners && discBanners.size)) && soundLocked());
  }

  function unlockSound() {
    if (!active) return;
    var fresh = !audio;
    var ctx = audioContext();
    if (!ctx) return;
    if (fresh) ctx.addEventListener("statechange", syncSoundButton);
    if (ctx.state === "suspended") ctx.resume().then(syncSoundButton, function () {});
    else syncSoundButton();
  }

  function ensureContainer() {
    if (container) return container;
    container = ui.$("safeguarding-alerts");
    if (!container) {
      container = ui.el("div", { id: "safeguarding-alerts", class: "sg-alerts" });
      var main = ui.$("main");
      if (!main) return null;
      main.parentNode.insertBefore(container, main);
    }
    var button = ui.el("button", { type: "button", class: "button-secondary button-small", text: "Turn on alert sound" });
    button.addEventListener("click", function () {
      var ctx = audioContext();
      if (!ctx) return;
      ctx.resume().then(function () {
        playTone(1);
        syncSoundButton();
      }, function () {});
    });
    soundBox = ui.el("p", { class: "sg-sound", hidden: true }, [
      "Your browser keeps this page silent until you use it. ", button
    ]);
    container.appendChild(soundBox);
    return container;
  }

  function bannerFor(esc, alerted) {
    var level = levelLabel(esc.level);
    var again = Number(esc.alerts) > 1;
    var title = ui.el("p", { class: "sg-alert-title" }, [
      ui.el("strong", { text: "Safeguarding alert: " + level }),
      " — " + categoryLabel(esc.category) + ", raised by ",
      ui.el("bdi", { text: esc.raised_by ? String(esc.raised_by) : "a volunteer" }),
      " at ", ui.timeElement(esc.raised_at), "."
    ]);
    var state = again
      ? "Still not acknowledged: alerted again (alert " + Number(esc.alerts) + ")" +
        (esc.oncall_notified ? ", and the on-call supervisor has been notified." : ".")
      : "Not acknowledged yet" + (esc.oncall_notified ? "; the on-call supervisor has been notified." : ".");
    return ui.el("div", {
      class: "sg-alert sg-alert--" + levelClass(esc.level),
      role: "alert",
      "data-escalation-id": String(esc.id),
      "data-alerts": String(Number(esc.alerts) || 1),
      "data-alerted": alerted ? "live" : "page"
    }, [
      title,
      ui.el("p", { class: "sg-alert-state", text: state }),
      ui.el("p", { class: "sg-alert-link" }, ui.el("a", {
        href: escalationPage(esc.id),
        text: "Open this escalation"
      }))
    ]);
  }

  function renderCount(list) {
    var count = ui.$("escalation-count");
    if (!count) return;
    var n = list === null ? null : list.length;
    ui.setText(count, n === null ? "?" : String(n));
    count.className = "count-badge" + (n ? " count-badge--open" : "");
    var label = ui.$("escalation-count-label");
    if (label) ui.setText(label, n === 1 ? " open escalation" : " open escalations");
  }

  function render(list) {
    var box = ensureContainer();
    if (!box) return;
    var raised = list.filter(function (e) { return e && e.state === "raised"; });
    var keep = new Set(raised.map(function (e) { return String(e.id); }));
    banners.forEach(function (node, id) {
      if (!keep.has(id)) {
        node.remove();
        banners.delete(id);
      }
    });
    var loudest = 0;
    var next = soundBox; // banners stay in the server's order (most urgent first), before the sound button
    for (var i = raised.length - 1; i >= 0; i--) {
      var esc = raised[i];
      var id = String(esc.id);
      var existing = banners.get(id);
      var alerted = toAlert.has(id);
      if (existing && !alerted) {
        next = existing;
        continue;
      }
      // A new banner, or a re-alert: a fresh element is announced again by screen readers.
      var node = bannerFor(esc, alerted);
      if (existing) existing.replaceWith(node);
      else box.insertBefore(node, next);
      banners.set(id, node);
      next = node;
      if (alerted) loudest = Math.max(loudest, levelRank(esc.level) || 1);
    }
    // Frames about escalations no longer waiting (acknowledged meanwhile) ring nothing.
    toAlert.clear();
    if (loudest) playTone(loudest);
    syncSoundButton();
  }

  var reload = ui.serial(function () {
    if (!wanted()) return null;
    active = true;
    var disclosures = H.api.get("/api/disclosures").then(function (data) {
      return Array.isArray(data.disclosures) ? data.disclosures : [];
    }, function () { return null; });
    return Promise.all([H.api.get("/api/escalations"), disclosures]).then(function (answers) {
      var list = Array.isArray(answers[0].escalations) ? answers[0].escalations : [];
      renderCount(list);
      render(list);
      if (answers[1] !== null) renderDisclosures(answers[1]);
    }, function (err) {
      renderCount(null);
      // Alerts that could not be fetched must still be heard: ring, and try again on the next event.
      if (toAlert.size) {
        var loudest = 0;
        toAlert.forEach(function (level) { loudest = Math.max(loudest, levelRank(level) || 1); });
        toAlert.clear();
        playTone(loudest);
      }
      throw err;
    });
  });

  /* ---------- disclosure requests waiting for a second supervisor ---------- */

  var discBanners = new Map(); // disclosure id -> banner element
  var discToAlert = new Set(); // disclosure ids requested live, not yet shown

  function disclosureBanner(d, alerted) {
    var waited = ui.el("span", { class: "sg-waited", text: ui.waitingFor(d.requested_at) });
    return ui.el("div", {
      class: "sg-alert sg-alert--immediate_danger",
      role: "alert",
      "data-disclosure-id": String(d.id),
      "data-alerted": alerted ? "live" : "page"
    }, [
      ui.el("p", { class: "sg-alert-title" }, [
        ui.el("strong", { text: "Disclosure request: a second supervisor is needed now" }),
        " — asked by ", ui.el("bdi", { text: d.requested_by ? String(d.requested_by) : "a supervisor" }),
        " at ", ui.timeElement(d.requested_at), "; waiting ", waited, "."
      ]),
      ui.el("p", { class: "sg-alert-link" }, ui.el("a", {
        href: "/console/escalations#disclosure-" + H.api.enc(d.id),
        text: "Review this request"
      }))
    ]);
  }

  function renderDisclosures(list) {
    var box = ensureContainer();
    if (!box) return;
    var me = H.page.username();
    var waiting = list.filter(function (d) { return d && d.state === "requested" && d.requested_by !== me; });
    var keep = new Set(waiting.map(function (d) { return String(d.id); }));
    discBanners.forEach(function (node, id) {
      if (!keep.has(id)) {
        node.remove();
        discBanners.delete(id);
      }
    });
    var ring = false;
    waiting.forEach(function (d) {
      var id = String(d.id);
      var existing = discBanners.get(id);
      var alerted = discToAlert.has(id);
      if (existing && !alerted) {
        existing.querySelector(".sg-waited").textContent = ui.waitingFor(d.requested_at);
        return;
      }
      var node = disclosureBanner(d, alerted);
      if (existing) existing.replaceWith(node);
      else box.insertBefore(node, box.firstChild);
      discBanners.set(id, node);
      if (alerted) ring = true;
    });
    discToAlert.clear();
    if (ring) playTone(3); // as loud as an immediate-danger flag
    syncSoundButton();
  }

  function apply(frames) {
    if (!wanted()) return;
    var relevant = false;
    frames.forEach(function (frame) {
      if (frame.event === "disclosure.changed" && frame.state === "requested" && frame.disclosure_id) {
        discToAlert.add(String(frame.disclosure_id));
      }
      if (!own(H.safeguarding.EVENTS, frame.event)) return;
      relevant = true;
      if ((frame.event === "escalation.raised" || frame.event === "escalation.alert") && frame.escalation_id) {
        toAlert.set(String(frame.escalation_id), frame.level);
      }
    });
    if (relevant) reload().catch(function () { /* the count shows "?" */ });
  }

  H.page.addLive({ reload: reload, apply: apply, wanted: wanted });
  ["pointerdown", "keydown"].forEach(function (name) {
    document.addEventListener(name, unlockSound, { capture: true, passive: true });
  });
  document.addEventListener("helpline:session-ended", function () {
    active = false;
    banners.forEach(function (node) { node.remove(); });
    banners.clear();
    discBanners.forEach(function (node) { node.remove(); });
    discBanners.clear();
    syncSoundButton();
  });
})();
