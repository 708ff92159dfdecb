/* Helpline chat widget. One tag on a host page:
 *
 *   <script src="https://helpline.example.org/widget.js" async></script>
 *
 * adds an "Exit this page" button (also Shift pressed three times) and a chat launcher. The chat itself
 * runs in an iframe served by the helpline; this script talks to no one but the helpline, sets no cookie,
 * and keeps only one flag in the host's sessionStorage: that the chat panel is open, so that it opens
 * again on the host's next page. Styles are set through the CSSOM, so a strict host CSP is no obstacle.
 */
(function () {
  "use strict";
  var config = __HELPLINE_CONFIG__;
  var FLAG = "helpline-widget-open";
  var TOP = "2147483647";
  if (document.documentElement.hasAttribute("data-helpline-widget")) return;
  document.documentElement.setAttribute("data-helpline-widget", "");

  var panel = null;
  var frame = null;
  var launcher = null;
  var exitButton = null;
  var exiting = false;

  function css(el, styles) {
    Object.keys(styles).forEach(function (name) { el.style.setProperty(name, styles[name]); });
  }

  function button(text, styles) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    css(b, {
      "min-height": "44px", "min-width": "44px", "padding": "8px 16px", "font": "inherit", "font-size": "17px",
      "font-weight": "700", "line-height": "1.25", "border-radius": "4px", "cursor": "pointer"
    });
    css(b, styles);
    return b;
  }

  function remember(open) {
    try {
      if (open) window.sessionStorage.setItem(FLAG, "1");
      else window.sessionStorage.removeItem(FLAG);
    } catch (e) { /* storage blocked: the panel just won't reopen by itself */ }
  }

  function wasOpen() {
    try { return window.sessionStorage.getItem(FLAG) === "1"; } catch (e) { return false; }
  }

  function openPanel() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = config.origin + "/chat/frame";
      frame.title = "Chat";
      frame.setAttribute("referrerpolicy", "no-referrer");
      css(frame, { "border": "0", "width": "100%", "flex": "1 1 auto", "background": "#ffffff" });
      panel.appendChild(frame);
    }
    panel.hidden = false;
    css(panel, { "display": "flex" });
    launcher.setAttribute("aria-expanded", "true");
    // On a phone the chat fills the screen: the launcher goes, and the chat's own exit button is the only one.
    if (narrow()) {
      css(launcher, { "display": "none" });
      css(exitButton, { "display": "none" });
      css(panel, { "height": "100vh" });
    }
    remember(true);
  }

  // The screen's width, not only the window's: a host page without a viewport tag is laid out 980px wide on a phone.
  function narrow() {
    return Math.min(window.innerWidth, (window.screen && window.screen.width) || window.innerWidth) <= 480;
  }

  function hidePanel() {
    css(panel, { "display": "none", "height": "min(680px, calc(100vh - 64px))" });
    panel.hidden = true;
    css(launcher, { "display": "inline-block" });
    css(exitButton, { "display": "inline-block" });
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
    remember(false);
  }

  function leave() { window.location.replace(config.exitUrl); }

  function exit() {
    if (exiting) return;
    exiting = true;
    // Blank the host page at once; the chat's frame stays alive, unseen, just long enough to end the chat.
    Array.prototype.slice.call(document.body.childNodes).forEach(function (node) {
      if (node !== panel) document.body.removeChild(node);
    });
    if (panel) css(panel, { "visibility": "hidden" });
    document.title = "";
    remember(false);
    if (frame && frame.contentWindow) {
      frame.contentWindow.postMessage({ type: "helpline-exit-request" }, config.origin);
      setTimeout(leave, 500);
    } else {
      leave();
    }
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== config.origin || !frame || event.source !== frame.contentWindow) return;
    if (event.data && event.data.type === "helpline-exit-done") {
      if (!exiting) exit();
      leave();
    }
  });

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
    if (shiftPresses >= 3) exit();
  }, true);

  function build() {
    exitButton = button("Exit this page", {
      "position": "fixed", "top": "8px", "right": "8px", "z-index": TOP,
      "color": "#ffffff", "background": "#b10e1e", "border": "2px solid #ffffff",
      "box-shadow": "0 0 0 2px #b10e1e"
    });
    exitButton.setAttribute("data-helpline", "exit");
    exitButton.addEventListener("click", exit);

    launcher = button("Chat with us", {
      "position": "fixed", "bottom": "16px", "right": "16px", "z-index": TOP,
      "color": "#ffffff", "background": "#1d70b8", "border": "2px solid #ffffff",
      "box-shadow": "0 0 0 2px #1d70b8"
    });
    launcher.setAttribute("data-helpline", "launcher");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "helpline-chat-panel");
    launcher.addEventListener("click", function () {
      // A host page the helpline does not allow to frame the chat gets it in a tab of its own instead.
      if (!config.allowed) {
        window.open(config.origin + "/chat", "_blank", "noopener,noreferrer");
        return;
      }
      if (panel.hidden) openPanel(); else hidePanel();
    });

    panel = document.createElement("section");
    panel.id = "helpline-chat-panel";
    panel.setAttribute("aria-label", "Chat");
    panel.hidden = true;
    css(panel, {
      "display": "none", "flex-direction": "column", "position": "fixed", "right": "0", "bottom": "0",
      "width": "min(420px, 100vw)", "height": "min(680px, calc(100vh - 64px))", "z-index": "2147483646",
      "background": "#ffffff", "border": "1px solid #505a5f", "box-shadow": "0 0 12px rgba(0, 0, 0, 0.3)"
    });
    var hide = button("Hide chat", {
      "align-self": "flex-end", "margin": "4px", "color": "#0b0c0c", "background": "#f3f2f1",
      "border": "2px solid #505a5f"
    });
    hide.addEventListener("click", hidePanel);
    panel.appendChild(hide);

    document.body.appendChild(panel);
    document.body.appendChild(launcher);
    document.body.appendChild(exitButton);
    if (wasOpen() && config.allowed) openPanel();
  }

  if (document.body) build();
  else document.addEventListener("DOMContentLoaded", build);
})();
