// The book's own page script (wired in _config.yml: html_static_path tools/static, html_js_files).
(function () {
  "use strict";

  // 1. Menu buttons. pydata-sphinx-theme 0.17 renders two `.primary-toggle` buttons (one in its hidden header bar,
  //    one in sphinx-book-theme's article header) and both themes' scripts bind only the first, hidden one, so the
  //    visible button does nothing (pydata/pydata-sphinx-theme#2451, executablebooks/sphinx-book-theme#988; the same
  //    holds for `.secondary-toggle`). When a visible toggle is clicked and nothing happened (no sidebar dialog
  //    opened, the wide-screen sidebar not collapsed or expanded), forward the click to the button the themes did
  //    bind. Once upstream binds every toggle, the click has its effect and this does nothing.
  function sidebarState() {
    return ["pst-primary-sidebar-modal", "pst-secondary-sidebar-modal", "pst-primary-sidebar", "pst-secondary-sidebar"]
      .map(function (id) {
        var el = document.getElementById(id);
        return el ? String(!!el.open) + el.className : "";
      })
      .join("|");
  }
  document.addEventListener(
    "click",
    function (event) {
      var toggle = event.target.closest && event.target.closest(".primary-toggle, .secondary-toggle");
      if (!toggle) return;
      var kind = toggle.classList.contains("primary-toggle") ? ".primary-toggle" : ".secondary-toggle";
      var bound = document.querySelector(kind);
      if (toggle === bound) return;
      var before = sidebarState();
      setTimeout(function () {
        if (sidebarState() === before) bound.click();
      }, 0);
    },
    true, // capture: note the state before the themes' handlers run
  );

  // 2. Search from disk (file://): the browser refuses to read the result pages, so Sphinx's search cannot show
  //    a snippet under each result (and logs an error per result). There, list the results without snippets and say
  //    why; served over http(s) nothing changes.
  if (location.protocol === "file:") {
    // DOCUMENTATION_OPTIONS is a global `const` (not a window property) of Sphinx's documentation_options.js
    if (typeof DOCUMENTATION_OPTIONS !== "undefined") DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
    document.addEventListener("DOMContentLoaded", function () {
      var results = document.getElementById("search-results");
      if (!results) return;
      var note = document.createElement("p");
      note.className = "file-search-note";
      note.textContent =
        "Opened from disk, search lists matching pages without text snippets. For snippets, serve the site, " +
        "e.g. python -m http.server -d _build/html, and open http://localhost:8000.";
      results.parentNode.insertBefore(note, results);
    });
  }
})();
