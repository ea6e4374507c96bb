// The customer form: company information only for business customers, the shipping address
// only when it differs from the billing one. The server ignores hidden sections the same way.
(function () {
  "use strict";
  var form = document.getElementById("customer-form");
  if (!form) { return; }
  var type = form.querySelector("[name=customer_type]");
  var differs = form.querySelector("[name=shipping_differs]");
  function update() {
    var company = form.querySelector(".js-company");
    if (company && type) { company.classList.toggle("d-none", type.value !== "business"); }
    form.querySelectorAll(".js-shipping-field").forEach(function (element) {
      element.classList.toggle("d-none", !(differs && differs.checked));
    });
  }
  if (type) { type.addEventListener("change", update); }
  if (differs) { differs.addEventListener("change", update); }
  update();
}());
