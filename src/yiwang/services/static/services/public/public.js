/* Public catalog pages: the print button of the printable 办事指南. No inline scripts
   (CSP script-src 'self'). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-yw-print]")) { window.print(); }
  });
})();
