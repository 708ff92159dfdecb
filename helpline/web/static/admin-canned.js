/* Helpline console, admin page: canned responses (add, edit, delete). */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var $ = ui.$;

  function create() {
    var list = $("canned-admin-list");
    var none = $("canned-none");
    var errorBox = $("canned-error");
    var doneBox = $("canned-done");
    var form = $("canned-form");
    var formHeading = $("canned-form-heading");
    var formError = $("canned-form-error");
    var code = $("canned-code");
    var title = $("canned-title");
    var body = $("canned-body");
    var submit = $("canned-submit");
    var cancel = $("canned-cancel");
    var editing = null; // id of the response being edited

    function setMode(item) {
      editing = item ? item.id : null;
      formHeading.textContent = item ? "Edit /" + item.code : "Add a canned response";
      submit.textContent = item ? "Save changes" : "Add response";
      cancel.hidden = !item;
      code.value = item ? item.code : "";
      title.value = item ? item.title : "";
      body.value = item ? item.body : "";
      ui.clear(formError);
    }

    var load = ui.serial(function () {
      return H.api.get("/api/canned").then(function (data) {
        list.replaceChildren();
        (Array.isArray(data.canned) ? data.canned : []).forEach(function (item) {
          var edit = ui.el("button", { type: "button", class: "button-secondary button-small", text: "Edit" }, [
            ui.el("span", { class: "visually-hidden", text: " /" + item.code })
          ]);
          edit.addEventListener("click", function () {
            setMode(item);
            formHeading.focus();
          });
          var remove = ui.confirmButton("Delete", "Delete /" + item.code, function () {
            ui.clear(errorBox);
            return H.api.post("/api/admin/canned/" + H.api.enc(item.id) + "/delete", {}).then(function () {
              doneBox.textContent = "Deleted /" + item.code + ".";
              if (editing === item.id) setMode(null);
              $("canned-heading").focus();
              return load();
            }, function (err) {
              ui.showError(errorBox, err);
              throw err;
            });
          });
          list.appendChild(ui.el("li", { class: "panel" }, [
            ui.el("p", { class: "canned-admin-head" }, [
              ui.el("code", { text: "/" + item.code }), " ", ui.el("strong", { dir: "auto", text: String(item.title) })
            ]),
            ui.el("p", { class: "canned-body", dir: "auto", text: String(item.body) }),
            ui.el("p", { class: "actions" }, [edit, " ", remove])
          ]));
        });
        none.hidden = !!list.firstChild;
      }, function (err) {
        ui.showError(errorBox, err);
      });
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ui.isBusy(submit)) return;
      ui.clear(formError);
      var payload = { code: code.value.trim(), title: title.value.trim(), body: body.value };
      var missing = !payload.code ? code : !payload.title ? title : !payload.body.trim() ? body : null;
      if (missing) {
        formError.textContent = "Give a code, a title and the text.";
        missing.focus();
        return;
      }
      var target = editing === null ? "/api/admin/canned" : "/api/admin/canned/" + H.api.enc(editing);
      var restore = ui.busy(submit, "Saving…");
      H.api.post(target, payload).then(function () {
        restore();
        doneBox.textContent = (editing === null ? "Added /" : "Saved /") + payload.code + ".";
        setMode(null);
        code.focus();
        load();
      }, function (err) {
        restore();
        ui.showError(formError, err);
      });
    });

    cancel.addEventListener("click", function () {
      setMode(null);
      code.focus();
    });

    return { load: load };
  }

  H.adminCanned = { create: create };
})();
