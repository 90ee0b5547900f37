/* Report forms on a phone (grid worker and portal). No inline scripts (CSP).

   - The point picker: tap the SVG map (org boundaries, no tiles) or use the phone's
     position; the place is then named by the server (events:report_place).
   - Photos: big ones are shrunk to 1600 px JPEG before sending (slow networks).
   - The draft: every field but the photos is kept in localStorage until the report is
     registered, with the form's key, so a resend after a lost answer is recognised by
     the server and never registered twice.
   - Sending goes through htmx: upload progress, a clear message when the phone is
     offline (the form keeps everything, tap Send again), errors swapped in place. */
(function () {
  "use strict";

  var DRAFT_DAYS = 7;
  var SHRINK_ABOVE = 700 * 1024;
  var MAX_SIDE = 1600;

  function randomKey() {
    var bytes = new Uint8Array(18);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    var text = "";
    bytes.forEach(function (b) { text += "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[b % 64]; });
    return text;
  }

  // --- the draft ------------------------------------------------------------------------

  function draftName(form) { return "yw-draft:" + form.getAttribute("data-yw-draft"); }

  function keptFields(form) {
    return Array.prototype.filter.call(
      form.querySelectorAll("input[name], textarea[name], select[name]"),
      function (el) { return el.type !== "file" && el.name !== "csrfmiddlewaretoken" && el.name !== "q"; });
  }

  function saveDraft(form) {
    if (!form.hasAttribute("data-yw-draft")) { return; }
    var data = { _at: Date.now() };
    keptFields(form).forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) { data[el.name] = el.value; }
      } else {
        data[el.name] = el.value;
      }
    });
    try { window.localStorage.setItem(draftName(form), JSON.stringify(data)); } catch (e) { /* private mode */ }
  }

  function clearDraft(form) {
    try { window.localStorage.removeItem(draftName(form)); } catch (e) { /* private mode */ }
  }

  function readDraft(form) {
    var data = null;
    try { data = JSON.parse(window.localStorage.getItem(draftName(form)) || "null"); } catch (e) { data = null; }
    if (!data || !data._at || Date.now() - data._at > DRAFT_DAYS * 86400000) { return null; }
    return data;
  }

  function restoreDraft(form) {
    // A page the server re-rendered with the sent data (errors) is newer than the draft.
    if (form.querySelector(".yw-error-summary")) { return false; }
    var data = readDraft(form);
    if (!data) { return false; }
    var meaningful = false;
    keptFields(form).forEach(function (el) {
      if (!Object.prototype.hasOwnProperty.call(data, el.name)) { return; }
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = el.value === data[el.name];
      } else {
        if (el.name !== "key" && data[el.name] && el.value !== data[el.name] && el.type !== "hidden") { meaningful = true; }
        if (el.name === "lat" && data[el.name]) { meaningful = true; }
        el.value = data[el.name];
      }
    });
    return meaningful;
  }

  function resetForm(form) {
    clearDraft(form);
    form.reset();
    keptFields(form).forEach(function (el) {
      if (el.type === "hidden" && (el.name === "lat" || el.name === "lon" || el.name === "category")) { el.value = ""; }
    });
    var key = form.querySelector("input[name=key]");
    if (key) { key.value = randomKey(); }
    form.querySelectorAll("[data-yw-photo-list]").forEach(function (list) { list.textContent = ""; });
    var pin = form.querySelector("[data-yw-pin]");
    if (pin) { pin.setAttribute("hidden", ""); }
    toggleOnSpot(form);
  }

  // --- the point picker -----------------------------------------------------------------

  function initPicker(form) {
    var pick = form.querySelector("[data-yw-pick]");
    if (!pick) { return; }
    var lat = form.querySelector("input[name=lat]");
    var lon = form.querySelector("input[name=lon]");
    var svg = pick.querySelector("[data-yw-pick-map]");
    var pin = pick.querySelector("[data-yw-pin]");
    var words = pick.querySelector("[data-yw-place]");
    var minLon = parseFloat(pick.getAttribute("data-min-lon"));
    var maxLat = parseFloat(pick.getAttribute("data-max-lat"));
    var scale = parseFloat(pick.getAttribute("data-scale"));
    var cos = parseFloat(pick.getAttribute("data-cos"));

    function showPin(lo, la) {
      if (!svg || !pin || isNaN(scale)) { return; }
      var x = (lo - minLon) * cos * scale;
      var y = (maxLat - la) * scale;
      var box = svg.viewBox.baseVal;
      if (x < 0 || y < 0 || x > box.width || y > box.height) { pin.setAttribute("hidden", ""); return; }
      pin.setAttribute("transform", "translate(" + x.toFixed(1) + " " + y.toFixed(1) + ")");
      pin.removeAttribute("hidden");
    }

    function describe(la, lo) {
      words.textContent = la.toFixed(5) + ", " + lo.toFixed(5);
      if (navigator.onLine === false) { words.textContent = pick.getAttribute("data-msg-offline"); return; }
      var url = pick.getAttribute("data-place-url") + "?lat=" + encodeURIComponent(la.toFixed(6)) +
        "&lon=" + encodeURIComponent(lo.toFixed(6));
      window.fetch(url, { credentials: "same-origin" }).then(function (response) {
        return response.text();
      }).then(function (html) {
        words.innerHTML = html;  // rendered (and escaped) by our own server
      }).catch(function () {
        words.textContent = pick.getAttribute("data-msg-offline");
      });
    }

    function place(la, lo) {
      lat.value = la.toFixed(6);
      lon.value = lo.toFixed(6);
      showPin(lo, la);
      describe(la, lo);
      saveDraft(form);
    }

    if (lat.value && lon.value) {
      showPin(parseFloat(lon.value), parseFloat(lat.value));
      if (!form.hasAttribute("data-yw-described")) {
        form.setAttribute("data-yw-described", "");
        describe(parseFloat(lat.value), parseFloat(lon.value));
      }
    }

    if (svg) {
      svg.addEventListener("click", function (event) {
        var matrix = svg.getScreenCTM();
        if (!matrix) { return; }
        var point = svg.createSVGPoint();
        point.x = event.clientX;
        point.y = event.clientY;
        var p = point.matrixTransform(matrix.inverse());
        place(maxLat - p.y / scale, minLon + p.x / (cos * scale));
      });
    }

    var locate = pick.querySelector("[data-yw-locate]");
    if (locate) {
      locate.addEventListener("click", function () {
        if (!navigator.geolocation) { words.textContent = pick.getAttribute("data-msg-unsupported"); return; }
        words.textContent = pick.getAttribute("data-msg-locating");
        locate.disabled = true;
        navigator.geolocation.getCurrentPosition(function (position) {
          locate.disabled = false;
          place(position.coords.latitude, position.coords.longitude);
        }, function (error) {
          locate.disabled = false;
          words.textContent = pick.getAttribute(error.code === 1 ? "data-msg-denied" : "data-msg-failed");
        }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
      });
    }
  }

  // --- photos ---------------------------------------------------------------------------

  function shrink(file) {
    return new Promise(function (resolve) {
      if (!/^image\/(jpeg|png)$/.test(file.type) || file.size < SHRINK_ABOVE ||
          !window.createImageBitmap || !window.DataTransfer) {
        resolve(file);
        return;
      }
      window.createImageBitmap(file).then(function (bitmap) {
        var k = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * k);
        canvas.height = Math.round(bitmap.height * k);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg", lastModified: Date.now() }));
        }, "image/jpeg", 0.82);
      }).catch(function () { resolve(file); });
    });
  }

  function listPhotos(input) {
    var list = input.parentNode.querySelector("[data-yw-photo-list]");
    if (!list) { return; }
    list.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var item = document.createElement("li");
      if (/^image\//.test(file.type)) {
        var img = document.createElement("img");
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        item.appendChild(img);
      }
      var size = document.createElement("span");
      size.textContent = Math.max(1, Math.round(file.size / 1024)) + " KB";
      item.appendChild(size);
      list.appendChild(item);
    });
  }

  function initPhotos(form) {
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files || []);
        var submit = form.querySelector("button[type=submit]");
        if (submit) { submit.disabled = true; }
        Promise.all(files.map(shrink)).then(function (smaller) {
          if (window.DataTransfer && smaller.some(function (f, i) { return f !== files[i]; })) {
            var transfer = new DataTransfer();
            smaller.forEach(function (f) { transfer.items.add(f); });
            input.files = transfer.files;
          }
          listPhotos(input);
        }).finally(function () { if (submit) { submit.disabled = false; } });
      });
    });
  }

  // --- 自处置 ----------------------------------------------------------------------------

  function toggleOnSpot(form) {
    var block = form.querySelector("[data-yw-onspot]");
    if (!block) { return; }
    var chosen = form.querySelector("input[name=outcome]:checked");
    block.hidden = !(chosen && chosen.value === "on_spot");
  }

  // --- sending --------------------------------------------------------------------------

  function status(form, text, offline) {
    var box = form.querySelector("[data-yw-send-status]");
    if (!box) { return; }
    box.textContent = text || "";
    box.classList.toggle("is-offline", !!offline);
  }

  function initSending(form) {
    form.addEventListener("htmx:beforeRequest", function (event) {
      if (event.target !== form) { return; }
      saveDraft(form);
      if (navigator.onLine === false) {
        event.preventDefault();
        status(form, form.getAttribute("data-msg-offline"), true);
        return;
      }
      status(form, form.getAttribute("data-msg-sending"), false);
    });
    form.addEventListener("htmx:xhr:progress", function (event) {
      var detail = event.detail || {};
      if (detail.lengthComputable && detail.total) {
        var percent = Math.round(100 * detail.loaded / detail.total);
        status(form, form.getAttribute("data-msg-progress").replace("%(percent)s", percent + "%"), false);
      }
    });
    ["htmx:sendError", "htmx:timeout"].forEach(function (name) {
      form.addEventListener(name, function () {
        status(form, form.getAttribute("data-msg-offline"), true);
      });
    });
    form.addEventListener("htmx:afterRequest", function (event) {
      if (event.target !== form) { return; }
      var xhr = event.detail && event.detail.xhr;
      if (xhr && xhr.status >= 200 && xhr.status < 300 && xhr.getResponseHeader("HX-Redirect")) {
        clearDraft(form);
      }
    });
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.type === "search") { event.preventDefault(); }
    });
    form.addEventListener("input", function () { saveDraft(form); });
    form.addEventListener("change", function (event) {
      if (event.target.name === "outcome") { toggleOnSpot(form); }
      saveDraft(form);
    });
  }

  // A 400 answer is the form with its errors: show it in place of the old one.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function init(root) {
    (root || document).querySelectorAll("form[data-yw-report]").forEach(function (form) {
      if (form.hasAttribute("data-yw-ready")) { return; }
      form.setAttribute("data-yw-ready", "");
      var note = document.querySelector("[data-yw-draft-note]");
      if (restoreDraft(form) && note) {
        note.hidden = false;
        var reset = note.querySelector("[data-yw-draft-reset]");
        if (reset) {
          reset.addEventListener("click", function () {
            resetForm(form);
            note.hidden = true;
            var words = form.querySelector("[data-yw-place]");
            if (words) { words.textContent = ""; }
          });
        }
      }
      initPicker(form);
      initPhotos(form);
      initSending(form);
      toggleOnSpot(form);
      var error = document.querySelector(".yw-error-summary");
      if (error) { error.focus(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function () { init(document); });
})();
