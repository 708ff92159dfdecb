/* Helpline console: changing one's own password (the current one, and a code when two-factor sign-in is on). */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;

  function init() {
    var form = ui.$("password-form");
    var current = ui.$("password-current");
    var fresh = ui.$("password-new");
    var code = ui.$("password-code");
    var button = ui.$("password-submit");
    var errorBox = ui.$("password-error");
    var done = ui.$("password-done");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ui.isBusy(button)) return;
      ui.clear(errorBox);
      ui.clear(done);
      if (!current.value || !fresh.value) {
        errorBox.textContent = "Give your current password and the new one.";
        (current.value ? fresh : current).focus();
        return;
      }
      var body = { current: current.value, new: fresh.value };
      if (code.value.trim()) body.totp = code.value.trim();
      var restore = ui.busy(button, "Changing…");
      H.api.post("/api/me/password", body).then(function () {
        restore();
        form.reset();
        done.textContent = "Your password is changed. Your other sessions have ended.";
      }, function (err) {
        restore();
        ui.showError(errorBox, err);
        current.focus();
      });
    });
  }

  // The page's own script (totp.js) starts the page; this part only needs the form to be there.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
