/*
 * Helpline console: two-factor sign-in enrolment. The server makes a pending
 * secret and renders its QR code as SVG; the secret is also shown as text.
 * A code from the app confirms it.
 */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var $ = ui.$;

  var state = $("totp-state");
  var startButton = $("totp-start");
  var enrol = $("totp-enrol");
  var qr = $("totp-qr");
  var secret = $("totp-secret");
  var form = $("totp-form");
  var code = $("totp-code");
  var confirm = $("totp-confirm");
  var errorBox = $("totp-error");
  var pageError = $("page-error");
  var done = $("totp-done");

  function describe(user) {
    if (user.totp_enabled) return "Two-factor sign-in is on for your account.";
    if (user.must_enrol_totp) return "Your role needs two-factor sign-in. Set it up to continue.";
    return "Two-factor sign-in is off for your account. You can turn it on.";
  }

  /** The key in groups of four, easier to read out and type. */
  function grouped(text) {
    return String(text).replace(/\s+/g, "").replace(/(.{4})(?=.)/g, "$1 ");
  }

  var proof = $("totp-proof");
  var proofError = $("totp-proof-error");
  var proofCode = $("totp-proof-code");
  var proofPassword = $("totp-proof-password");
  var proofSubmit = $("totp-proof-submit");
  var enabled = false;

  /** Start enrolment; with a second factor already on, ``given`` carries its current code or the password. */
  function begin(given, button, errors) {
    if (ui.isBusy(button)) return;
    ui.clear(pageError);
    ui.clear(errors);
    var restore = ui.busy(button, "Preparing…");
    H.api.post("/api/totp/enrol", given).then(function (data) {
      restore();
      proof.hidden = true;
      proofCode.value = "";
      proofPassword.value = "";
      var url = typeof data.qr_svg_url === "string" && data.qr_svg_url.indexOf("/api/") === 0
        ? data.qr_svg_url : "/api/totp/qr.svg";
      // A new query string per enrolment, so no earlier image is reused.
      qr.setAttribute("src", url + (url.indexOf("?") < 0 ? "?" : "&") + "n=" + Date.now());
      secret.textContent = grouped(data.secret || "");
      startButton.hidden = true;
      done.hidden = true;
      enrol.hidden = false;
      code.value = "";
      $("totp-enrol-heading").focus();
    }, function (err) {
      restore();
      ui.showError(errors, err);
    });
  }

  proof.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = proofCode.value.replace(/\s+/g, "");
    if (!value && !proofPassword.value) {
      proofError.textContent = "Enter the current code from your app, or your password.";
      proofCode.focus();
      return;
    }
    begin(value ? { code: value } : { password: proofPassword.value }, proofSubmit, proofError);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (ui.isBusy(confirm)) return;
    ui.clear(errorBox);
    var value = code.value.replace(/\s+/g, "");
    if (!/^\d{6,8}$/.test(value)) {
      errorBox.textContent = "Enter the six-digit code the app shows.";
      code.focus();
      return;
    }
    var restore = ui.busy(confirm, "Checking…");
    H.api.post("/api/totp/confirm", { code: value }).then(function (data) {
      restore();
      if (data.user) H.page.setUser(data.user);
      enrol.hidden = true;
      secret.textContent = "";
      qr.removeAttribute("src");
      done.hidden = false;
      state.textContent = describe(data.user || { totp_enabled: true });
      $("totp-done-heading").focus();
    }, function (err) {
      restore();
      ui.showError(errorBox, err);
      code.value = "";
      code.focus();
    });
  });

  startButton.addEventListener("click", function () {
    if (!enabled) {
      begin({}, startButton, pageError);
      return;
    }
    proof.hidden = false;
    $("totp-proof-heading").focus();
  });

  H.page.start(function (session) {
    var user = session.user || {};
    state.textContent = describe(user);
    enabled = !!user.totp_enabled;
    startButton.textContent = user.totp_enabled ? "Set up a new authenticator" : "Set up two-factor sign-in";
    startButton.hidden = false;
  }, { enrolPage: true });
})();
