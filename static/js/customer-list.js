// The customer list: "select all on this page".
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) { return; }
  all.addEventListener("change", function () {
    document.querySelectorAll("#customer-table input[name=ids]").forEach(function (box) {
      box.checked = all.checked;
    });
  });
}());
