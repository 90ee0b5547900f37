// Catalog management: "add a row" for the repeatable lists of a draft (steps, places,
// FAQ, materials). Without JS the page still offers one blank row per list.
(function () {
  "use strict";
  function addRow(prefix) {
    var template = document.getElementById(prefix + "-template");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var target = document.getElementById(prefix + "-rows");
    if (!template || !total || !target) { return; }
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index))
      .replace(/__num__/g, String(index + 1));
    var holder = document.createElement(target.tagName === "TBODY" ? "tbody" : "div");
    holder.innerHTML = html.trim();
    var added = [];
    while (holder.firstElementChild) {
      added.push(holder.firstElementChild);
      target.appendChild(holder.firstElementChild);
    }
    total.value = String(index + 1);
    var first = added.length ? added[0].querySelector("input:not([type=hidden]), textarea, select") : null;
    if (first) { first.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-yw-add-row]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { addRow(button.getAttribute("data-yw-add-row")); });
    });
  });
})();
