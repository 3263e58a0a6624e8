// Runs after Sphinx's `window.MathJax = {...}` and before the deferred MathJax script. A page opened from disk
// (file://) may not start MathJax's speech worker, so there MathJax adds hidden MathML for screen readers instead.
(function () {
  if (location.protocol !== "file:" || !window.MathJax) return;
  var options = (window.MathJax.options = window.MathJax.options || {});
  options.menuOptions = { settings: { enrich: false, speech: false, braille: false, assistiveMml: true } };
})();
