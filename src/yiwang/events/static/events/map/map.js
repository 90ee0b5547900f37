/* The events map: htmx swaps the map region on every move (hx-boost for the HTML links,
   hx-get on the SVG links, which hx-boost leaves alone). The links replaced by a swap
   took the keyboard focus with them: give it to the list just opened, or to the map,
   so a keyboard or screen-reader user carries on where they were. No inline script. */
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function () {
    var region = document.getElementById("yw-map-region");
    if (!region || (document.activeElement && document.activeElement !== document.body)) {
      return;
    }
    var target = document.getElementById("map-list") || region.querySelector(".yw-emap__svg");
    if (target) {
      target.setAttribute("tabindex", "-1");
      target.focus();
    }
  });
})();
