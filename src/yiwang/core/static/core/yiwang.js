/* yiwang page behaviour. Loaded in <head> without defer so the large-text preference is
   applied before the first paint; everything else waits for the DOM. No inline scripts
   anywhere (CSP script-src 'self'). */
(function () {
  "use strict";
  var KEY = "yw-large-text";
  var root = document.documentElement;
  function saved() {
    try { return window.localStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }
  function apply(on) {
    root.classList.toggle("yw-large", on);
    document.querySelectorAll("[data-yw-large-toggle]").forEach(function (btn) {
      btn.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }
  root.classList.toggle("yw-large", saved());

  document.addEventListener("DOMContentLoaded", function () {
    apply(saved());
    document.addEventListener("click", function (event) {
      var toggle = event.target.closest("[data-yw-large-toggle]");
      if (toggle) {
        var on = !root.classList.contains("yw-large");
        try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode */ }
        apply(on);
        return;
      }
      var copy = event.target.closest("[data-yw-copy]");
      if (copy) {
        var target = document.getElementById(copy.getAttribute("data-yw-copy"));
        if (target && navigator.clipboard) {
          navigator.clipboard.writeText(target.textContent.trim()).then(function () {
            copy.textContent = copy.getAttribute("data-yw-copied") || copy.textContent;
          });
        }
      }
    });
    // Confirm destructive form submissions (the text comes from the template, translated).
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var question = form.getAttribute && form.getAttribute("data-yw-confirm");
      if (question && !window.confirm(question)) { event.preventDefault(); }
    }, true);
  });

  // After an htmx swap, move focus to the new content's status message so screen-reader
  // and keyboard users learn what happened.
  document.addEventListener("htmx:afterSwap", function (event) {
    var focus = event.detail.target.querySelector("[data-yw-focus]");
    if (focus) { focus.setAttribute("tabindex", "-1"); focus.focus(); }
  });
})();
