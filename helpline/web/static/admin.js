/* Helpline console: the admin page (accounts, canned responses, opening hours). */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;

  H.page.start(function (session) {
    if (!H.page.isAdmin()) {
      ui.$("page-error").textContent = "This page is for admins.";
      return;
    }
    // A flag raised while no supervisor is online reaches nobody without an on-call channel.
    ui.$("oncall-warning").hidden = !!session.oncall_channel;
    [["users-section", H.adminUsers], ["canned-section", H.adminCanned], ["hours-section", H.adminHours]]
      .forEach(function (part) {
        ui.$(part[0]).hidden = false;
        part[1].create().load();
      });
  });
})();
