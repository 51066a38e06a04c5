// Two repairs on every page of the site (Jupyter Book adds every .js in _static to every page).
(function () {
  "use strict";

  // 1. Sidebar toggles. The themes bind their handlers to the FIRST .primary-toggle / .secondary-toggle
  //    in the page; where that is a hidden copy in the header, the visible buttons did nothing. Forward
  //    their clicks (mouse, Enter, Space) to the bound one, and keep every toggle's aria-expanded true
  //    to what is shown. The theme's drawers (<dialog>) close on Escape and on a backdrop click.
  function wireToggles(kind) {
    var buttons = Array.prototype.slice.call(document.querySelectorAll("." + kind + "-toggle"));
    var sidebar = document.getElementById("pst-" + kind + "-sidebar");
    var dialog = document.getElementById("pst-" + kind + "-sidebar-modal");
    if (!buttons.length || !sidebar) return;
    function sync() {
      var wide = kind === "primary" && window.matchMedia("(min-width: 992px)").matches;
      var open = wide ? !sidebar.classList.contains("pst-sidebar-hidden") : Boolean(dialog && dialog.open);
      buttons.forEach(function (button) { button.setAttribute("aria-expanded", String(open)); });
    }
    var bound = buttons[0];
    buttons.forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (button !== bound) {
          event.preventDefault();
          bound.click();
        }
        window.setTimeout(sync, 0);
      });
    });
    if (dialog) dialog.addEventListener("close", sync);
    // the wide-screen toggle's own handler stops the click's propagation: watch its effect instead
    new MutationObserver(sync).observe(sidebar, {attributes: true, attributeFilter: ["class"]});
    window.matchMedia("(min-width: 992px)").addEventListener("change", sync);
    sync();
  }

  // 2. A widget saved with the page has no kernel behind it on the site: its controls would look live
  //    and do nothing. Make it inert and say that it is a still image.
  function labelStillWidgets() {
    var views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
    Array.prototype.forEach.call(views, function (view) {
      var output = view.parentElement;
      if (!output || output.classList.contains("gnnbook-still")) return;
      output.classList.add("gnnbook-still");
      output.setAttribute("inert", "");
      var note = document.createElement("p");
      note.className = "gnnbook-still-note";
      note.textContent = "Still image: these controls need a running Python kernel. Open this chapter " +
        "in Jupyter or Colab (the rocket button at the top) to move them.";
      output.parentElement.insertBefore(note, output);
    });
  }

  // 3. A box that scrolls sideways (a long code line, a wide table or equation) can be scrolled with
  //    the keyboard too: it takes focus.
  var SCROLLERS = ".bd-article pre, .bd-article table, .bd-article div.math, .bd-article mjx-container, " +
    ".bd-article .cell_output .output, .bd-article .pst-scrollable-table-container";
  function focusableScrollers() {
    Array.prototype.forEach.call(document.querySelectorAll(SCROLLERS), function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 && /auto|scroll/.test(getComputedStyle(box).overflowX);
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.dataset.gnnbookScroller = "";
      } else if (!scrolls && box.dataset.gnnbookScroller !== undefined) {
        box.removeAttribute("tabindex");
        delete box.dataset.gnnbookScroller;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireToggles("primary");
    wireToggles("secondary");
    labelStillWidgets();
    focusableScrollers();
  });
  window.addEventListener("load", focusableScrollers);
  window.addEventListener("resize", focusableScrollers);
  // MathJax typesets after load: check its equations once it is done
  document.addEventListener("DOMContentLoaded", function () {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(focusableScrollers);
  });
})();
