/* Helpline console, admin page: accounts (add, disable / enable, reset two-factor sign-in, unlock). */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var $ = ui.$;

  function create() {
    var rows = $("users-rows");
    var errorBox = $("users-error");
    var doneBox = $("users-done");
    var form = $("user-add-form");
    var nameInput = $("user-add-name");
    var roleBoxes = $("user-add-roles");
    var addButton = $("user-add-submit");
    var addError = $("user-add-error");
    var reveal = $("new-password");

    function userPath(username, action) {
      return "/api/admin/users/" + H.api.enc(username) + "/" + action;
    }

    function act(user, action, done) {
      ui.clear(errorBox);
      ui.clear(doneBox);
      return H.api.post(userPath(user.username, action), {}).then(function () {
        doneBox.textContent = done;
        $("users-heading").focus();
        return load();
      }, function (err) {
        ui.showError(errorBox, err);
        throw err;
      });
    }

    function state(user) {
      var parts = [user.disabled ? "Disabled" : "Active"];
      if (user.locked) parts.push("locked");
      parts.push(user.totp_enabled ? "two-factor on" : "two-factor off");
      if (!user.disabled && user.availability) parts.push(ui.availabilityLabel(user.availability).toLowerCase());
      return parts.join(", ");
    }

    function actions(user) {
      var me = H.page.username();
      var cell = ui.el("div", { class: "actions" });
      var name = String(user.username);
      if (user.username !== me) {
        cell.appendChild(user.disabled
          ? ui.confirmButton("Enable", "Enable " + name, function () { return act(user, "enable", name + " can sign in again."); })
          : ui.confirmButton("Disable", "Disable " + name, function () { return act(user, "disable", name + " can no longer sign in."); }));
      }
      if (user.totp_enabled) {
        cell.appendChild(ui.confirmButton("Reset 2FA", "Reset 2FA for " + name, function () {
          return act(user, "reset-totp", name + " must set up two-factor sign-in again.");
        }));
      }
      cell.appendChild(ui.confirmButton("Reset password", "Give " + name + " a new password", function () {
        ui.clear(errorBox);
        return H.api.post("/api/admin/users/" + H.api.enc(user.username) + "/reset-password", {}).then(function (data) {
          $("new-password-user").textContent = String(data.username || name);
          $("new-password-value").textContent = String(data.password || "");
          reveal.hidden = false;
          reveal.focus();
        }, function (err) {
          ui.showError(errorBox, err);
          throw err;
        });
      }));
      if (user.locked) {
        var unlock = ui.el("button", { type: "button", class: "button-secondary button-small", text: "Unlock" });
        unlock.addEventListener("click", function () {
          if (ui.isBusy(unlock)) return;
          var restore = ui.busy(unlock, "Unlocking…");
          act(user, "unlock", name + " can try to sign in again.").catch(restore);
        });
        cell.appendChild(unlock);
      }
      return ui.el("td", { class: "col-action" }, cell);
    }

    var load = ui.serial(function () {
      return H.api.get("/api/admin/users").then(function (data) {
        rows.replaceChildren();
        (Array.isArray(data.users) ? data.users : []).forEach(function (user) {
          rows.appendChild(ui.el("tr", null, [
            ui.el("th", { scope: "row" }, ui.el("bdi", { text: String(user.username) })),
            ui.el("td", { text: (Array.isArray(user.roles) ? user.roles : []).join(", ") }),
            ui.el("td", { text: state(user) }),
            actions(user)
          ]));
        });
      }, function (err) {
        ui.showError(errorBox, err);
      });
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ui.isBusy(addButton)) return;
      ui.clear(addError);
      var username = nameInput.value.trim();
      if (!username) {
        addError.textContent = "Give the new account a username.";
        nameInput.focus();
        return;
      }
      var roles = Array.prototype.map.call(roleBoxes.querySelectorAll("input:checked"), function (box) {
        return box.value;
      });
      if (!roles.length) {
        addError.textContent = "Give the new account at least one role.";
        roleBoxes.querySelector("input").focus();
        return;
      }
      var restore = ui.busy(addButton, "Adding…");
      H.api.post("/api/admin/users", { username: username, roles: roles }).then(function (data) {
        restore();
        nameInput.value = "";
        $("new-password-user").textContent = String(data.username || username);
        $("new-password-value").textContent = String(data.password || "");
        reveal.hidden = false;
        reveal.focus();
        load();
      }, function (err) {
        restore();
        ui.showError(addError, err);
        nameInput.focus();
      });
    });

    $("new-password-hide").addEventListener("click", function () {
      $("new-password-value").textContent = "";
      reveal.hidden = true;
      nameInput.focus();
    });

    return { load: load };
  }

  H.adminUsers = { create: create };
})();
