/* Web chat: the socket, the transcript and quick exit.
 *
 * The session token lives in this tab's sessionStorage and nowhere else: never a cookie, never a URL.
 * No notifications, no sounds, no title changes, no requests to anyone but the helpline.
 * Message text is only ever set with textContent.
 */
"use strict";

(function () {
  var KEY = "helpline-chat";
  var body = document.body;
  var cfg = {
    wsPath: body.getAttribute("data-ws") || "/chat/ws",
    exitUrl: body.getAttribute("data-exit-url") || "about:blank",
    maxChars: parseInt(body.getAttribute("data-max-chars"), 10) || 2000,
    heartbeat: parseFloat(body.getAttribute("data-heartbeat")) || 25,
    embedded: body.getAttribute("data-embedded") === "true" && window.parent !== window,
    state: body.getAttribute("data-state") || "new"
  };
  document.documentElement.classList.add("js");

  function $(id) { return document.getElementById(id); }

  var els = {
    status: $("chat-status"),
    closed: $("closed"),
    transcript: $("transcript"),
    messages: $("messages"),
    typing: $("typing"),
    idle: $("idle-warning"),
    stillHere: $("still-here"),
    error: $("send-error"),
    form: $("send-form"),
    textarea: $("message"),
    hint: $("message-hint"),
    actions: document.querySelector(".chat-actions"),
    endForm: $("end-form"),
    ended: $("ended"),
    endedText: $("ended-text"),
    newChat: $("new-chat-form"),
    exitButton: $("exit-button")
  };
  if (!els.form || !els.messages) return;

  var connection = document.createElement("p");
  connection.className = "hint";
  connection.setAttribute("role", "status");
  els.status.parentNode.insertBefore(connection, els.status.nextSibling);

  /* ---------- storage: the token only ---------- */

  var memoryToken = null;
  function readToken() {
    try { return window.sessionStorage.getItem(KEY); } catch (e) { return memoryToken; }
  }
  function writeToken(value) {
    memoryToken = value;
    try { window.sessionStorage.setItem(KEY, value); } catch (e) { /* storage blocked: keep it in memory */ }
  }
  function clearStorage() {
    memoryToken = null;
    try { window.sessionStorage.removeItem(KEY); window.sessionStorage.clear(); } catch (e) { /* nothing stored */ }
  }

  var token = readToken();
  // A page the server rendered for a form post carries the token in hidden fields: adopt it, then
  // take it out of the page.
  Array.prototype.forEach.call(document.querySelectorAll('input[name="token"]'), function (input) {
    if (!token && input.value) token = input.value;
    input.value = "";
  });
  if (token) writeToken(token);

  /* ---------- state ---------- */

  var socket = null;
  var lastSeq = 0;
  var seen = Object.create(null);
  var pending = [];
  var ended = false;
  var exiting = false;
  var attempts = 0;
  var reconnectTimer = null;
  var lastFrameAt = 0;
  var typingActive = false;
  var typingTimer = null;
  var lastTypingSent = 0;

  Array.prototype.forEach.call(els.messages.querySelectorAll("li[data-seq]"), function (li) {
    var seq = parseInt(li.getAttribute("data-seq"), 10);
    if (seq > 0) { seen[seq] = true; if (seq > lastSeq) lastSeq = seq; }
  });

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += ("0" + bytes[i].toString(16)).slice(-2);
    return out;
  }

  function setText(el, text) { if (el && el.textContent !== text) el.textContent = text; }
  function setError(text) { setText(els.error, text || ""); }

  /* ---------- the transcript ---------- */

  var WHO = { you: "You", volunteer: "Volunteer", helpline: "Automatic message" };

  function timeText(iso) {
    var when = new Date(iso);
    if (isNaN(when.getTime())) return "";
    return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function messageElement(sender, text, iso) {
    var li = document.createElement("li");
    li.className = "message message--" + (WHO[sender] ? sender : "helpline");
    var meta = document.createElement("p");
    meta.className = "message-meta";
    var who = document.createElement("span");
    who.className = "message-who";
    who.textContent = WHO[sender] || "Helpline";
    meta.appendChild(who);
    if (iso) {
      var time = document.createElement("time");
      time.setAttribute("datetime", iso);
      time.textContent = timeText(iso);
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(time);
    }
    var p = document.createElement("p");
    p.className = "message-body";
    p.dir = "auto";
    p.textContent = String(text);
    li.appendChild(meta);
    li.appendChild(p);
    return li;
  }

  function scrollToEnd() { els.transcript.scrollTop = els.transcript.scrollHeight; }

  function addMessage(frame) {
    var seq = Number(frame.seq);
    if (!(seq > 0) || seen[seq]) return;
    seen[seq] = true;
    if (seq > lastSeq) lastSeq = seq;
    var li = messageElement(frame.from, frame.body, frame.at);
    li.setAttribute("data-seq", String(seq));
    // Keep sequence order; pending messages (not yet stored) stay after every stored one.
    var before = null;
    var items = els.messages.children;
    for (var i = 0; i < items.length; i++) {
      var other = items[i];
      var otherSeq = parseInt(other.getAttribute("data-seq"), 10);
      if (!otherSeq || otherSeq > seq) { before = other; break; }
    }
    els.messages.insertBefore(li, before);
    els.transcript.hidden = false;
    if (frame.from !== "you") { hideIdleWarning(); els.typing.hidden = true; }
    scrollToEnd();
  }

  function clearTranscript() {
    while (els.messages.firstChild) els.messages.removeChild(els.messages.firstChild);
    seen = Object.create(null);
    lastSeq = 0;
  }

  /* ---------- sending ---------- */

  function sendFrame(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function submitMessage() {
    var text = els.textarea.value;
    if (!text.trim()) { setError("Write a message before sending."); els.textarea.focus(); return; }
    if (text.length > cfg.maxChars) {
      setError("Your message is too long: it can be up to " + cfg.maxChars + " characters. Please shorten it.");
      els.textarea.focus();
      return;
    }
    setError("");
    var li = messageElement("you", text, null);
    li.classList.add("message--pending");
    var note = document.createElement("p");
    note.className = "message-meta";
    note.textContent = "Sending…";
    li.appendChild(note);
    els.messages.appendChild(li);
    els.transcript.hidden = false;
    scrollToEnd();
    var item = { id: randomId(), body: text, li: li };
    pending.push(item);
    els.textarea.value = "";
    updateHint();
    stopTyping();
    hideIdleWarning();
    sendFrame({ type: "message", id: item.id, body: text });
  }

  function takePending(ref) {
    for (var i = 0; i < pending.length; i++) {
      if (pending[i].id === ref) return pending.splice(i, 1)[0];
    }
    return null;
  }

  function acknowledged(frame) {
    var item = takePending(frame.ref);
    if (!item) return;
    if (frame.dropped) {
      item.li.classList.remove("message--pending");
      if (item.li.lastChild) item.li.removeChild(item.li.lastChild);
    } else {
      // The stored copy has already arrived as a message frame.
      item.li.remove();
    }
  }

  function refused(frame) {
    var message = String(frame.message || "That could not be sent.");
    if (frame.retry_after) message += " You can send again in about " + frame.retry_after + " seconds.";
    setError(message);
    var item = frame.ref ? takePending(frame.ref) : null;
    if (item) {
      item.li.remove();
      // Nothing the contact wrote is lost: it goes back into the box.
      if (!els.textarea.value) { els.textarea.value = item.body; updateHint(); }
    }
    if (frame.code === "closed") showClosed(frame.message);
  }

  function updateHint() {
    var left = cfg.maxChars - els.textarea.value.length;
    if (left < 200) setText(els.hint, left >= 0 ? left + " characters left." : "Too long by " + (-left) + " characters.");
    else setText(els.hint, "Up to " + cfg.maxChars + " characters.");
  }

  function stopTyping() {
    if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; }
    if (typingActive) { typingActive = false; sendFrame({ type: "typing", active: false }); }
  }

  function typed() {
    updateHint();
    var now = Date.now();
    if (!typingActive || now - lastTypingSent > 3000) {
      if (els.textarea.value && sendFrame({ type: "typing", active: true })) {
        typingActive = true;
        lastTypingSent = now;
      }
    }
    if (typingTimer) clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 4000);
  }

  /* ---------- states ---------- */

  function showChat() {
    els.closed.hidden = true;
    els.ended.hidden = true;
    els.form.hidden = false;
    els.actions.hidden = false;
  }

  function showClosed(message) {
    if (message) setText($("closed-message"), message);
    els.closed.hidden = false;
    els.form.hidden = true;
    els.actions.hidden = true;
  }

  function showEnded(reason, text) {
    ended = true;
    token = null;
    clearStorage();
    pending = [];
    hideIdleWarning();
    els.typing.hidden = true;
    setText(els.status, "");
    setText(connection, "");
    if (reason !== "volunteer") { clearTranscript(); els.transcript.hidden = true; }
    els.form.hidden = true;
    els.actions.hidden = true;
    setText(els.endedText, text || "This chat has ended.");
    els.ended.hidden = false;
    if (socket) { var s = socket; socket = null; try { s.close(1000); } catch (e) { /* already closing */ } }
  }

  function showIdleWarning() {
    els.idle.hidden = false;
    els.stillHere.focus();
  }

  function hideIdleWarning() { els.idle.hidden = true; }

  /* ---------- the socket ---------- */

  function handle(frame) {
    switch (frame.type) {
      case "session":
        token = String(frame.token);
        writeToken(token);
        break;
      case "welcome":
        if (frame.state === "closed") {
          showClosed(frame.out_of_hours && frame.out_of_hours.message);
          break;
        }
        showChat();
        setText(els.status, frame.text || "");
        setText(connection, "");
        pending.forEach(function (item) { sendFrame({ type: "message", id: item.id, body: item.body }); });
        break;
      case "message": addMessage(frame); break;
      case "ack": acknowledged(frame); break;
      case "queue":
      case "status":
        setText(els.status, frame.text || "");
        break;
      case "typing": els.typing.hidden = !frame.active; break;
      case "idle_warning": showIdleWarning(); break;
      case "ended": showEnded(frame.reason, frame.text); break;
      case "error":
        if (frame.code === "bad_token" || frame.code === "ended") showEnded("ended", frame.message);
        else refused(frame);
        break;
      default: break;
    }
  }

  function connect() {
    if (exiting || ended || socket) return;
    var url = (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + cfg.wsPath;
    var ws;
    try { ws = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
    socket = ws;
    ws.onopen = function () {
      if (ws !== socket) return;
      lastFrameAt = Date.now();
      ws.send(JSON.stringify({ type: "hello", token: token || null, after: lastSeq }));
    };
    ws.onmessage = function (event) {
      if (ws !== socket) return;
      attempts = 0;
      lastFrameAt = Date.now();
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame.type === "string") handle(frame);
    };
    ws.onclose = function (event) {
      if (ws !== socket) return;
      socket = null;
      closed(event.code);
    };
  }

  function closed(code) {
    if (exiting || ended) return;
    if (code === 4401 || code === 4410) { showEnded("ended", els.error.textContent || "This chat has ended."); return; }
    if (code === 1000 && !els.closed.hidden) return;
    if (code === 1009) setError("That message was too large to send.");
    setText(connection, "Connection lost. Reconnecting…");
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (reconnectTimer || exiting || ended) return;
    var delay = attempts === 0 ? 200 : Math.min(15000, 1000 * Math.pow(2, attempts - 1));
    attempts += 1;
    reconnectTimer = setTimeout(function () { reconnectTimer = null; connect(); }, delay);
  }

  // A connection that has gone quiet for two heartbeats is dead even if the browser has not noticed.
  setInterval(function () {
    if (socket && socket.readyState === WebSocket.OPEN && Date.now() - lastFrameAt > (cfg.heartbeat * 2 + 10) * 1000) {
      var s = socket;
      socket = null;
      try { s.close(); } catch (e) { /* already gone */ }
      closed(1006);
    }
  }, 5000);

  /* ---------- quick exit ---------- */

  function quickExit() {
    if (exiting) return;
    exiting = true;
    // Blank the page at once, before anything else can be seen.
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    document.body.className = "blank";
    document.title = "";
    // End the chat on the server: on the socket, and by beacon in case the socket is not open.
    if (token) {
      sendFrame({ type: "end", reason: "quick_exit" });
      if (navigator.sendBeacon) {
        var form = new URLSearchParams();
        form.set("token", token);
        form.set("beacon", "1");
        navigator.sendBeacon("/chat/exit", form);
      }
    }
    token = null;
    clearStorage();
    if (cfg.embedded) {
      // The host page (widget.js) leaves for the exit site; this frame goes blank.
      window.parent.postMessage({ type: "helpline-exit-done" }, "*");
      window.location.replace("about:blank");
    } else {
      window.location.replace(cfg.exitUrl);
    }
  }

  els.exitButton.addEventListener("click", function (event) { event.preventDefault(); quickExit(); });

  // Shift pressed three times (with no other key between), as GOV.UK's "Exit this page" does.
  var shiftPresses = 0;
  var shiftTimer = null;
  var otherKey = false;
  document.addEventListener("keydown", function (event) {
    if (event.key === "Shift") { otherKey = false; return; }
    otherKey = true;
    shiftPresses = 0;
  }, true);
  document.addEventListener("keyup", function (event) {
    if (event.key !== "Shift" || otherKey) return;
    shiftPresses += 1;
    if (shiftTimer) clearTimeout(shiftTimer);
    shiftTimer = setTimeout(function () { shiftPresses = 0; }, 5000);
    if (shiftPresses >= 3) quickExit();
  }, true);

  if (cfg.embedded) {
    window.addEventListener("message", function (event) {
      if (event.source !== window.parent) return;
      if (event.data && event.data.type === "helpline-exit-request") quickExit();
    });
  }

  /* ---------- the page's own controls ---------- */

  els.form.addEventListener("submit", function (event) { event.preventDefault(); submitMessage(); });
  els.textarea.addEventListener("input", typed);
  els.textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); submitMessage(); }
  });
  els.stillHere.addEventListener("click", function () {
    sendFrame({ type: "still_here" });
    hideIdleWarning();
    els.textarea.focus();
  });
  els.endForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!sendFrame({ type: "end", reason: "ended" }) && token && navigator.sendBeacon) {
      var form = new URLSearchParams();
      form.set("token", token);
      navigator.sendBeacon("/chat/end", form);
      showEnded("ended", "You ended the chat.");
    }
  });
  els.newChat.addEventListener("submit", function (event) {
    event.preventDefault();
    ended = false;
    token = null;
    clearStorage();
    clearTranscript();
    setError("");
    showChat();
    els.textarea.focus();
    connect();
  });
  Array.prototype.forEach.call(document.querySelectorAll(".chat-actions form:not(#end-form)"), function (form) {
    form.hidden = true;
  });

  updateHint();
  if (cfg.state === "closed" && !token) return;
  if (cfg.state === "ended") { ended = true; return; }
  connect();
})();
