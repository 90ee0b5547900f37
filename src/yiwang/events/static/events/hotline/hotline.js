/* The 12345 hotline screen: keyboard shortcuts and place suggestions. The page works
   without it (the classifier and the locator also run on submit). No inline handlers
   (CSP). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("hotline-form");
    if (!form) { return; }

    form.addEventListener("keydown", function (event) {
      // Ctrl+Enter (or ⌘+Enter) registers the call from any field.
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
        return;
      }
      if (!event.altKey || event.ctrlKey || event.metaKey) { return; }
      var digit = /^Digit([1-5])$/.exec(event.code || "");
      if (digit) {
        var radio = form.querySelector("input[name='appeal_type'][data-yw-key='" + digit[1] + "']");
        if (radio) { event.preventDefault(); radio.checked = true; radio.focus(); }
        return;
      }
      if (event.code === "KeyU") {
        var urgent = form.querySelector("input[name='urgent']");
        if (urgent) { event.preventDefault(); urgent.checked = !urgent.checked; urgent.focus(); }
      }
    });

    // A place suggestion fills the address; focus stays on the address to go on typing.
    form.addEventListener("click", function (event) {
      var button = event.target.closest("[data-yw-place]");
      if (!button) { return; }
      var address = form.querySelector("input[name='address']");
      var place = button.getAttribute("data-yw-place");
      if (address.value.indexOf(place) !== 0) {
        address.value = place + address.value.replace(place, "");
      }
      document.getElementById("places").textContent = "";
      address.focus();
    });
  });
})();
