// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // "Copy citation": shown only where the Clipboard API exists.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value || source.textContent).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });
  // Search options apply when the reader submits the form (Enter or the Search
  // button), never on "change": one ArrowDown on a select would reload the page
  // (WCAG 3.2.2).
})();
