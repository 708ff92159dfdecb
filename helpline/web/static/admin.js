/* Helpline console: the admin page (accounts, canned responses, opening hours). */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;

  H.page.start(function () {
    if (!H.page.isAdmin()) {
      ui.$("page-error").textContent = "This page is for admins.";
      return;
    }
    [["users-section", H.adminUsers], ["canned-section", H.adminCanned], ["hours-section", H.adminHours]]
      .forEach(function (part) {
        ui.$(part[0]).hidden = false;
        part[1].create().load();
      });
  });
})();
