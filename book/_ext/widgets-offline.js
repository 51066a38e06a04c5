// Loaded before require.js and the widget manager (@jupyter-widgets/html-manager 1.x) on pages with
// widgets, so that they work from the book's own _static folder.
(function () {
  // require.js reads a global `require` object as its configuration. The widget manager finds its
  // fonts beside its own module, whose address require.js builds from baseUrl: make that _static/.
  var here = document.currentScript.src;
  window.require = { baseUrl: here.slice(0, here.lastIndexOf("/") + 1) };

  // The widget manager typesets labels with MathJax 2's MathJax.Hub.Queue; the book loads MathJax 3,
  // which has no Hub. Give it one that forwards to MathJax 3.
  function patch() {
    if (window.MathJax && !window.MathJax.Hub) {
      window.MathJax.Hub = {
        Queue: function () {
          if (window.MathJax.typesetPromise) window.MathJax.typesetPromise();
        },
      };
    }
  }
  patch();
  // Registered before the widget manager's own listener, and after the deferred MathJax has loaded.
  document.addEventListener("DOMContentLoaded", patch);
})();
