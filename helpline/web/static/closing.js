/*
 * Helpline console: the closing form.
 *
 *   Helpline.closing.create(session, submit) -> {setEnabled(on)}
 *
 * Outcome, who is contacting and the missing type come from the session's
 * vocabularies. The consent question shows the configured wording; only
 * when the answer is yes are the record's fields shown, enabled and sent.
 * submit(body) posts the form and returns a promise.
 */
"use strict";

(function () {
  var H = window.Helpline;
  var ui = H.ui;

  function fill(select, list) {
    ui.vocab(list).forEach(function (item) {
      select.appendChild(ui.el("option", { value: item.code, text: item.label }));
    });
  }

  function create(session, submit) {
    var form = ui.$("close-form");
    var outcome = ui.$("close-outcome");
    var contactType = ui.$("close-contact-type");
    var missingType = ui.$("close-missing-type");
    var consentYes = ui.$("consent-yes");
    var consentNo = ui.$("consent-no");
    var recordSet = ui.$("record-fieldset");
    var fields = {
      name: ui.$("record-name"),
      date_of_birth: ui.$("record-dob"),
      contact_details: ui.$("record-contact"),
      summary: ui.$("record-summary")
    };
    var button = ui.$("close-submit");
    var noFlagBox = ui.$("no-flag-box");
    var noFlagReason = ui.$("no-flag-reason");
    var errorBox = ui.$("close-error");
    var enabled = false;
    var closing = false;

    fill(outcome, session.outcomes);
    fill(contactType, session.contact_types);
    fill(missingType, session.missing_types);
    var wording = typeof session.consent_wording === "string" ? session.consent_wording : "";
    ui.$("consent-wording").textContent = wording || "(No consent wording is configured.)";

    function syncConsent() {
      var yes = consentYes.checked;
      recordSet.hidden = !yes;
      recordSet.disabled = !yes || !enabled;
    }
    consentYes.addEventListener("change", syncConsent);
    consentNo.addEventListener("change", syncConsent);

    function invalid(control, message) {
      control.setAttribute("aria-invalid", "true");
      errorBox.textContent = message;
      control.focus();
      return null;
    }

    function read() {
      Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (node) {
        node.removeAttribute("aria-invalid");
      });
      if (!outcome.value) return invalid(outcome, "Choose an outcome before closing.");
      if (contactType.options.length > 1 && !contactType.value) {
        return invalid(contactType, "Choose who was contacting.");
      }
      if (!consentYes.checked && !consentNo.checked) {
        return invalid(consentYes, "Answer the consent question: did the contact agree to a record being kept?");
      }
      var body = { outcome: outcome.value, consent: consentYes.checked };
      if (contactType.value) body.contact_type = contactType.value;
      if (missingType.value) body.missing_type = missingType.value;
      if (!noFlagBox.hidden) {
        var why = noFlagReason.value.trim();
        if (why.length < 10) {
          return invalid(noFlagReason, "The risk is high and no safeguarding flag was raised: raise one, or say why not.");
        }
        body.no_flag_reason = why;
      }
      if (consentYes.checked) {
        var record = {};
        Object.keys(fields).forEach(function (key) { record[key] = fields[key].value.trim(); });
        if (!record.name && !record.summary) {
          return invalid(fields.name, "With consent, give at least a name or a summary.");
        }
        body.record = record;
      }
      return body;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (closing || !enabled) return;
      ui.clear(errorBox);
      var body = read();
      if (!body) return;
      closing = true;
      var restore = ui.busy(button, "Closing…");
      Promise.resolve().then(function () { return submit(body); }).then(null, function (err) {
        ui.showError(errorBox, err);
        if (err.data && err.data.code === "no_flag_reason_needed") {
          noFlagBox.hidden = false;
          noFlagReason.focus();
        } else if (enabled) outcome.focus();
      }).then(function () {
        closing = false;
        restore();
      });
    });

    return {
      /** A high-risk conversation with no safeguarding flag asks why none is needed. */
      needReason: function (on) {
        if (noFlagBox.hidden === !on) return;
        noFlagBox.hidden = !on;
        noFlagReason.disabled = !on;
      },
      setEnabled: function (on) {
        enabled = on;
        [outcome, contactType, missingType, consentYes, consentNo, noFlagReason, button].forEach(function (control) {
          if (control.disabled === on) control.disabled = !on;
        });
        syncConsent();
      }
    };
  }

  H.closing = { create: create };
})();
