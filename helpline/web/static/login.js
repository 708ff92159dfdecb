/*
 * Helpline console: sign-in. Two steps when the account has two-factor
 * sign-in: the password first, then (on {totp_required: true}) the code.
 * Rate limits (429, with retry_after seconds) and lock-outs (423) are shown
 * in words; the button waits out a rate limit with a countdown.
 */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var form = ui.$("login-form");
  var username = ui.$("username");
  var password = ui.$("password");
  var passwordStep = ui.$("password-step");
  var totpStep = ui.$("totp-step");
  var totp = ui.$("totp");
  var submit = ui.$("login-submit");
  var intro = ui.$("login-intro");
  var startOverBox = ui.$("start-over-box");
  var errorBox = ui.$("login-error");

  var askingCode = false;
  var working = false;
  var waitTimer = null;

  function destination() {
    var next = new URLSearchParams(window.location.search).get("next");
    return H.api.isNextPath(next) ? next : "/console";
  }

  function go(user) {
    window.location.assign(user && user.must_enrol_totp ? "/console/totp" : destination());
  }

  function setLabel() {
    submit.textContent = askingCode ? "Verify code" : "Sign in";
  }

  function showCodeStep() {
    askingCode = true;
    passwordStep.hidden = true;
    totpStep.hidden = false;
    totp.disabled = false;
    startOverBox.hidden = false;
    intro.textContent = "Two-factor sign-in is on for " + username.value + ".";
    setLabel();
    totp.value = "";
    totp.focus();
  }

  function startOver() {
    askingCode = false;
    passwordStep.hidden = false;
    totpStep.hidden = true;
    totp.disabled = true;
    totp.value = "";
    password.value = "";
    startOverBox.hidden = true;
    intro.textContent = "Sign in to answer messages.";
    ui.clear(errorBox);
    setLabel();
    username.focus();
  }

  /** Keep the button off until a rate limit has passed, counting down on it. */
  function waitOut(seconds) {
    var left = Math.max(1, Math.ceil(seconds));
    if (waitTimer !== null) window.clearInterval(waitTimer);
    submit.disabled = true;
    submit.textContent = "Wait " + left + " s";
    waitTimer = window.setInterval(function () {
      left -= 1;
      if (left > 0) {
        submit.textContent = "Wait " + left + " s";
        return;
      }
      window.clearInterval(waitTimer);
      waitTimer = null;
      submit.disabled = false;
      setLabel();
    }, 1000);
  }

  function failed(err) {
    working = false;
    submit.disabled = false;
    setLabel();
    var data = err.data || {};
    if (err.status === 401 && data.totp_required) {
      if (!askingCode) {
        showCodeStep(); // the password was right: now the code
        return;
      }
      ui.showError(errorBox, err);
      totp.value = "";
      totp.focus();
      return;
    }
    if (err.status === 401 && askingCode) {
      startOver();
      ui.showError(errorBox, err);
      return;
    }
    ui.showError(errorBox, err);
    if (err.status === 429 && Number(data.retry_after) > 0) waitOut(Number(data.retry_after));
    if (askingCode) {
      totp.value = "";
      totp.focus();
    } else {
      password.value = "";
      password.focus();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (working || submit.disabled) return;
    ui.clear(errorBox);
    if (!username.value || !password.value) {
      errorBox.textContent = "Enter your username and password.";
      (username.value ? password : username).focus();
      return;
    }
    var code = askingCode ? totp.value.replace(/\s+/g, "") : "";
    if (askingCode && !/^\d{6,8}$/.test(code)) {
      errorBox.textContent = "Enter the six-digit code from your authenticator app.";
      totp.focus();
      return;
    }
    working = true;
    submit.textContent = askingCode ? "Checking…" : "Signing in…";
    H.api.login(username.value, password.value, code).then(function (data) {
      go(data.user);
    }, failed);
  });

  ui.$("start-over").addEventListener("click", startOver);
  submit.disabled = false;

  // Already signed in? Go straight on (a 401 here is expected: no redirect on this page).
  H.api.session().then(function (session) {
    if (session && session.user) go(session.user);
  }, function () { /* not signed in */ });

  if (!username.value) username.focus();
})();
