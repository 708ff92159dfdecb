/*
 * Helpline console: the transcript of a conversation.
 *
 *   Helpline.transcript.create(logEl, listEl, emptyEl) -> {render(messages), scrollToEnd()}
 *
 * Messages are keyed by id, so rendering the same list twice changes
 * nothing and a refetch after a live event only adds what is new.
 *
 * Message bodies come from the public and are hostile: they are set as text
 * only, in an element with dir="auto". Risk ranges ({category, reason,
 * weight, start, end}) are wrapped in <mark> elements; start and end index
 * the original body in UTF-16 code units, as String.prototype.slice does.
 * Each flag is also listed in words under the message, so the reason is
 * there for screen readers as well as in the tooltip.
 */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;

  var DELIVERY = {
    queued: { text: "Queued", tone: "pending" },
    sending: { text: "Sending…", tone: "pending" },
    sent: { text: "Sent", tone: "pending" },
    delivered: { text: "Delivered", tone: "ok" },
    failed: { text: "Failed", tone: "bad" },
    undelivered: { text: "Not delivered", tone: "bad" },
    unknown: { text: "Delivery status unknown", tone: "pending" }
  };

  function deliveryState(msg) {
    if (msg.direction !== "out") return null;
    if (msg.delivery_error) return { text: "Not delivered: " + msg.delivery_error, tone: "bad" };
    if (Object.prototype.hasOwnProperty.call(DELIVERY, msg.delivery)) return DELIVERY[msg.delivery];
    return { text: msg.delivery ? "Status: " + msg.delivery : "Delivery status unknown", tone: "pending" };
  }

  function categoryLabel(category) {
    var text = String(category || "risk").replace(/[_-]+/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function riskText(risk) {
    var label = categoryLabel(risk.category);
    return risk.reason ? label + ": " + String(risk.reason) : label;
  }

  /** Valid ranges, clipped to the body, sorted, overlapping ones merged. */
  function riskSpans(length, risks) {
    var spans = [];
    (Array.isArray(risks) ? risks : []).forEach(function (risk) {
      if (!risk || typeof risk !== "object") return;
      var start = Math.max(0, Math.floor(Number(risk.start)));
      var end = Math.min(length, Math.floor(Number(risk.end)));
      if (isNaN(start) || isNaN(end) || end <= start) return;
      spans.push({ start: start, end: end, risks: [risk] });
    });
    spans.sort(function (a, b) { return a.start - b.start || a.end - b.end; });
    var merged = [];
    spans.forEach(function (span) {
      var last = merged[merged.length - 1];
      if (last && span.start < last.end) {
        last.end = Math.max(last.end, span.end);
        last.risks = last.risks.concat(span.risks);
      } else {
        merged.push(span);
      }
    });
    return merged;
  }

  /** The body as text nodes and <mark> elements; its textContent is the body, unchanged. */
  function bodyNodes(body, risks) {
    var spans = riskSpans(body.length, risks);
    var nodes = [];
    var pos = 0;
    spans.forEach(function (span) {
      if (span.start > pos) nodes.push(document.createTextNode(body.slice(pos, span.start)));
      var reasons = span.risks.map(riskText).join("; ");
      var weight = Math.max.apply(null, span.risks.map(function (r) { return Number(r.weight) || 0; }));
      nodes.push(ui.el("mark", {
        class: "risk" + (weight >= 3 ? " risk--high" : ""),
        title: reasons
      }, body.slice(span.start, span.end)));
      pos = span.end;
    });
    if (pos < body.length) nodes.push(document.createTextNode(body.slice(pos)));
    return { nodes: nodes, spans: spans, body: body };
  }

  /** The meaning layer's strength (its classifier's probability, 0 to 1) in words a volunteer can weigh: never a verdict. */
  function strengthText(strength) {
    var value = Number(strength);
    if (isNaN(value)) return "strength unknown";
    var word = value >= 0.75 ? "strong" : value >= 0.65 ? "moderate" : "weak";
    return word + ", " + value.toFixed(2);
  }

  /** The risk words found in a message, and what the meaning layer found it similar in meaning to. */
  function riskList(parts, meaning) {
    var matches = (Array.isArray(meaning) ? meaning : []).filter(function (m) {
      return m && typeof m === "object" && m.prototype;
    });
    if (!parts.spans.length && !matches.length) return null;
    var list = ui.el("ul", { class: "msg-risks", "aria-label": "Risk words in this message" });
    parts.spans.forEach(function (span) {
      list.appendChild(ui.el("li", null, [
        "Risk words ",
        ui.el("q", { dir: "auto" }, parts.body.slice(span.start, span.end)),
        " — " + span.risks.map(riskText).join("; ")
      ]));
    });
    matches.forEach(function (match) {
      list.appendChild(ui.el("li", { class: "msg-meaning" + (Number(match.weight) >= 3 ? " msg-meaning--high" : "") }, [
        categoryLabel(match.category) + ": similar in meaning to ",
        ui.el("q", { dir: "auto" }, String(match.prototype)),
        " (" + strengthText(match.strength) + ")"
      ]));
    });
    return list;
  }

  function meaningKey(msg) {
    return JSON.stringify(Array.isArray(msg.meaning) ? msg.meaning : []);
  }

  function setDelivery(entry, state) {
    var key = state ? state.tone + "|" + state.text : "";
    if (entry.state === key) return;
    entry.state = key;
    entry.delivery.hidden = !state;
    entry.delivery.className = "msg-delivery" + (state ? " msg-delivery--" + state.tone : "");
    entry.delivery.textContent = state ? state.text : "";
  }

  function createMessage(msg) {
    var outgoing = msg.direction === "out";
    var system = msg.direction === "system"; // a status line from the server, never sent to anyone
    var who = outgoing ? (msg.author ? String(msg.author) : "Volunteer") : system ? "Status" : "Contact";
    var kind = outgoing ? "msg-out" : system ? "msg-system" : "msg-in";
    var li = ui.el("li", { class: "msg " + kind, "data-id": String(msg.id) });
    li.appendChild(ui.el("p", { class: "msg-meta" }, [
      ui.el("bdi", { class: "msg-who", text: who }), " · ", ui.timeElement(msg.created_at)
    ]));

    var body = ui.el("p", { class: "msg-body", dir: "auto" });
    var parts = null;
    if (msg.body === null || msg.body === undefined || msg.body === "") {
      body.classList.add("msg-body--empty");
      body.textContent = "(empty message)";
    } else {
      parts = bodyNodes(String(msg.body), msg.risk);
      ui.append(body, parts.nodes);
    }
    li.appendChild(body);

    var entry = { root: li, delivery: ui.el("p"), state: null, parts: parts, list: null, meaning: null };
    setRisks(entry, msg);
    li.appendChild(entry.delivery);
    setDelivery(entry, deliveryState(msg));
    return entry;
  }

  /** The message's risk list; redrawn when the meaning layer's reading arrives after the message. */
  function setRisks(entry, msg) {
    var key = meaningKey(msg);
    if (entry.meaning === key || !entry.parts) return;
    entry.meaning = key;
    var list = riskList(entry.parts, msg.meaning);
    if (entry.list) entry.list.remove();
    entry.list = list;
    if (list) entry.root.insertBefore(list, entry.delivery.parentNode === entry.root ? entry.delivery : null);
  }

  function create(logEl, listEl, emptyEl) {
    var entries = new Map(); // message id -> entry

    function render(messages) {
      var nearBottom = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 48;
      var added = false;
      var seen = new Set();
      (Array.isArray(messages) ? messages : []).forEach(function (msg) {
        var key = String(msg.id);
        if (seen.has(key)) return;
        seen.add(key);
        var entry = entries.get(key);
        if (entry) {
          setDelivery(entry, deliveryState(msg));
          setRisks(entry, msg);
          return;
        }
        entry = createMessage(msg);
        entries.set(key, entry);
        // Keep the order of seq even if a message arrives late.
        entry.seq = typeof msg.seq === "number" ? msg.seq : Infinity;
        var before = null;
        entries.forEach(function (other, otherKey) {
          if (otherKey !== key && other.seq > entry.seq && (before === null || other.seq < before.seq)) before = other;
        });
        listEl.insertBefore(entry.root, before ? before.root : null);
        added = true;
      });
      entries.forEach(function (entry, key) {
        if (!seen.has(key)) {
          entry.root.remove();
          entries.delete(key);
        }
      });
      emptyEl.hidden = entries.size !== 0;
      if (added && nearBottom) logEl.scrollTop = logEl.scrollHeight;
    }

    return { render: render, scrollToEnd: function () { logEl.scrollTop = logEl.scrollHeight; } };
  }

  H.transcript = { create: create, bodyNodes: bodyNodes };
})();
