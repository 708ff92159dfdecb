/* Helpline console: one consented contact record (each read is audited by the server). */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;
  var $ = ui.$;

  function readIdFromPath() {
    var match = /^\/console\/records\/([^\/]+)\/?$/.exec(window.location.pathname);
    if (!match) return null;
    try { return decodeURIComponent(match[1]); } catch (e) { return null; }
  }

  function text(id, value, fallback) {
    $(id).textContent = value ? String(value) : fallback || "Not given";
  }

  function render(record) {
    text("record-name", record.name);
    text("record-dob", record.date_of_birth);
    text("record-contact", record.contact_details);
    text("record-summary", record.summary);
    text("record-consent", record.consent_wording);
    $("record-consented-at").replaceChildren(ui.timeElement(record.consented_at, ui.fullDate(record.consented_at)));
    text("record-created-by", record.created_by, "Unknown");
    var list = $("record-conversations");
    list.replaceChildren();
    (Array.isArray(record.conversations) ? record.conversations : []).forEach(function (id, index) {
      list.appendChild(ui.el("li", null, ui.el("a", {
        href: H.api.conversationPage(id),
        text: "Conversation " + (index + 1)
      })));
    });
    if (!list.firstChild) list.appendChild(ui.el("li", { text: "None." }));
    $("record").hidden = false;
  }

  var id = readIdFromPath();
  H.page.start(function () {
    if (id === null) {
      $("record-loading").hidden = true;
      $("page-error").textContent = "This is not a record address.";
      return;
    }
    return H.api.get(H.api.recordPath(id)).then(function (record) {
      $("record-loading").hidden = true;
      render(record);
    }, function (err) {
      $("record-loading").hidden = true;
      ui.showError($("page-error"), err);
    });
  });
})();
