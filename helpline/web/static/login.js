/* Helpline console: sign-in page. */
"use strict";

(function () {
  var H = window.Helpline;
  var form = document.getElementById("login-form");
  var username = document.getElementById("username");
  var password = document.getElementById("password");
  var submit = document.getElementById("login-submit");
  var errorBox = document.getElementById("login-error");

  function goToConsole() {
    window.location.assign("/console");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (submit.disabled) return;
    H.ui.clear(errorBox);
    submit.disabled = true;
    submit.textContent = "Signing in…";
    H.api.login(username.value, password.value).then(goToConsole, function (err) {
      H.ui.showError(errorBox, err);
      submit.disabled = false;
      submit.textContent = "Sign in";
      password.value = "";
      password.focus();
    });
  });

  submit.disabled = false;

  // Already signed in? Go straight to the queue (a 401 here is expected and
  // is not redirected on the login page).
  H.api.session().then(function (session) {
    if (session && session.user) goToConsole();
  }, function () { /* not signed in */ });

  if (!username.value) username.focus();
})();
