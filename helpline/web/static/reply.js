/*
 * Helpline console: the reply box and canned responses.
 *
 *   Helpline.reply.create({form, textarea, button, error, status, picker,
 *                          list, empty, send}) -> {setCanned(list), setEnabled(on), focus()}
 *
 * Typing "/code" and pressing Tab replaces it with that canned response's
 * body; a unique prefix of a code is completed the same way. Tab with
 * nothing to insert moves focus as usual, so the keyboard is never trapped.
 * The picker lists every response to insert at the caret. Ctrl+Enter sends.
 */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var SHORTCUT = /(^|\s)\/([a-z0-9][a-z0-9-]*)?$/;

  function create(opts) {
    var canned = [];
    var enabled = false;
    var sending = false;
    var caret = null; // last caret position, for inserting from the picker

    function matchAtCaret() {
      var ta = opts.textarea;
      if (ta.selectionStart !== ta.selectionEnd) return null;
      var before = ta.value.slice(0, ta.selectionStart);
      var m = SHORTCUT.exec(before);
      if (!m) return null;
      var typed = m[2] || "";
      var exact = canned.filter(function (c) { return c.code === typed; });
      var prefixed = canned.filter(function (c) { return c.code.indexOf(typed) === 0; });
      return {
        typed: typed,
        start: ta.selectionStart - typed.length - 1,
        pick: exact.length ? exact[0] : (prefixed.length === 1 && typed ? prefixed[0] : null),
        candidates: prefixed
      };
    }

    function insert(start, end, text) {
      var ta = opts.textarea;
      ta.setRangeText(text, start, end, "end");
      ta.dispatchEvent(new Event("input", { bubbles: true }));
      caret = ta.selectionEnd;
    }

    function describe() {
      var match = enabled ? matchAtCaret() : null;
      var text = "";
      if (match && canned.length) {
        if (match.pick) text = "Press Tab to insert “" + match.pick.title + "” (/" + match.pick.code + ").";
        else if (match.typed && !match.candidates.length) text = "No canned response has the code /" + match.typed + ".";
        else if (match.typed) text = "Codes: " + match.candidates.map(function (c) { return "/" + c.code; }).join(", ");
      }
      ui.setText(opts.status, text);
    }

    opts.textarea.addEventListener("keydown", function (event) {
      if (event.key === "Tab" && !event.shiftKey && !event.ctrlKey && !event.altKey && !event.metaKey) {
        var match = enabled ? matchAtCaret() : null;
        if (match && match.pick) {
          event.preventDefault();
          insert(match.start, opts.textarea.selectionStart, match.pick.body);
          ui.setText(opts.status, "Inserted “" + match.pick.title + "”.");
        }
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        submit();
      }
    });
    opts.textarea.addEventListener("input", describe);

    // Typing hints for the contact: "started" once, "stopped" after a pause or on sending.
    var typing = false;
    var typingTimer = null;
    function typed(active) {
      if (!opts.typing || typing === active) return;
      typing = active;
      opts.typing(active);
    }
    opts.textarea.addEventListener("input", function () {
      typed(opts.textarea.value.length > 0);
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typed(false); }, 4000);
    });
    ["keyup", "click", "blur"].forEach(function (name) {
      opts.textarea.addEventListener(name, function () { caret = opts.textarea.selectionEnd; });
    });

    function renderPicker() {
      opts.list.replaceChildren();
      canned.forEach(function (c) {
        var button = ui.el("button", { type: "button", class: "canned-insert button-secondary" }, [
          ui.el("span", { class: "canned-title", text: c.title }),
          ui.el("span", { class: "canned-code", text: " /" + c.code })
        ]);
        button.addEventListener("click", function () {
          if (!enabled) return;
          var ta = opts.textarea;
          var at = caret === null ? ta.value.length : Math.min(caret, ta.value.length);
          var text = (at > 0 && !/\s$/.test(ta.value.slice(0, at)) ? " " : "") + c.body;
          insert(at, at, text);
          ta.focus();
          ui.setText(opts.status, "Inserted “" + c.title + "”.");
        });
        opts.list.appendChild(ui.el("li", null, [
          button,
          ui.el("p", { class: "canned-body", dir: "auto", text: c.body })
        ]));
      });
      opts.empty.hidden = canned.length !== 0;
    }

    function submit() {
      if (sending || !enabled) return;
      clearTimeout(typingTimer);
      typed(false);
      var body = opts.textarea.value;
      ui.clear(opts.error);
      if (!body.trim()) {
        opts.error.textContent = "Write a message before sending.";
        opts.textarea.focus();
        return;
      }
      sending = true;
      opts.textarea.readOnly = true;
      var restore = ui.busy(opts.button, "Sending…");
      Promise.resolve().then(function () { return opts.send(body); }).then(function () {
        if (opts.textarea.value === body) opts.textarea.value = "";
        ui.clear(opts.status);
      }, function (err) {
        ui.showError(opts.error, err); // the text stays in the box
      }).then(function () {
        sending = false;
        opts.textarea.readOnly = false;
        restore();
        if (enabled) opts.textarea.focus();
      });
    }

    opts.form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit();
    });

    return {
      setCanned: function (list) {
        canned = (Array.isArray(list) ? list : []).filter(function (c) {
          return c && typeof c.code === "string" && typeof c.body === "string";
        }).map(function (c) {
          return { code: c.code, title: String(c.title || c.code), body: c.body };
        });
        renderPicker();
      },
      setEnabled: function (on) {
        enabled = on;
        if (opts.textarea.disabled === on) opts.textarea.disabled = !on;
        if (opts.button.disabled === on) opts.button.disabled = !on;
        opts.picker.hidden = !on;
      },
      focus: function () { opts.textarea.focus(); }
    };
  }

  H.reply = { create: create };
})();
