// The widget manager (@jupyter-widgets/html-manager 1.x) typesets widget labels through MathJax 2's
// MathJax.Hub.Queue; the book loads MathJax 3, which has no Hub. Give it one that forwards to v3.
(function () {
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
