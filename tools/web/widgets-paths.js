// Loaded between require.js and the widget manager: requirejs resolves the manager's own files (its icon fonts)
// under this site's _static/widgets/, whatever the depth of the page.
(function () {
  var root = document.documentElement.dataset.content_root || "./";
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": root + "_static/widgets" } });
})();
