/*
 * Helpline console: the conversations I hold, on every console page.
 *
 *   - The page title starts with "(N new)" while N contact messages wait
 *     for my answer in the conversations I hold, and the header shows a
 *     mark ("N new messages") linking to the one waiting longest.
 *   - A new contact message in one I hold plays a short tone when "Sound
 *     for new messages" is ticked. It is off by default (a shared room);
 *     the choice is kept on the server, per user.
 *   - A conversation transferred to me puts up a notice with the handover
 *     note and plays a tone.
 *   - A conversation that went back to the queue because its holder signed
 *     out or was away puts up a notice for supervisors (and for the holder).
 *
 * Every signed-in page keeps its live socket open through this part: an
 * open console is what makes someone present ("available" means present).
 * The numbers come from GET /api/queue (unread per held conversation).
 */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var RELOAD_EVENTS = {
    "message.added": 1, "conversation.claimed": 1, "conversation.transferred": 1,
    "conversation.closed": 1, "conversation.returned": 1
  };
  var REASONS = { signed_out: "signed out", away: "had no console open for too long" };

  var held = new Map(); // conversation id -> queue entry
  var lastUnread = null;
  var noticeCount = 0;

  function wanted() {
    var user = H.page.user();
    // An admin alone answers no one: no held conversations, no presence, no live socket.
    return !!user && !user.must_enrol_totp && H.page.readsConversations();
  }

  var sound = false;

  function soundOn() {
    return sound;
  }

  /** The choice is kept on the server, for this user: the console stores nothing in the browser. */
  function initSound(session) {
    var box = ui.$("message-sound");
    if (!box) return;
    sound = !!session.message_sound;
    box.checked = sound;
    box.addEventListener("change", function () {
      var wanted = box.checked;
      H.api.post("/api/me/message-sound", { on: wanted }).then(function () {
        sound = wanted;
      }, function () {
        box.checked = sound;
      });
    });
  }

  function tone() {
    if (H.safeguarding && H.safeguarding.playTone) H.safeguarding.playTone(1);
  }

  function render(list) {
    var me = H.page.username();
    held.clear();
    var total = 0;
    var first = null;
    list.forEach(function (c) {
      if (c.status !== "active" || c.assignee !== me) return;
      held.set(String(c.id), c);
      var n = Number(c.unread) || 0;
      total += n;
      if (n && !first) first = c; // the server lists the one waiting longest for an answer first
    });
    H.page.unread(total);
    var mark = ui.$("unread-mark");
    if (mark) {
      mark.hidden = total === 0;
      ui.setText(mark, total === 1 ? "1 new message" : total + " new messages");
      mark.setAttribute("href", first ? H.api.conversationPage(first.id) : "/console");
    }
    var grew = lastUnread !== null && total > lastUnread;
    lastUnread = total;
    return grew;
  }

  var reload = ui.serial(function () {
    if (!wanted()) return null;
    return H.api.get("/api/queue").then(function (data) {
      return render(Array.isArray(data.conversations) ? data.conversations : []);
    });
  });

  function notice(text, parts) {
    var box = ui.$("shift-notices");
    if (!box) return;
    noticeCount += 1;
    var dismiss = ui.el("button", { type: "button", class: "button-secondary button-small", text: "Dismiss" });
    var node = ui.el("div", { class: "shift-notice", role: "alert", "data-notice": String(noticeCount) }, [
      ui.el("p", null, [ui.el("strong", { text: text })].concat(parts || [])),
      dismiss
    ]);
    dismiss.addEventListener("click", function () { node.remove(); });
    box.appendChild(node);
  }

  function transferredToMe(id) {
    tone();
    H.api.get(H.api.conversationPath(id)).then(function (conv) {
      var parts = [" ", ui.el("a", { href: H.api.conversationPage(id), text: "Open it" })];
      if (conv.handover) {
        parts = [
          " Handover note from ", ui.el("bdi", { text: String(conv.handover.from || "a colleague") }), ": ",
          ui.el("q", { text: String(conv.handover.note || "") }), " "
        ].concat(parts.slice(1));
      }
      notice("A " + ui.channelLabel(conv.channel) + " conversation was transferred to you.", parts);
    }, function () {
      notice("A conversation was transferred to you.", [" ", ui.el("a", { href: H.api.conversationPage(id), text: "Open it" })]);
    });
  }

  function returned(frame) {
    var me = H.page.username();
    var why = REASONS[frame.reason] || "left";
    if (frame.holder === me) {
      notice("A conversation you held went back to the queue because you " + why + ".");
    } else if (H.page.isSupervisor()) {
      notice("A conversation went back to the front of the queue: ", [
        ui.el("bdi", { text: String(frame.holder || "its holder") }), " " + why + "."
      ]);
    }
  }

  function apply(frames) {
    if (!wanted()) return;
    var me = H.page.username();
    var again = false;
    var mine = false;
    frames.forEach(function (frame) {
      if (!RELOAD_EVENTS[frame.event]) return;
      again = true;
      var id = String(frame.conversation_id);
      if (frame.event === "message.added" && held.has(id)) mine = true;
      if (frame.event === "conversation.transferred" && frame.assignee === me) transferredToMe(id);
      if (frame.event === "conversation.returned") returned(frame);
    });
    if (!again) return;
    reload().then(function (grew) {
      if (mine && grew && soundOn()) tone();
    }, function () { /* the next event tries again */ });
  }

  var soundReady = false;
  var reloadHeld = reload;
  H.page.addLive({
    reload: function () {
      var session = H.page.session();
      if (!soundReady && session) {
        soundReady = true;
        initSound(session);
      }
      return reloadHeld();
    },
    apply: apply,
    wanted: wanted
  });
})();
