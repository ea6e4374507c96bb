// Small progressive enhancements: confirmation dialogs in the page and live progress bars.
(function () {
  "use strict";

  // A form with data-confirm asks in the page's dialog (#confirm-dialog, a Bootstrap modal whose
  // buttons base.html words in the page's language) and is sent only after "Confirm". Without
  // JavaScript the form is sent as it is, and the pages that must ask ask on a page of their own.
  var dialogElement = document.getElementById("confirm-dialog");
  var confirmed = null;
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (!form || !dialogElement || !window.bootstrap) { return; }
    if (confirmed === form) { confirmed = null; return; }
    event.preventDefault();
    var submitter = event.submitter || null;
    dialogElement.querySelector(".confirm-question").textContent = form.getAttribute("data-confirm");
    var yes = dialogElement.querySelector(".confirm-yes");
    var label = form.getAttribute("data-confirm-label");
    yes.textContent = label || yes.getAttribute("data-default-label");
    var dialog = window.bootstrap.Modal.getOrCreateInstance(dialogElement);
    yes.onclick = function () {
      dialog.hide();
      confirmed = form;
      if (form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
    };
    dialog.show();
  });

  // A part of a form shown only with one choice of another field: data-shown-with="name=value".
  // Without JavaScript it is always shown, and the server ignores it with the other choices.
  document.querySelectorAll("[data-shown-with]").forEach(function (part) {
    var rule = part.getAttribute("data-shown-with").split("=");
    var form = part.closest("form");
    if (!form) { return; }
    function update() {
      var chosen = form.querySelector("[name='" + rule[0] + "']:checked");
      part.classList.toggle("d-none", !chosen || chosen.value !== rule[1]);
    }
    form.querySelectorAll("[name='" + rule[0] + "']").forEach(function (input) {
      input.addEventListener("change", update);
    });
    update();
  });

  // A result that is ready (the import's preview) is brought into view.
  var ready = document.querySelector("[data-scroll-into-view]");
  if (ready) { ready.scrollIntoView({ block: "start" }); }

  // A mail shown as sent (template preview, outbox) grows to its whole height: no scrolling
  // inside the page. Its frame is of our origin and runs no script.
  document.querySelectorAll("iframe.mail-frame").forEach(function (frame) {
    function fit() {
      var body = frame.contentDocument && frame.contentDocument.documentElement;
      if (body) { frame.style.height = (body.scrollHeight + 2) + "px"; }
    }
    frame.addEventListener("load", fit);
    fit();
  });

  // The server writes the figures in the page's language ("45 %", "45%").
  function setBar(block, percent, percentText, text) {
    var bar = block.querySelector(".progress-bar");
    bar.style.width = percent + "%";
    bar.textContent = percentText || percent + " %";
    block.querySelector(".progress").setAttribute("aria-valuenow", percent);
    if (text) { block.querySelector(".progress-text").textContent = text; }
  }

  function poll(block) {
    fetch(block.getAttribute("data-status-url"), { headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        setBar(block, status.percent, status.percent_text, status.text);
        if (status.finished) {
          if (status.reload) { window.location.reload(); }
        } else {
          window.setTimeout(function () { poll(block); }, 1000);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(block); }, 3000); });
  }

  document.querySelectorAll(".progress-block").forEach(function (block) {
    var bar = block.querySelector(".progress-bar");
    bar.style.width = bar.getAttribute("data-percent") + "%";
    if (block.hasAttribute("data-status-url")) { poll(block); }
  });
})();
