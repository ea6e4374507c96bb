// Small progressive enhancements: confirmation dialogs and live progress bars.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
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
