// Warden console: progressive enhancements only. Every page works without this script.
//  - live validation of policy and boundary texts (the server renders each diagnostic at its line);
//  - the service-user handle preview while a name is typed.
"use strict";

(function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // Live validation: <textarea data-check="policy|boundary" data-target="ID">.
  document.querySelectorAll("textarea[data-check]").forEach(function (area) {
    var target = document.getElementById(area.getAttribute("data-target"));
    if (!target) return;
    var sequence = 0;
    var run = debounce(function () {
      var mine = ++sequence;
      var body = new URLSearchParams();
      body.set("csrf", csrf);
      body.set("kind", area.getAttribute("data-check"));
      body.set("text", area.value);
      target.setAttribute("aria-busy", "true");
      fetch("/console/check", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString()
      })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html === null || mine !== sequence) return;
          // Markup rendered and escaped by the server.
          target.innerHTML = html;
          var invalid = target.querySelector("[data-errors]");
          area.setAttribute("aria-invalid", invalid && invalid.getAttribute("data-errors") !== "0" ? "true" : "false");
        })
        .catch(function () {})
        .finally(function () {
          if (mine === sequence) target.removeAttribute("aria-busy");
        });
    }, 350);
    area.addEventListener("input", run);
  });

  // Handle preview: <input data-handle-preview="ID">.
  document.querySelectorAll("input[data-handle-preview]").forEach(function (input) {
    var target = document.getElementById(input.getAttribute("data-handle-preview"));
    if (!target) return;
    var sequence = 0;
    var run = debounce(function () {
      var mine = ++sequence;
      fetch("/console/service-users/handle?name=" + encodeURIComponent(input.value), {
        credentials: "same-origin"
      })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (text) {
          if (text !== null && mine === sequence) target.textContent = text;
        })
        .catch(function () {});
    }, 200);
    input.addEventListener("input", run);
  });
})();
